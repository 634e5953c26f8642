# The two commands of the README: `make run` and `make test`.
# Everything else here is a building block of those two.

SHELL := /bin/bash
BAZEL ?= bazel
BAZEL_FLAGS ?=
CONFIG ?= config/default.yaml
SERVER_ARGS ?= --http_port=8080
PACKAGES := $(shell grep -v '^\s*\#' bazel/debian-packages.txt | grep -v '^\s*$$')

.PHONY: run test deps build bench bench-smoke soak clean help check-layers fuzz fuzz-smoke

help:
	@echo "make run    install missing Debian packages, build, start the server ($(CONFIG))"
	@echo "make test   install missing Debian packages, build, run every test"
	@echo "make build  build everything"
	@echo "make bench  run the benchmarks (see docs/benchmarks.md)"
	@echo "make soak   30 minutes of churn, faults and API calls; RSS and descriptors flat"
	@echo "make deploy-check  the CDK app's assertion tests, cdk-nag and synth --strict"
	@echo "make fuzz   run the fuzz targets for 5 minutes each (docs/security.md)"

# Installs only what is missing, so the second run costs a dpkg query.
deps:
	@missing=$$(dpkg-query -W -f='$${Package} $${db:Status-Abbrev}\n' $(PACKAGES) 2>/dev/null \
	    | awk '$$2 != "ii" {print $$1}'; \
	  for p in $(PACKAGES); do dpkg-query -W $$p >/dev/null 2>&1 || echo $$p; done | sort -u); \
	if [ -n "$$missing" ]; then \
	  echo "Installing missing Debian packages:" $$missing; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $$missing; \
	fi

build: deps
	$(BAZEL) build $(BAZEL_FLAGS) //...

run: build
	./bazel-bin/app/rtsp_test_server --config=$(CONFIG) $(SERVER_ARGS)

test: build check-layers fuzz-smoke deploy-check bench-smoke
	$(BAZEL) test $(BAZEL_FLAGS) //...

# The fuzz targets (fuzz/), under ASan and UBSan, a few seconds each as part
# of `make test`; `make fuzz` runs them for five minutes each.
FUZZ_SECONDS ?= 10
fuzz-smoke: deps
	scripts/run_fuzz.sh $(FUZZ_SECONDS)

fuzz: deps
	scripts/run_fuzz.sh 300

# No source includes a header from a layer above its own
# (docs/architecture.md); tests/scripts checks the checker.
check-layers:
	python3 scripts/check_layers.py .

bench: build
	bench/run_all.sh

# The soak scenario: 30 minutes of reader churn, faults and control API
# calls; RSS and descriptors must stay flat (docs/benchmarks.md, "Soak").
soak: build
	python3 bench/capacity/soak_bench.py --minutes 30 --json_out /tmp/soak.json

# The fan-out scenario in seconds (20 readers on our server and on the stock
# baseline, through rtsp_bench), so that the benchmark tools never rot.
bench-smoke: build
	python3 bench/capacity/fanout_bench.py --smoke
	python3 bench/capacity/idle_rss_bench.py --smoke

clean:
	$(BAZEL) clean

# The ECS CDK app (deploy/ecs/cdk), in a temporary copy of deploy/ecs and
# docs/operations.md (the files git tracks or would track, as in a clone):
# npm ci, tsc, the assertion tests (test/*.test.ts under
# `node --test`: the stack in both profiles, cdk-nag's AWS Solutions checks,
# and the runbook's aws commands against the template's names), then
# `cdk synth --strict` of the compiled app with a sample ECR image (cdk-nag
# runs there too; any warning fails). Needs node >= 20 and the npm registry;
# no AWS account, region or credentials (none is looked up).
CDK_SAMPLE_IMAGE := 123456789012.dkr.ecr.eu-west-1.amazonaws.com/rtsp-test-server:sample
.PHONY: deploy-check
deploy-check:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	git ls-files --cached --others --exclude-standard deploy/ecs docs/operations.md \
	  | tar -cf - -T - | tar -xf - -C "$$tmp" && \
	cd "$$tmp/deploy/ecs/cdk" && \
	npm ci --no-audit --no-fund --loglevel=error && \
	npx tsc && \
	env -u CDK_DEFAULT_ACCOUNT -u CDK_DEFAULT_REGION node --test --test-reporter=spec test/ && \
	env -u CDK_DEFAULT_ACCOUNT -u CDK_DEFAULT_REGION CDK_DISABLE_CLI_TELEMETRY=true \
	  npx cdk synth --app 'node bin/app.js' --quiet --strict --no-notices \
	  -c image=$(CDK_SAMPLE_IMAGE)
