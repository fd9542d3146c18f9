module github.com/crmgate/crmgate/client

go 1.26.0

require (
	github.com/crmgate/crmgate/gen/crmgate v0.0.0-00010101000000-000000000000
	google.golang.org/genproto/googleapis/rpc v0.0.0-20260928230214-8a89bd6388cc
	google.golang.org/grpc v1.84.0
	google.golang.org/protobuf v1.36.12
)

require (
	github.com/planetscale/vtprotobuf v0.6.1-0.20250313105119-ba97887b0a25 // indirect
	golang.org/x/net v0.57.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
	golang.org/x/text v0.40.0 // indirect
	google.golang.org/genproto/googleapis/api v0.0.0-20260928230214-8a89bd6388cc // indirect
)

// For work in this repository: the stubs from the checkout. A consumer's
// build ignores replace directives and uses the required version (a
// release tags gen/crmgate/vX.Y.Z and client/vX.Y.Z together; see README).
replace github.com/crmgate/crmgate/gen/crmgate => ../gen/crmgate
