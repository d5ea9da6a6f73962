# alertgw — see README.md. `make run` and `make test` are all a fresh clone needs.
GO       ?= go
BIN      := bin/alertgw
VERSION  := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   := $(shell git rev-parse HEAD 2>/dev/null)
DATE     := $(shell git log -1 --format=%cI 2>/dev/null)
LDFLAGS  := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.date=$(DATE)
FUZZTIME ?= 10s

.PHONY: all build run test deps unit bench bench-e2e fuzz fuzz-long lint fmt clean docs

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/alertgw

run: build
	./$(BIN) run

# test installs the system components the integration tests drive (as root),
# then runs vet and every test with the race detector.
test: deps lint unit

deps:
	./scripts/install-deps.sh

unit:
	$(GO) test -race -count=1 -timeout 14m ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

bench-e2e: build
	./bench/e2e.sh

# fuzz runs every fuzz target for FUZZTIME each (short and bounded);
# fuzz-long is the soak, 5 minutes each (or FUZZTIME=10m make fuzz).
fuzz:
	./scripts/fuzz.sh $(FUZZTIME)

fuzz-long:
	./scripts/fuzz.sh 5m

# lint runs golangci-lint (.golangci.yml: govet, staticcheck, errcheck,
# revive, unused, ineffassign, gofmt) and refuses tracked binaries. The
# linter is pinned and built once into bin/tools (about 5 CPU-minutes: a few
# minutes on 2 cores, then cached).
GOLANGCI_VERSION := v2.15.0
TOOLS            := $(CURDIR)/bin/tools
GOLANGCI         := $(TOOLS)/golangci-lint-$(GOLANGCI_VERSION)

$(GOLANGCI):
	@mkdir -p $(TOOLS)
	@echo "installing golangci-lint $(GOLANGCI_VERSION) into bin/tools (once)"
	@start=$$(date +%s); \
	  GOBIN=$(TOOLS) GOFLAGS= $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_VERSION) && \
	  mv $(TOOLS)/golangci-lint $@ && \
	  echo "golangci-lint $(GOLANGCI_VERSION) installed in $$(( $$(date +%s) - start ))s"

lint: $(GOLANGCI)
	./scripts/check-binaries.sh
	$(GOLANGCI) run ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

# docs writes the generated blocks of the documentation from the code (the
# plugin READMEs' samples and key tables, the shared key tables, the plugin
# index: internal/docgen). `make test` fails when they are out of date.
docs:
	$(GO) test ./cmd/alertgw -run '^TestGeneratedDocs$$' -count=1 -args -write-docs

clean:
	rm -rf bin run data

# nflog: side-by-side with ulogd2 (root; installs ulogd2/ulogd2-json/nftables
# when missing). RATES, REPEAT, COUNT_SECONDS, LOGGERS tune it.
.PHONY: bench-nflog
bench-nflog:
	./bench/nflog-vs-ulogd.sh

# auditd (inputs/auditd, normalize/audit): gateway CPU under a real auditd at
# RATE execve/s (root). See docs/performance/auditd.md.
AUDITD_RATE ?= 1000
.PHONY: bench-auditd
bench-auditd:
	./bench/auditd-cpu.sh $(AUDITD_RATE) 10s string

# Delivery core and writers (issue 5): the figures of docs/performance/outputs.md.
.PHONY: bench-outputs
bench-outputs:
	$(GO) test -run '^$$' -bench 'Append' -benchtime 2000x ./pipeline/diskbuf/
	$(GO) test -run '^$$' -bench 'Replay' -benchtime 3x ./pipeline/diskbuf/
	$(GO) test -run '^$$' -bench 'Codec' -benchmem ./internal/eventcodec/
	$(GO) test -run '^$$' -bench 'DiskQueue' -benchtime 400x ./pipeline/
	$(GO) test -run '^$$' -bench . -benchtime 3s ./outputs/kafka/
	$(GO) test -run '^$$' -bench . -benchtime 100x ./outputs/postgres/
	$(GO) test -run '^$$' -bench . -benchtime 2s ./outputs/elasticsearch/ ./outputs/http/ ./outputs/splunkhec/ ./outputs/syslog/
	$(GO) test -run '^$$' -bench . -benchtime 2s ./outputs/unix/ ./outputs/graphite/

