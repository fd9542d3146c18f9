// Package grpccodec is the gRPC server's codec: grpc-go's proto codec
// with a hand-written encoder for the answers that carry records.
//
// # Why it exists
//
// ListRecords answers 100 records, each with a google.protobuf.Struct of
// about ten properties (strings, numbers, a {currency, value} Struct,
// lists of strings). grpc-go's proto codec marshals that with
// proto.Size and then proto.Marshal: two passes, each walking every
// Struct's fields map through reflection (reflect.Value map iterators,
// an allocation per entry). Profiles put it at 42% of the gateway's CPU
// for the call; BenchmarkMarshalListPage measured 460-580 µs and 2,401
// allocations for a 100-record page, against 70-75 µs and 1 allocation
// for this package's encoder (1.7-1.9 ms and 9,001 allocations against
// ~270 µs and 3 with raw_data).
//
// Codec (a grpc-go encoding.CodecV2 named "proto", installed with
// grpc.ForceServerCodecV2) writes ListRecords, SearchRecords,
// StreamRecords, GetRecord, CreateRecord and UpdateRecord answers, and the
// Record, Struct, Value, ListValue and Timestamp messages in them, by
// hand: one pass, length prefixes reserved and patched afterwards (a body
// is moved only when its length needs more or fewer bytes than guessed),
// into 16 KiB chunks from grpc-go's default buffer pool, returned as a
// mem.BufferSlice that the transport frees once written. (grpc-go's codec
// asks the pool for one buffer of the whole size, which for a page lands
// in the pool's 1 MiB tier, cleared on every Get.) Every other message,
// and Unmarshal, is grpc-go's registered proto codec.
//
// # How equivalence with proto.Marshal is kept
//
// The bytes are proto.Marshal's, map entries aside (their order is
// unspecified, and random in proto.Marshal too). Unknown fields are
// written as protobuf-go writes them, verbatim after a message's known
// fields: that is how a page's records carry properties the unified
// service wrote in wire form from the provider's JSON (internal/structwire),
// which the encoder then copies instead of walking Structs (~8 µs for a
// page of 100 records, BenchmarkMarshalListPage/fast_spliced). The rules, checked
// against protobuf-go's internal/impl coders: implicit-presence scalars
// and strings are omitted when zero; a message field is written iff
// non-nil, an empty one as tag + length 0; a nil element of a repeated
// message field is an empty message; a set oneof member is written even
// at its zero value (0, -0, "", false, NULL_VALUE), a Value with no kind
// or a nil oneof wrapper writes nothing, a wrapper holding a nil Struct or
// ListValue an empty one; a map entry always carries its key and value,
// even "" and nil; negative int32s (nanos, enums) are sign-extended
// ten-byte varints; Timestamps are not range-checked.
//
//   - Fallback: where the encoder cannot be sure to match, it gives up
//     (returning the pooled buffers it took) and the message goes to
//     grpc-go's codec, so the result and errors are protobuf-go's: any
//     string that is not valid UTF-8 (proto.Marshal fails on it for
//     proto3 strings and map keys). Unknown fields are bytes that
//     proto.Marshal does not check either.
//   - Layout check: New compares the generated descriptors with the
//     fields the encoder writes (numbers, names, kinds, cardinality). If a
//     proto change makes them differ, New logs why and every message goes
//     to grpc-go's codec, so a new field is never silently dropped;
//     TestLayouts fails on such a change so the encoder gets updated.
//   - Tests compare with proto.MarshalOptions{Deterministic: true} byte
//     for byte (the encoder has an unexported sorted-keys mode for that),
//     and in map order by size and by decoding: table tests of the edge
//     cases above, and FuzzMarshal, which decodes fuzz input into each of
//     the six answers and plants unknown fields or invalid UTF-8 anywhere
//     in it; and a page whose records carry spliced properties.
package grpccodec
