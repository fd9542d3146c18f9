package protolayout_test

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/crmgate/crmgate/internal/protolayout"
)

func name(fd protoreflect.FieldDescriptor) string {
	return fd.TextName() + " " + fd.Kind().String()
}

func TestCheck(t *testing.T) {
	ts := &timestamppb.Timestamp{}
	cases := []struct {
		name    string
		layouts []protolayout.Layout
		wantErr string
	}{
		{"match", []protolayout.Layout{{Message: ts, Fields: []string{"seconds int64", "nanos int32"}}}, ""},
		{"none", nil, ""},
		{"field missing from the encoder", []protolayout.Layout{{Message: ts, Fields: []string{"seconds int64"}}}, "google.protobuf.Timestamp has"},
		{"field of another kind", []protolayout.Layout{{Message: ts, Fields: []string{"seconds int64", "nanos int64"}}}, "the encoder writes"},
		{"fields in another order", []protolayout.Layout{{Message: ts, Fields: []string{"nanos int32", "seconds int64"}}}, "google.protobuf.Timestamp"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := protolayout.Check(tc.layouts, name)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Check = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Check = %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}
