# alertgw container image: a static binary on an empty base, running as a
# non-root user, with the socket directory as a volume shared with the
# sensor's container (see examples/kubernetes and examples/compose).
#
#   docker build -t alertgw .            (or: buildah bud --format docker -t alertgw .)
#
# Where no registry is reachable, `make image` builds the same final stage
# from a locally built binary (build/container/Containerfile.prebuilt).

ARG GO_VERSION=1.26
FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=
ARG DATE=
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT} -X main.date=${DATE}" -o /out/alertgw ./cmd/alertgw

FROM scratch
COPY --from=build /out/alertgw /alertgw
COPY --chown=65532:65532 build/container/rootfs/ /
USER 65532:65532
VOLUME ["/run/alertgw", "/data"]
EXPOSE 9477
# No shell in the image: the binary checks its own readiness endpoint.
HEALTHCHECK --interval=15s --timeout=5s CMD ["/alertgw", "health", "--ready"]
ENTRYPOINT ["/alertgw"]
CMD ["run", "--config", "/etc/alertgw/alertgw.yaml"]
