package client

import (
	"os"
	"strings"
	"testing"
)

// TestModuleDependencies: the client and the stubs' modules require only
// gRPC, protobuf, genproto, vtprotobuf (the stubs' generated marshalling
// code, a dependency-free library) and what those need (golang.org/x), so
// `go get github.com/crmgate/crmgate/client` brings in no server
// dependency.
func TestModuleDependencies(t *testing.T) {
	allowed := []string{"google.golang.org/grpc", "google.golang.org/protobuf", "google.golang.org/genproto/", "golang.org/x/", "github.com/planetscale/vtprotobuf", "github.com/crmgate/crmgate/gen/crmgate"}
	for _, file := range []string{"go.mod", "../gen/crmgate/go.mod"} {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		inRequire := false
		for _, line := range strings.Split(string(data), "\n") {
			line = strings.TrimSpace(line)
			var mod string
			switch {
			case line == "require (":
				inRequire = true
				continue
			case inRequire && line == ")":
				inRequire = false
				continue
			case inRequire && line != "" && !strings.HasPrefix(line, "//"):
				mod = strings.Fields(line)[0]
			case strings.HasPrefix(line, "require ") && !strings.HasSuffix(line, "("):
				mod = strings.Fields(line)[1]
			default:
				continue
			}
			ok := false
			for _, a := range allowed {
				if mod == a || strings.HasPrefix(mod, a) {
					ok = true
				}
			}
			if !ok {
				t.Errorf("%s requires %s: the client's modules depend only on gRPC, protobuf, genproto and vtprotobuf", file, mod)
			}
		}
	}
}