# --- container image (build/container, Dockerfile) ---
.PHONY: image image-docker
# image builds the final stage from the local static binary with buildah
# (no registry needed); image-docker builds the full multi-stage Dockerfile.
image: build
	buildah bud --format docker -t alertgw:$(VERSION) -f build/container/Containerfile.prebuilt .

image-docker:
	docker build --build-arg VERSION=$(VERSION) --build-arg COMMIT=$(COMMIT) --build-arg DATE=$(DATE) -t alertgw:$(VERSION) .

# sock (inputs/unixsock, inputs/suricata, alertgw send): the end-to-end
# benchmark with a 10 s non-blocking scenario instead of 60 s.
.PHONY: bench-e2e-quick
bench-e2e-quick: build
	QUICK=1 COUNT=300000 ./bench/e2e.sh

# Event store (issue 11): ingest end to end against a bare SQLite loop with the
# same schema, the store beside a file output, and query latencies on a store
# of 10 million events over 7 days. See docs/performance/store.md.
STORE_N ?= 500000
STORE_DIR ?= /var/tmp/alertgw-store-bench
.PHONY: bench-store bench-store-query
bench-store: build
	$(GO) build -o bin/storebench ./bench/storebench
	./bin/storebench bare -n $(STORE_N)
	./bin/storebench e2e -bin $(BIN) -n $(STORE_N) -outputs store
	./bin/storebench e2e -bin $(BIN) -n $(STORE_N) -outputs file
	./bin/storebench e2e -bin $(BIN) -n $(STORE_N) -outputs file,store

# Fills $(STORE_DIR) once (10 M events, 2 M of them in the last 24 h, half
# alerts), then measures; delete the directory to fill it again.
bench-store-query:
	$(GO) build -o bin/storebench ./bench/storebench
	[ -d $(STORE_DIR) ] || ./bin/storebench fill -dir $(STORE_DIR) -n 10000000 -last-day 2000000 -alert-share 0.5
	./bin/storebench query -dir $(STORE_DIR)

# Reduce and route (issue 15, docs/pipeline.md): stage micro-benchmarks (CPU
# time per event, one core) and the gateway end to end with and without
# filters, aggregation and transactions, interleaved.
.PHONY: bench-reduce
bench-reduce: build
	$(GO) test -run '^$$' -bench RouteFilter -benchtime 20000x -cpu 1 ./pipeline/
	$(GO) test -run '^$$' -bench AddRepeated -benchtime 5000000x -cpu 1 ./pipeline/aggregate/
	$(GO) test -run '^$$' -bench Join -benchtime 1000000x -cpu 1 ./pipeline/transaction/
	$(GO) test -run '^$$' -bench OpenFlows -benchtime 1x -cpu 1 ./pipeline/transaction/
	./bench/reduce-e2e.sh

# Fleet (issue 16, docs/fleet.md): forwarding sensor → central over mTLS
# (drain of a full buffer, and live from `alertgw send`), the Kafka input
# from kfake, and the TLS copy limit, with real processes on loopback;
# plus the decoders' CPU per event. FLEET_COUNT events per scenario.
# See docs/performance/fleet.md.
FLEET_COUNT ?= 1000000
.PHONY: bench-fleet
bench-fleet: build
	$(GO) run ./bench/fleet -bin $(BIN) -count $(FLEET_COUNT)
	$(GO) test -run '^$$' -bench Decode -benchtime 200000x -cpu 1 ./normalize/native/
	$(GO) test -run '^$$' -bench Codec -benchtime 200000x -cpu 1 ./internal/eventcodec/

# Live-sensor ladder (issue 18, docs/performance/ladder.md): a paced
# non-blocking sender (alertgw send --nonblock --rate, as Suricata in live
# mode) into a unix datagram socket with max_dgram_qlen 1024 in a private
# network namespace; the count-only recvmmsg loop (bench/countrecv), alertgw
# and a private rsyslog (Debian's package, unpacked under /tmp) take turns,
# interleaved. Prints events lost and CPU per event per receiver and rate,
# with the ratios alertgw / count-only. Root; about 9 minutes.
LADDER_RATES ?= 20000,50000,100000,max
LADDER_REPS  ?= 3
LADDER_FLAGS ?=
.PHONY: bench-ladder
bench-ladder: build
	$(GO) build -o bin/countrecv ./bench/countrecv
	$(GO) build -o bin/ladder ./bench/ladder
	./bin/ladder -alertgw $(BIN) -countrecv bin/countrecv -rates $(LADDER_RATES) -reps $(LADDER_REPS) $(LADDER_FLAGS)
