package apierr

import (
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
)

type protoDetail = protoadapt.MessageV1

func info(reason, origin string, md map[string]string) *errdetails.ErrorInfo {
	m := map[string]string{"origin": origin}
	for k, v := range md {
		m[k] = v
	}
	return &errdetails.ErrorInfo{Reason: reason, Domain: Domain, Metadata: m}
}

func build(code codes.Code, msg string, details ...protoDetail) error {
	st := status.New(code, msg)
	if len(details) > 0 {
		if withDetails, err := st.WithDetails(details...); err == nil {
			st = withDetails
		}
	}
	return st.Err()
}
