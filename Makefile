# jianguan — every target installs what it needs first, so a fresh machine needs only `make demo`
# or `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PROTO_OUT := services/jianguan/_proto
# The provider-facing contract (events, ingest) is generated into the SDK, which the platform
# depends on; the platform's own protos (authority, cases, dead letters) into services/.
SDK_PROTO_OUT := sdk/python/src/jianguan_sdk/_proto
SDK_PROTOS := options envelope bodies event ingest
PLATFORM_PROTOS := authority cases chains dead_letters
empty :=
space := $(empty) $(empty)
SDK_MODULES_RE := (($(subst $(space),|,$(SDK_PROTOS)))_pb2)
PYTEST_ARGS ?=
# The Go client (sdk/go): its generated code comes from protoc's Go plugins, built from the Go
# module proxy at pinned versions.
GO_SDK := sdk/go
GO_MODULE := github.com/jianguan/jianguan/sdk/go
GO_BIN := $(CURDIR)/.cache/go-bin
GO_GEN_GO := v1.36.12
GO_GEN_GRPC := v1.6.2
GO_PLUGINS := google.golang.org/protobuf/cmd/protoc-gen-go@$(GO_GEN_GO) \
  google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(GO_GEN_GRPC)
# Named for the versions: installed again only when one changes.
GO_PLUGINS_STAMP := $(GO_BIN)/.installed-$(GO_GEN_GO)-$(GO_GEN_GRPC)
# The Java client (sdk/java): protoc and the gRPC plugin from Maven Central (the protoc of
# grpcio-tools has no Java generator); protoc's version matches protobuf-java in sdk/java/pom.xml.
JAVA_SDK := sdk/java
JAVA_GEN := $(JAVA_SDK)/src/main/java/cn/jianguan/v1
JAVA_BIN := $(CURDIR)/.cache/java-bin
JAVA_PROTOC_VERSION := 4.36.2
JAVA_GRPC_VERSION := 1.83.1
JAVA_PROTOC := com.google.protobuf:protoc:$(JAVA_PROTOC_VERSION):exe:linux-x86_64
JAVA_GRPC_PLUGIN := io.grpc:protoc-gen-grpc-java:$(JAVA_GRPC_VERSION):exe:linux-x86_64
JAVA_PLUGINS_STAMP := $(JAVA_BIN)/.installed-$(JAVA_PROTOC_VERSION)-$(JAVA_GRPC_VERSION)
MVN := mvn -q -B -Dstyle.color=never

.PHONY: help install kafka system-packages protos protos-publish protos-check wire-constants-check check-deploy lint test test-unit test-go test-java fuzz demo smoke bench bench-console bench-cluster bench-sustained clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

system-packages: ## Debian packages (ClickHouse, Prometheus, Alertmanager), installed only when missing
	@deploy/local/system-packages.sh

NATIVE_SOURCES := $(wildcard services/jianguan/contracts/*.c services/jianguan/contracts/*.h services/jianguan/store/*.c services/jianguan/store/*.h)

$(BIN)/.installed: pyproject.toml setup.py sdk/python/pyproject.toml $(NATIVE_SOURCES)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install -q --disable-pip-version-check -e './sdk/python[kafka,otel]' -e '.[dev]'
	@touch $@

protos/node_modules/.installed: protos/package.json protos/package-lock.json
	@cd protos && npm ci --silent --no-audit --no-fund >/dev/null
	@touch $@

CONSOLE_WEB := services/jianguan/console/web

$(CONSOLE_WEB)/node_modules/.installed: $(CONSOLE_WEB)/package.json $(CONSOLE_WEB)/package-lock.json
	@cd $(CONSOLE_WEB) && npm ci --silent --no-audit --no-fund >/dev/null
	@touch $@

KAFKA_POM := deploy/local/kafka/pom.xml

.cache/kafka/current/.complete: $(KAFKA_POM) deploy/local/kafka/install.sh | system-packages
	@deploy/local/kafka/install.sh

kafka: .cache/kafka/current/.complete ## the Apache Kafka broker and tools jars from Maven Central (once)

$(GO_PLUGINS_STAMP):
	@mkdir -p $(GO_BIN)
	@for p in $(GO_PLUGINS); do GOBIN=$(GO_BIN) go install $$p; done
	@touch $@

$(JAVA_PLUGINS_STAMP):
	@mkdir -p $(JAVA_BIN)
	@for a in $(JAVA_PROTOC) $(JAVA_GRPC_PLUGIN); do \
	  $(MVN) dependency:copy -Dartifact=$$a -DoutputDirectory=$(JAVA_BIN) -Dmdep.stripVersion=true; done
	@chmod +x $(JAVA_BIN)/*.exe
	@touch $@

# The jar and its runtime classpath (target/dependency), which the suite's example runs on.
.cache/java-sdk.built: $(shell find $(JAVA_SDK)/src -name '*.java' 2>/dev/null) $(JAVA_SDK)/pom.xml
	@cd $(JAVA_SDK) && $(MVN) package -DskipTests dependency:copy-dependencies -DincludeScope=runtime
	@touch $@

.cache/go-sdk.built: $(wildcard $(GO_SDK)/*.go $(GO_SDK)/*/*.go) $(GO_SDK)/go.mod $(GO_SDK)/go.sum
	@cd $(GO_SDK) && go build ./...
	@touch $@

