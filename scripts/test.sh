#!/usr/bin/env bash
# The one test command (README, .ci/run): installs what it needs, starts
# Redis and PostgreSQL if they are not running, lints, checks generated
# code for drift, and runs the whole test suite with the race detector
# against real Redis and PostgreSQL.
#
#   scripts/test.sh            everything
#   SKIP_LINT=1 scripts/test.sh    tests only
set -euo pipefail
cd "$(dirname "$0")/.."

GOLANGCI_VERSION=v2.15.0
export PATH="$(go env GOPATH)/bin:$PATH"
step() { printf '\n==> %s\n' "$*"; }

step "node packages (buf, googleapis protos, GHL SDK for the fake's contract test)"
command -v npm >/dev/null || { echo "npm is required (Node.js >= 18)"; exit 1; }
# npm ci refuses lockfiles with per-platform optional deps (buf's binaries) on npm 11;
# npm install with the committed lockfile installs the same versions.
[ -x node_modules/.bin/buf ] || npm install --no-audit --no-fund --loglevel=error
[ -d internal/providers/ghl/ghlfake/sdktest/node_modules ] ||
  (cd internal/providers/ghl/ghlfake/sdktest && npm ci --no-audit --no-fund --loglevel=error)

step "chromium (headless browser for the connect-page test)"
command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }

step "services: Redis 127.0.0.1:6379 and PostgreSQL 127.0.0.1:5432"
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  command -v redis-server >/dev/null || { apt-get update -qq && apt-get install -y -qq redis-server; }
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 50); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 0.1; done
fi
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  command -v pg_ctlcluster >/dev/null || { apt-get update -qq && apt-get install -y -qq postgresql; }
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  for _ in $(seq 100); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 0.2; done
fi
psql "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable" -tAc "SELECT 1 FROM pg_database WHERE datname='test'" | grep -q 1 ||
  psql "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable" -c "CREATE DATABASE test" >/dev/null

if [ -z "${SKIP_LINT:-}" ]; then
  step "gofmt, go vet"
  unformatted=$(gofmt -l $(git ls-files '*.go' | grep -v '^gen/') || true)
  [ -z "$unformatted" ] || { echo "gofmt needed:"; echo "$unformatted"; exit 1; }
  go vet ./...

  step "buf lint, buf format"
  npx --no-install buf lint proto
  npx --no-install buf format -d --exit-code proto

  # The OpenAPI document is validated by go test ./gen/openapi (kin-openapi:
  # schema, refs, examples; every REST route documented).
  step "generated code is reproducible"
  npx --no-install buf generate
  go generate ./gen/openapi
  if [ -n "$(git status --porcelain -- gen)" ]; then
    echo "generated code drifted from the protos; run 'npx buf generate' and commit:"
    git status --porcelain -- gen; git diff --stat -- gen
    exit 1
  fi

  step "golangci-lint $GOLANGCI_VERSION"
  if ! golangci-lint version 2>/dev/null | grep -q "${GOLANGCI_VERSION#v}"; then
    go install "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$GOLANGCI_VERSION"
  fi
  golangci-lint run ./...
fi

step "go test -race"
# The end-to-end packages run after the others, one at a time: their timing
# tests (rate-limit pacing across replicas, retries under injected faults)
# must not share the two CPUs with other packages' race-detector runs.
go test -race -count=1 -timeout 20m $(go list ./... | grep -v '/internal/e2e')
go test -race -count=1 -timeout 20m -p 1 ./internal/e2e/...

step "short fuzz runs of the edge decoders (FUZZTIME, default 5000 inputs each)"
# A count, not a duration: with a duration Go's fuzz coordinator can fail a
# clean run with "context deadline exceeded" when the deadline fires while a
# worker is busy (golang/go#75804), which a loaded CI machine hits. A real
# finding always writes a reproducer under testdata/fuzz.
fuzz() { go test "$1" -run '^$' -fuzz "^$2\$" -fuzztime "${FUZZTIME:-5000x}" -timeout 10m; }
fuzz ./internal/providers/ghl FuzzDecoders
fuzz ./internal/providers/ghl FuzzClientAnswers
fuzz ./internal/providers/ghl FuzzFastRecordDecoder
fuzz ./internal/jsonscan FuzzScanner
fuzz ./internal/unified FuzzRecordBody
fuzz ./internal/unified FuzzSearchBody
fuzz ./internal/unified FuzzSchemaBodies
fuzz ./internal/unified FuzzPathParams
fuzz ./internal/unified FuzzDecodeCursor
fuzz ./internal/unified FuzzSyntax
fuzz ./internal/unified FuzzJSONStruct
fuzz ./internal/structwire FuzzAppendField
fuzz ./internal/restjson FuzzMarshal
fuzz ./internal/restjson FuzzJSONProperties
fuzz ./internal/grpccodec FuzzMarshal
fuzz ./internal/telemetry FuzzRPCLine
echo "all fuzz targets ran clean"
