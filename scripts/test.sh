#!/usr/bin/env bash
# The one test command (README, .ci/run): installs only what is missing (and
# says what it installs), starts Redis and PostgreSQL if they are not
# running, lints, checks generated code for drift, and runs the whole test
# suite with the race detector against real Redis and PostgreSQL.
#
#   scripts/test.sh                  everything
#   SKIP_LINT=1 scripts/test.sh      tests only
#   FUZZTIME=0 scripts/test.sh       no fuzzing beyond the seed corpora
#   CHROMIUM_PATH=/path/to/chrome    the browser for the connect-page test
#
# System packages (Debian: chromium, redis-server, postgresql) are installed
# only when the tool is missing, with apt-get, announced first. Where apt-get
# is absent the step says so and goes on: outside CI the tests that need the
# missing piece skip with a message; under CI=true they fail.
#
# Tool binaries are built once per pinned version into a cache
# (CRMGATE_TOOLS_DIR, default ~/.cache/crmgate-tools/<tool>-<version>) and
# reused by every later run and clone on the machine; the protoc plugins are
# `go tool` dependencies of go.mod, so their versions are go.mod's and Go's
# build cache keeps their binaries.
set -euo pipefail
cd "$(dirname "$0")/.."

GOLANGCI_VERSION=v2.15.0
TOOLS_DIR="${CRMGATE_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/crmgate-tools}"
step() { printf '\n==> %s  [%ss]\n' "$*" "$SECONDS"; }
note() { printf '    %s\n' "$*"; }
in_ci() { [ "${CI:-}" = "true" ]; }

# apt_install PKG WHY: install one Debian package, announced; where apt-get
# is missing (or we are not root) say so, and fail only under CI.
apt_install() {
  local pkg=$1 why=$2
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    note "installing Debian package '$pkg' ($why): apt-get install --no-install-recommends $pkg"
    if [ -z "${APT_UPDATED:-}" ]; then apt-get update -qq; APT_UPDATED=1; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null
    return 0
  fi
  if in_ci; then
    echo "'$pkg' is required under CI=true ($why) and cannot be installed here (no apt-get, or not root)"
    exit 1
  fi
  note "skipping: '$pkg' is missing and apt-get is not available (or not root); $why will be skipped"
  return 1
}

# Start the slow, CPU-bound build of the pinned golangci-lint in the
# background while the network-bound steps run; lint waits for it.
GOLANGCI="$TOOLS_DIR/golangci-lint-$GOLANGCI_VERSION/golangci-lint"
lint_build_pid=
if [ -z "${SKIP_LINT:-}" ] && [ ! -x "$GOLANGCI" ]; then
  step "golangci-lint $GOLANGCI_VERSION is not cached: building it once into $(dirname "$GOLANGCI") (background)"
  mkdir -p "$(dirname "$GOLANGCI")"
  (GOBIN="$(dirname "$GOLANGCI")" go install "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$GOLANGCI_VERSION" \
    >"$TOOLS_DIR/golangci-lint-build.log" 2>&1) &
  lint_build_pid=$!
fi

step "Go modules (the gateway; the Go client and the stubs are modules of their own: client/, gen/crmgate/)"
go mod download
(cd client && go mod download)

step "node packages (buf, googleapis protos, GHL SDK for the fake's contract test, TypeScript client)"
command -v npm >/dev/null || { echo "npm is required (Node.js >= 18): install Node.js"; exit 1; }
# npm ci refuses lockfiles with per-platform optional deps (buf's binaries) on npm 11;
# npm install with the committed lockfile installs the same versions.
if [ -x node_modules/.bin/buf ] && [ -d node_modules/google-proto-files ]; then
  note "node_modules present"
else
  note "installing the committed package-lock.json's packages into ./node_modules"
  npm install --no-audit --no-fund --loglevel=error
fi
if [ -d internal/providers/ghl/ghlfake/sdktest/node_modules/@gohighlevel/api-client ]; then
  note "HighLevel SDK present"
else
  note "installing @gohighlevel/api-client into internal/providers/ghl/ghlfake/sdktest/node_modules"
  (cd internal/providers/ghl/ghlfake/sdktest && npm ci --no-audit --no-fund --loglevel=error)
fi

if [ -d client/typescript/node_modules/openapi-fetch ] && [ -d client/typescript/node_modules/typescript ]; then
  note "TypeScript client's packages present"
else
  note "installing the TypeScript client's packages (openapi-fetch, openapi-typescript, typescript) into client/typescript/node_modules"
  (cd client/typescript && npm ci --no-audit --no-fund --loglevel=error)
fi

step "chromium (headless browser for the connect-page test)"
if [ -n "${CHROMIUM_PATH:-}" ]; then
  [ -x "$CHROMIUM_PATH" ] || { echo "CHROMIUM_PATH=$CHROMIUM_PATH is not an executable"; exit 1; }
  note "using CHROMIUM_PATH=$CHROMIUM_PATH"
