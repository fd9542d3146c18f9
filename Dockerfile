# syntax=docker/dockerfile:1
#
# crmgate gateway image: a static Go binary (CGO_ENABLED=0; the SQLite
# driver is pure Go) on distroless/static, running as the non-root user
# 65532. Build from the repository root:
#
#   docker build -t crmgate:dev .
#
# Generated code (gen/) is committed, so the build needs no protoc/buf.

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION}-bookworm AS build
# The version `gateway version` prints (docker build --build-arg VERSION=v1.2.3).
ARG VERSION=dev
WORKDIR /src
# Modules first, so a source change does not re-download them.
# The Go client and the stubs are modules of their own, replaced by their
# directories in go.mod.
COPY go.mod go.sum ./
COPY client/go.mod client/go.sum ./client/
COPY gen/crmgate/go.mod gen/crmgate/go.sum ./gen/crmgate/
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" -o /out/gateway ./cmd/gateway \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/gateway /usr/local/bin/gateway
# GATEWAY_DATA_DIR: the embedded SQLite database and key file, when used
# (with PostgreSQL and GATEWAY_ENCRYPTION_KEY set, nothing is written).
COPY --from=build --chown=65532:65532 /out/data /data
ENV GATEWAY_DATA_DIR=/data \
    GATEWAY_HTTP_ADDR=:8080 \
    GATEWAY_GRPC_ADDR=:9090
USER 65532:65532
EXPOSE 8080 9090
ENTRYPOINT ["/usr/local/bin/gateway"]
CMD ["serve"]
