package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// tsClientDir is the TypeScript client (client/typescript), generated from
// the OpenAPI document; scripts/test.sh installs its node_modules.
var tsClientDir = filepath.Join("..", "..", "client", "typescript")

// TestTypeScriptClient builds the TypeScript client (tsc) and runs its
// node:test suite (client/typescript/test) against this real server stack:
// the generated types must compile and the calls must answer as they say.
// Without node or the client's node_modules it skips, except under CI=true.
func TestTypeScriptClient(t *testing.T) {
	fail := t.Skipf
	if os.Getenv("CI") == "true" {
		fail = t.Fatalf
	}
	node, err := exec.LookPath("node")
	if err != nil {
		fail("node is not on PATH: the TypeScript client test needs Node.js >= 18 (%v)", err)
		return
	}
	tsc := filepath.Join(tsClientDir, "node_modules", "typescript", "bin", "tsc")
	if _, err := os.Stat(tsc); err != nil {
		fail("the TypeScript client's packages are not installed: run `npm ci` in client/typescript (%v)", err)
		return
	}

	e := newEnv(t, gwOptions{}, 7)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	build := exec.CommandContext(ctx, node, filepath.Join("node_modules", "typescript", "bin", "tsc"), "-p", ".")
	build.Dir = tsClientDir
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("tsc (the client does not compile against the generated types): %v\n%s", err, out)
	}

	run := exec.CommandContext(ctx, node, "--test", "test/")
	run.Dir = tsClientDir
	run.Env = append(os.Environ(),
		"CRMGATE_URL="+e.g.httpURL,
		"CRMGATE_API_KEY="+e.tn.key,
		"CRMGATE_CONNECTION_ID="+e.tn.connID,
	)
	out, err := run.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test (client/typescript/test): %v\n%s", err, out)
	}
	t.Logf("node --test:\n%s", out)
}
