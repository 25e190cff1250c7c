# Orchard. `make run` runs everything in one process; `make test` runs every
# test, starting (and stopping) a real Kafka broker and ClickHouse server.
GO      ?= go
BIN     := bin/orchard
SVC_DIR ?= $(CURDIR)/.cache/services

.PHONY: run build test test-fast test-integration sqlcheck bench lint services-up services-down clean

run: build
	scripts/run.sh

build:
	$(GO) build -o $(BIN) ./cmd/orchard

# Everything CI runs: lint, the fast suite (goka/tester, kfake), then the
# same end-to-end suite against a real Apache Kafka broker and ClickHouse.
test: lint test-fast test-integration

test-fast:
	$(GO) test -count=1 ./...

test-integration:
	scripts/integration.sh

# analytics/ SQL on a current ClickHouse engine (chDB); part of test-integration.
sqlcheck:
	scripts/sqlcheck.sh

bench:
	scripts/bench.sh

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# A broker on 127.0.0.1:39092 and ClickHouse on 127.0.0.1:39000 for your own
# experiments (orchard run --brokers 127.0.0.1:39092 --clickhouse clickhouse://127.0.0.1:39000/orchard).
services-up:
	infra/kafka/start.sh $(SVC_DIR)/kafka 39092
	infra/clickhouse/start.sh $(SVC_DIR)/clickhouse 39000 39123

services-down:
	infra/kafka/stop.sh $(SVC_DIR)/kafka
	infra/clickhouse/stop.sh $(SVC_DIR)/clickhouse

clean:
	rm -rf bin .cache
