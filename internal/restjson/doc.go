// Package restjson is the REST gateway's JSON marshaler (a
// grpc-gateway runtime.Marshaler).
//
// # Why it exists
//
// The REST API answers with protojson using proto field names and every
// field written out (runtime.JSONPb with UseProtoNames and
// EmitUnpopulated). protojson walks each message through protoreflect,
// boxes every field into a protoreflect.Value, sorts fields and map keys
// through closures and grows its output buffer, which JSONPb then copies
// once more. Profiles of get record put that at ~9% of the gateway's CPU,
// and much more for a page of 100 records whose properties are
// google.protobuf.Struct values.
//
// Marshaler writes the hot response messages (get, create, update, list
// and search records; list, get, create and update properties; get object)
// and the google.protobuf.Struct, Value, ListValue and Timestamp inside
// them by hand, appending into a pooled buffer, and returns one copy of
// exactly the encoded size. A page's records carry their properties in
// their unknown fields (internal/structwire), which protojson would
// ignore: in JSON form (the provider's JSON object, which the unified
// service writes for REST calls, asked for by the REST facade with
// structwire.WithJSONFields) or in protobuf wire form (for gRPC calls,
// and from any other producer). The encoder reads both (jsonform.go,
// wire.go) and writes what protojson writes once the bytes are merged
// into the record. Everything else — other messages, non-proto values,
// Unmarshal, NewDecoder, NewEncoder, ContentType, Delimiter — is
// runtime.JSONPb with the same options.
//
// # How equivalence with protojson is kept
//
//   - Fallback: the fast path never produces an error of its own. Where
//     protojson fails (invalid UTF-8 in a string or Struct key, a NaN or
//     infinite number in a Value, a Value with no kind, a Timestamp out of
//     range) or where its output is unusual (a nil element in a repeated
//     message field, a nil oneof wrapper, a nil top-level message), the
//     encoder gives up and the same message is marshalled by runtime.JSONPb,
//     so the caller sees protojson's own output or error. A record-bearing
//     answer is first copied with its unknown fields merged into its known
//     ones (structwire.MergeUnknown), so spliced properties are not
//     lost; unknown fields that cannot be merged (bytes that do not
//     parse, JSON form that is not a JSON object) are an error, not an
//     answer without them. The fast path also gives up on wire-form
//     properties not in structwire's form (keys out of order or repeated,
//     other fields) and on JSON form that structwire.Writer would refuse
//     (invalid JSON, numbers out of range, very deep nesting).
//   - Layout check: New compares the generated descriptors with the fields
//     the writers emit (names, order, kinds, presence). If a proto change
//     makes them differ, New logs ErrLayout and the fast path is off, so a
//     new field can never be silently dropped; TestLayouts fails on such a
//     change so the writers get updated.
//   - Tests: table tests of edge cases, and FuzzMarshal, which builds
//     messages from fuzz input (arbitrary strings, float bit patterns,
//     timestamps, nested Structs, nil pieces) and requires the same
//     success or failure as runtime.JSONPb and, on success, the same JSON
//     once both are compacted (protojson deliberately inserts random
//     spaces, so outputs are compared without insignificant whitespace:
//     same keys in the same order, same number and string literals).
package restjson
