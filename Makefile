# Every target installs dependencies first when they are missing.
SHELL := /bin/bash
.DEFAULT_GOAL := help
NPM_STAMP := node_modules/.package-lock.json
export NODE_OPTIONS := --experimental-vm-modules --no-warnings=ExperimentalWarning

.PHONY: help install generate lint lint-spec typecheck check test run dev build migrate seed
.PHONY: stubs spec-diff sdk mock
.PHONY: seed-bench bench

N ?= 100000
BUILD_STAMP := dist/.tsbuildinfo
BUILD_SOURCES := $(shell find src db scripts -name '*.ts') tsconfig.json tsconfig.build.json

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  make %-10s %s\n", $$1, $$2}'

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $(NPM_STAMP)

install: $(NPM_STAMP) ## Install dependencies (npm ci)

generate: install ## Bundle openapi/openapi.yaml and its files into openapi/generated/openapi.yaml, then the types from it
	npm run --silent generate

stubs: generate ## Regenerate the types, then write a 501 stub for each operation without a handler
	npx tsx scripts/stubs.ts

lint: install ## ESLint and Prettier
	npx eslint .
	npx prettier --check .

# Redocly lints the sources, so a problem is reported in the file to edit; Spectral and check-spec read the bundle.
lint-spec: generate ## Lint the spec: Redocly and the OWASP API Security rules (zero warnings); examples match schemas
	@out=$$(npx redocly lint --config openapi/redocly.yaml --max-problems 50 openapi/openapi.yaml 2>&1); status=$$?; \
	  echo "$$out"; if [ $$status -ne 0 ] || grep -q 'You have [0-9]* warning' <<< "$$out"; then exit 1; fi
	npx spectral lint --ruleset openapi/.spectral.yaml --fail-severity=warn openapi/generated/openapi.yaml
	npx tsx scripts/check-spec.ts

typecheck: install ## TypeScript, strict
	npx tsc --noEmit

check: install ## Everything static: types, lint, generated files fresh, spec lint, handlers match operations (each step timed)
	@scripts/ci/timed.sh typecheck $(MAKE) --no-print-directory typecheck
	@scripts/ci/timed.sh lint $(MAKE) --no-print-directory lint
	@scripts/ci/timed.sh "generated files fresh" npm run --silent generate -- --check
	@scripts/ci/timed.sh lint-spec $(MAKE) --no-print-directory lint-spec
	@scripts/ci/timed.sh "handlers match operations" npx tsx scripts/check-handlers.ts

spec-diff: install ## Classify spec changes since BASE (git ref, default HEAD), both bundled; breaking ones fail unless the major rose
	npx tsx scripts/spec-diff.ts $(or $(BASE),HEAD)

test: install ## Run the whole suite (TEST_DATABASE_URL when set, else embedded PGlite) with coverage
	CONTRACT_COVERAGE=$(or $(CONTRACT_COVERAGE),enforce) npx jest --coverage $(JEST_ARGS)

sdk: generate ## Generate a standalone TypeScript client package into build/sdk (@hey-api/openapi-ts)
	npx tsx scripts/sdk.ts --out build/sdk

mock: generate ## Serve the spec's examples (the bundle) with Prism on MOCK_PORT (default 4010)
	npx prism mock openapi/generated/openapi.yaml --host $(or $(MOCK_HOST),127.0.0.1) --port $(or $(MOCK_PORT),4010)

build: $(BUILD_STAMP) ## Compile to dist/: nothing when no source changed, else only what changed (incremental tsc)

$(BUILD_STAMP): $(NPM_STAMP) $(BUILD_SOURCES)
	npx tsc -p tsconfig.build.json
	@touch $(BUILD_STAMP)

migrate: install ## Apply migrations (DATABASE_URL, else the embedded database under DATA_DIR)
	npx tsx scripts/migrate.ts

seed: migrate ## Load the seed data (idempotent)
	npx tsx scripts/seed.ts

seed-bench: migrate ## Bulk-add N products (default 100000), 1,000 users and 10,000 orders for benchmarks
	npx tsx scripts/seed-bench.ts $(N)

bench: build ## Load benchmark on PostgreSQL (BENCH_DATABASE_URL, default bench_api on 127.0.0.1): app vs bare baseline; DURATION=2 CONNECTIONS=10 ONLY=paging
	node dist/scripts/bench/run.js $(if $(DURATION),--duration=$(DURATION)) $(if $(CONNECTIONS),--connections=$(CONNECTIONS)) $(if $(BCRYPT_ROUNDS),--bcrypt-rounds=$(BCRYPT_ROUNDS)) $(if $(ONLY),--only=$(ONLY))

run: generate build seed ## Bundle the spec, migrate, seed and serve on PORT (default 8000) with the start command of package.json
	$$(node -p 'require("./package.json").scripts.start')

dev: generate seed ## Bundle the spec, then serve with reload on change
	npx tsx watch src/server.ts