install: system-packages .cache/kafka/current/.complete $(BIN)/.installed protos/node_modules/.installed $(CONSOLE_WEB)/node_modules/.installed .cache/go-sdk.built .cache/java-sdk.built ## everything (Debian packages, Kafka jars, venv, buf, console assets, the Go and Java clients' dependencies)

protos: $(BIN)/.installed $(GO_PLUGINS_STAMP) $(JAVA_PLUGINS_STAMP) ## regenerate the generated code of protos/ (the SDKs' and the platform's)
	@rm -rf $(PROTO_OUT) $(SDK_PROTO_OUT) $(GO_SDK)/jianguanv1 $(JAVA_GEN) && mkdir -p $(PROTO_OUT) $(SDK_PROTO_OUT)
	@$(JAVA_BIN)/protoc-linux-x86_64.exe -Iprotos -I$$($(BIN)/python -c 'import grpc_tools, os; print(os.path.dirname(grpc_tools.__file__))')/_proto \
	  --plugin=protoc-gen-grpc-java=$(JAVA_BIN)/protoc-gen-grpc-java-linux-x86_64.exe \
	  --java_out=$(JAVA_SDK)/src/main/java --grpc-java_out=$(JAVA_SDK)/src/main/java \
	  $(foreach p,$(SDK_PROTOS),protos/jianguan/v1/$(p).proto)
	@$(BIN)/python -m grpc_tools.protoc -Iprotos \
	  --plugin=protoc-gen-go=$(GO_BIN)/protoc-gen-go --plugin=protoc-gen-go-grpc=$(GO_BIN)/protoc-gen-go-grpc \
	  --go_out=$(GO_SDK) --go_opt=module=$(GO_MODULE) --go-grpc_out=$(GO_SDK) --go-grpc_opt=module=$(GO_MODULE) \
	  $(foreach p,$(SDK_PROTOS),protos/jianguan/v1/$(p).proto)
	@PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/python -m grpc_tools.protoc -Iprotos \
	  --python_out=$(SDK_PROTO_OUT) --mypy_out=quiet:$(SDK_PROTO_OUT) \
	  $(foreach p,$(SDK_PROTOS),protos/jianguan/v1/$(p).proto)
	@PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/python -m grpc_tools.protoc -Iprotos \
	  --grpc_python_out=$(SDK_PROTO_OUT) --mypy_grpc_out=quiet:$(SDK_PROTO_OUT) protos/jianguan/v1/ingest.proto
	@PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/python -m grpc_tools.protoc -Iprotos \
	  --python_out=$(PROTO_OUT) --mypy_out=quiet:$(PROTO_OUT) \
	  $(foreach p,$(PLATFORM_PROTOS),protos/jianguan/v1/$(p).proto)
	@PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/python -m grpc_tools.protoc -Iprotos \
	  --grpc_python_out=$(PROTO_OUT) --mypy_grpc_out=quiet:$(PROTO_OUT) protos/jianguan/v1/authority.proto
	@# protoc writes imports relative to the proto root: each generated module is imported from
	@# the package that holds it.
	@sed -i -E 's/^from jianguan\.v1 import $(SDK_MODULES_RE)/from jianguan_sdk._proto.jianguan.v1 import \1/; s/^from jianguan\.v1 import /from jianguan._proto.jianguan.v1 import /' \
	  $(PROTO_OUT)/jianguan/v1/*.py $(PROTO_OUT)/jianguan/v1/*.pyi
	@sed -i 's/^from jianguan\.v1 import /from jianguan_sdk._proto.jianguan.v1 import /' \
	  $(SDK_PROTO_OUT)/jianguan/v1/*.py $(SDK_PROTO_OUT)/jianguan/v1/*.pyi
	@for out in $(PROTO_OUT) $(SDK_PROTO_OUT); do \
	  touch $$out/__init__.py $$out/jianguan/__init__.py $$out/jianguan/v1/__init__.py; done

protos-publish: protos/node_modules/.installed ## record the contract as it is now as the published one that buf breaking checks against
	cd protos && ./node_modules/.bin/buf build -o published/jianguan-v1.binpb

protos-check: protos ## fail when the committed generated code is stale
	@git diff --exit-code --stat -- $(PROTO_OUT) $(SDK_PROTO_OUT) $(GO_SDK)/jianguanv1 $(JAVA_GEN) || { echo "generated code is stale: run make protos and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- $(PROTO_OUT) $(SDK_PROTO_OUT) $(GO_SDK)/jianguanv1 $(JAVA_GEN))" || { echo "untracked generated files: run make protos and commit"; exit 1; }

# The C headers generated from Python (module, header): make lint fails when one is stale.
GENERATED_HEADERS := jianguan.contracts.wire_constants:services/jianguan/contracts/_wire_constants.h \
  jianguan.store.native_constants:services/jianguan/store/_native_block_constants.h

wire-constants-check: install ## fail when a native extension's generated header is stale
	@for pair in $(GENERATED_HEADERS); do module=$${pair%%:*}; header=$${pair#*:}; \
	  $(BIN)/python -m $$module | diff -u $$header - \
	    || { echo "$$header is stale: run $(BIN)/python -m $$module > $$header"; exit 1; }; \
	done

lint: install protos-check wire-constants-check check-deploy ## ruff, ruff format, mypy --strict, gcc warnings, buf lint, generated-code freshness, deploy configs
	$(BIN)/ruff check services sdk/python tests bench fuzz
	$(BIN)/ruff format --check services sdk/python tests bench fuzz
	$(BIN)/mypy
	@# the SDK promises Python 3.10: checked against 3.10's standard library
	$(BIN)/mypy --python-version 3.10 -p jianguan_sdk
	gcc -fsyntax-only -std=c11 -Wall -Wextra -Wno-missing-field-initializers -Werror \
	  -I"$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["include"])')" \
	  services/jianguan/contracts/_wire.c services/jianguan/contracts/wire_scan.c \
	  services/jianguan/store/_native_block.c
	cd protos && ./node_modules/.bin/buf lint && ./node_modules/.bin/buf format --diff --exit-code
	@# the contract as published (protos/published, refreshed by make protos-publish) stays readable
	cd protos && ./node_modules/.bin/buf breaking --against published/jianguan-v1.binpb
	@test -z "$$(gofmt -l $(GO_SDK) deploy/compose/check)" || { gofmt -l $(GO_SDK) deploy/compose/check; echo "run gofmt -w"; exit 1; }
	cd $(GO_SDK) && go vet ./...
	cd deploy/compose/check && go vet ./...

check-deploy: system-packages ## promtool / amtool checks and unit tests of the Prometheus rules
	promtool check config deploy/prometheus/prometheus.yml
	promtool check config deploy/compose/prometheus.yml
	promtool check rules deploy/prometheus/rules/*.yml
	promtool test rules deploy/prometheus/tests/*.yml
	amtool check-config deploy/alertmanager/alertmanager.yml

test: install test-go test-java ## the whole suite: the Go and Java clients', then unit, integration (real Kafka + ClickHouse), e2e, then fuzzing
	@$(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing on purpose"; exit 1; fi; exit $$rc
	@fuzz/run.sh

fuzz: install ## fuzz batch parsing and the native scanner (FUZZ_SECONDS, default 60), replayed under ASan/UBSan
	fuzz/run.sh

test-go: install ## the Go client's own tests (the shared vectors, a scripted gateway), under the race detector
	cd $(GO_SDK) && go test -race -count=1 ./...

test-java: install ## the Java client's own tests (the shared vectors, a scripted in-process gateway)
	cd $(JAVA_SDK) && $(MVN) test

test-unit: install ## unit tests only (no servers)
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

demo: install ## the embedded stack with live traffic from several providers (Ctrl-C stops)
	$(BIN)/jianguan demo

smoke: install ## N events through the stack, one JSON line, exit 0 only if all stored
	$(BIN)/jianguan demo --smoke --events 20000

bench: install ## ingest benchmark (gateway -> ClickHouse vs the broker alone), the duplicate memory's claim cost and the rules state's memory over millions of events, JSON in bench/results/
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/dedup.py
	$(BIN)/python bench/rule_state.py

bench-console: install ## every console page timed with ten million events stored (JSON in bench/results/)
	$(BIN)/python bench/console.py

bench-cluster: install ## a ClickHouse cluster (2 shards x 2 replicas) against one server: insert rate and CPU per event of each, JSON in bench/results/
	$(BIN)/python bench/cluster.py

bench-sustained: install ## ten minutes at half the measured maximum, every rule on: per-minute stored rate, rules lag, freshness, alert latency, RSS and CPU of each process (JSON in bench/results/)
	$(BIN)/python bench/sustained.py

clean: ## remove the venv, tool installs and runtime state
	rm -rf $(VENV) protos/node_modules var .cache
