# alertgw — see README.md. `make run` and `make test` are all a fresh clone needs.
GO       ?= go
BIN      := bin/alertgw
VERSION  := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
FUZZTIME ?= 10s

.PHONY: all build run test deps unit bench bench-e2e fuzz fuzz-long lint fmt clean

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
# fuzz-long is the soak: FUZZTIME=10m make fuzz.
fuzz:
	./scripts/fuzz.sh $(FUZZTIME)

fuzz-long:
	./scripts/fuzz.sh 5m

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin run data

# nflog: side-by-side with ulogd2 (root; installs ulogd2/ulogd2-json/nftables
# when missing). RATES, REPEAT, COUNT_SECONDS, LOGGERS tune it.
.PHONY: bench-nflog
bench-nflog:
	./bench/nflog-vs-ulogd.sh