elif command -v chromium >/dev/null || command -v chromium-browser >/dev/null || command -v google-chrome >/dev/null; then
  note "found $(command -v chromium || command -v chromium-browser || command -v google-chrome)"
else
  apt_install chromium "the connect-page browser test" || true
fi

step "services: Redis 127.0.0.1:6379 and PostgreSQL 127.0.0.1:5432"
if redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  note "Redis answers"
elif command -v redis-server >/dev/null || apt_install redis-server "tests against real Redis"; then
  note "starting redis-server (no persistence) on 127.0.0.1:6379"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 50); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 0.1; done
fi
if pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  note "PostgreSQL answers"
elif command -v pg_ctlcluster >/dev/null || apt_install postgresql "tests against real PostgreSQL"; then
  note "starting the PostgreSQL cluster"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  for _ in $(seq 100); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 0.2; done
fi
if pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  psql "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable" -tAc "SELECT 1 FROM pg_database WHERE datname='test'" | grep -q 1 ||
    { note "creating database 'test'"; psql "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable" -c "CREATE DATABASE test" >/dev/null; }
fi

if [ -z "${SKIP_LINT:-}" ]; then
  step "gofmt"
  unformatted=$(gofmt -l $(git ls-files '*.go' | grep -v '^gen/') || true)
  [ -z "$unformatted" ] || { echo "gofmt needed:"; echo "$unformatted"; exit 1; }

  step "buf lint, buf format"
  npx --no-install buf lint proto
  npx --no-install buf format -d --exit-code proto

  # The OpenAPI document is validated by go test ./gen/openapi (kin-openapi:
  # schema, refs, examples; every REST route documented).
  step "generated code is reproducible"
  # The generators are go.mod's tools, at the runtime libraries' versions;
  # built first, so buf's plugin timeout never covers their compilation.
  go build tool
  npx --no-install buf generate
  go generate ./gen/openapi
  if [ -n "$(git status --porcelain -- gen)" ]; then
    echo "generated code drifted from the protos; run 'npx buf generate' and commit:"
    git status --porcelain -- gen; git diff --stat -- gen
    exit 1
  fi

  step "golangci-lint $GOLANGCI_VERSION (includes go vet)"
  if [ -n "$lint_build_pid" ]; then
    wait "$lint_build_pid" || { cat "$TOOLS_DIR/golangci-lint-build.log"; exit 1; }
  fi
  "$GOLANGCI" run ./...
  (cd client && "$GOLANGCI" run ./...)
fi

step "go test -race"
# The end-to-end packages run after the others, one at a time: their timing
# tests (rate-limit pacing across replicas, retries under injected faults)
# must not share the two CPUs with other packages' race-detector runs.
go test -race -count=1 -timeout 20m $(go list ./... | grep -v '/internal/e2e')
go test -race -count=1 -timeout 20m -p 1 ./internal/e2e/...
# The Go client's own module (its tests against a real gateway are in internal/e2e).
(cd client && go test -race -count=1 -timeout 10m ./...)

step "short fuzz runs of the edge decoders (FUZZTIME, default 5000 inputs each)"
# A count, not a duration: with a duration Go's fuzz coordinator can fail a
# clean run with "context deadline exceeded" when the deadline fires while a
# worker is busy (golang/go#75804), which a loaded CI machine hits. A real
# finding always writes a reproducer under testdata/fuzz. FUZZTIME=0 skips
# this step (the seed corpora still ran above, as ordinary tests).
if [ "${FUZZTIME:-}" = "0" ]; then
  note "FUZZTIME=0: skipped"
else
  fuzz() { go test "$1" -run '^$' -fuzz "^$2\$" -fuzztime "${FUZZTIME:-5000x}" -timeout 10m; }
  fuzz ./internal/providers/ghl FuzzDecoders
  fuzz ./internal/providers/ghl FuzzClientAnswers
  fuzz ./internal/providers/ghl FuzzContactAnswers
  fuzz ./internal/providers/ghl FuzzAccountAnswers
  fuzz ./internal/unified FuzzRecordBody
  fuzz ./internal/unified FuzzSearchBody
  fuzz ./internal/unified FuzzContactBody
  fuzz ./internal/unified FuzzAccountBody
  fuzz ./internal/unified FuzzOpportunityBody
  fuzz ./internal/unified FuzzSchemaBodies
  fuzz ./internal/unified FuzzPathParams
  fuzz ./internal/unified FuzzDecodeCursor
  fuzz ./internal/unified FuzzSyntax
  fuzz ./internal/unified FuzzJSONStruct
  fuzz ./internal/restjson FuzzMarshal
  fuzz ./internal/telemetry FuzzRPCLine
  fuzz ./internal/passthrough FuzzCleanPath
  echo "all fuzz targets ran clean"
fi
step "done"
