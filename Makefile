# Orchard. `make run` runs everything in one process; `make test` runs every
# test, starting (and stopping) a real Kafka broker and ClickHouse server.
GO      ?= go
BIN     := bin/orchard
SVC_DIR ?= $(CURDIR)/.cache/services

.PHONY: docs docs-examples simulate run build test test-fast test-integration fuzz sqlcheck bench bench-compare bench-compare-build lint services-up services-down clean

run: build
	scripts/run.sh

build:
	$(GO) build -o $(BIN) ./cmd/orchard

# `make simulate ARGS="--against examples/sim/guardrails-off.yaml"`: a team of
# rep personas on virtual time, then the fairness report (sim/).
simulate: build
	scripts/simulate.sh $(ARGS)

# Everything CI runs: lint, the fast suite with the race detector (goka/tester,
# kfake), a short run of every fuzz target, then the same end-to-end suite
# (chaos included) against a real Apache Kafka broker and ClickHouse.
test: lint test-fast fuzz-short test-integration

test-fast:
	$(GO) test -race -count=1 ./...

# Go native fuzzing; the committed corpus (*/testdata/fuzz) runs in every
# `go test`. `make fuzz` runs each target for FUZZTIME (default 2m).
FUZZTIME ?= 2m
FUZZ_TARGETS := schemas:FuzzDecode api:FuzzIntakeJSON policy:FuzzParse auth:FuzzVerify dispatch:FuzzStepSettles
fuzz:
	@for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; name=$${t##*:}; \
	  echo "== fuzz $$name ($$pkg, $(FUZZTIME))"; \
	  $(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) ./$$pkg || exit 1; done

# In CI an execution count, not a duration: a duration races the fuzz
# coordinator's deadline under load and fails with a bare "context deadline
# exceeded" and no input (golang/go#75804).
fuzz-short:
	$(MAKE) fuzz FUZZTIME=20000x

test-integration:
	scripts/integration.sh

# analytics/ SQL on a current ClickHouse engine (chDB); part of test-integration.
sqlcheck:
	scripts/sqlcheck.sh

bench:
	scripts/bench.sh

# Orchard against a Kafka Streams twin of the claim saga (bench/README.md):
# one real broker, one load generator, one table. Minutes; not part of test.
bench-compare:
	scripts/bench-compare.sh

# What CI checks of it: the twin and the load generator build.
bench-compare-build:
	$(GO) build -o bin/loadgen ./bench/loadgen
	cd bench/kstreams && mvn -q -B package

# docs/api.md from api/openapi.yaml (a test fails when they drift).
docs:
	$(GO) test ./internal/apidoc -update

# The examples of docs/ marked to run, as written, against a fresh make run
# (part of test-integration).
docs-examples:
	scripts/docs-examples.sh

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# A broker on 127.0.0.1:29092 and ClickHouse on 127.0.0.1:29000 for your own
# experiments (orchard run --brokers 127.0.0.1:29092 --clickhouse clickhouse://127.0.0.1:29000/orchard).
services-up:
	infra/kafka/start.sh $(SVC_DIR)/kafka 29092
	infra/clickhouse/start.sh $(SVC_DIR)/clickhouse 29000 29123

services-down:
	infra/kafka/stop.sh $(SVC_DIR)/kafka
	infra/clickhouse/stop.sh $(SVC_DIR)/clickhouse

clean:
	rm -rf bin .cache
