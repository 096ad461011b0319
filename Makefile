# Lighthouse: the two commands are `make demo` and `make test`.
GO      ?= go
BIN     ?= bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
FUZZTIME ?= 30s

.PHONY: all build test unit golden bench fuzz lint demo demo-api install-deps deb clean

all: build

## build: the lighthouse binary and the original's two entry points as links
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/lighthouse ./cmd/lighthouse
	ln -sf lighthouse $(BIN)/lighthouse-writer
	ln -sf lighthouse $(BIN)/lighthouse-reporter

## test: vet, unit, golden and integration tests (real ZooKeeper, Redis and
## every supported HAProxy release, built first if missing; LIGHTHOUSE_HAPROXY=3.4 picks one)
test: lint install-deps
	$(GO) test -count=1 -timeout 30m ./...

## deb: the Debian package bin/lighthouse_<version>_<arch>.deb (binary, links,
## systemd units, example config, man page; no maintainer scripts)
deb:
	dist/build-deb $(BIN)

## unit: the fast tests only (no servers started)
unit:
	$(GO) test -short -count=1 ./...

## golden: rewrite the golden fixtures from the current code; review the diff
golden:
	$(GO) test ./golden/... -count=1 -update
	git status --short golden/

## bench: run the benchmarks; compare with the previous run through benchstat
bench:
	mkdir -p .bench
	[ -f .bench/new.txt ] && mv .bench/new.txt .bench/old.txt || true
	$(GO) test -run '^$$' -bench . -benchmem -count 6 ./... | tee .bench/new.txt
	@if command -v benchstat >/dev/null; then \
		if [ -f .bench/old.txt ]; then benchstat .bench/old.txt .bench/new.txt; else benchstat .bench/new.txt; fi; \
	else echo "benchstat not found: go install golang.org/x/perf/cmd/benchstat@latest"; fi

## fuzz: fuzz the decoders of untrusted input for FUZZTIME each
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZTIME) ./model
	$(GO) test -run '^$$' -fuzz '^FuzzLoadNewcomer$$' -fuzztime $(FUZZTIME) ./model
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeNode$$' -fuzztime $(FUZZTIME) ./model

## lint: formatting and go vet
lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

## demo: example 1 (web app + cache) on this machine; Ctrl-C stops everything
## (examples/demo builds lighthouse and the example apps into /tmp/lighthouse-demo/bin)
demo:
	$(GO) build -o $(BIN)/lighthouse-demo ./examples/demo
	exec $(BIN)/lighthouse-demo -example web-cache

## demo-api: example 2 (API meta cluster with proxies) on this machine
demo-api:
	$(GO) build -o $(BIN)/lighthouse-demo ./examples/demo
	exec $(BIN)/lighthouse-demo -example api

## install-deps: HAProxy, ZooKeeper and Redis from Debian's packages (as root),
## and the upstream HAProxy releases built into ~/.cache/lighthouse/haproxy
install-deps:
	.ci/install-deps

clean:
	rm -rf $(BIN) .bench
