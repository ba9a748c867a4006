# syntax=docker/dockerfile:1
# The stock sluice binary with the reference pipelines.
#   docker build -t sluice .
#   docker run --rm sluice validate -f /etc/sluice/pipelines.yaml
# docker-compose.yml runs it next to Apache Kafka, Confluent Schema Registry and Prometheus.

FROM golang:1.26 AS build
WORKDIR /src
# Modules first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# The build context has no .git (.dockerignore), so the version and commit
# come in as build arguments: docker build --build-arg VERSION=v1.2.3 --build-arg COMMIT=$(git rev-parse HEAD) .
# `sluice version`, `sluice --version` and the sluice_build_info metric show them.
ARG VERSION=dev
ARG COMMIT=unknown
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=linux go build -trimpath \
      -ldflags="-s -w -X github.com/sluicehq/sluice/internal/buildinfo.version=${VERSION} -X github.com/sluicehq/sluice/internal/buildinfo.commit=${COMMIT}" \
      -o /out/sluice ./cmd/sluice \
    && /out/sluice version

FROM debian:bookworm-slim
# curl serves the container healthcheck (GET /readyz); ca-certificates for TLS brokers/registries.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/sluice --create-home sluice
COPY --from=build /out/sluice /usr/local/bin/sluice
COPY pipelines.yaml /etc/sluice/pipelines.yaml
COPY schemas/ /etc/sluice/schemas/
# Schema paths in pipelines.yaml are relative (schemas/...).
WORKDIR /etc/sluice
USER sluice
ENV SLUICE_BROKERS=kafka:9092 \
    SLUICE_REGISTRY_URL=http://schema-registry:8081
EXPOSE 8080
VOLUME ["/var/lib/sluice"]
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=6 \
    CMD curl -fsS -o /dev/null http://127.0.0.1:8080/readyz || exit 1
ENTRYPOINT ["/usr/local/bin/sluice"]
CMD ["run", "-f", "/etc/sluice/pipelines.yaml", "--state-dir", "/var/lib/sluice", "--http-addr", ":8080"]
