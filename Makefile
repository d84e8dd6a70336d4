# Every target installs dependencies first when they are missing.
SHELL := /bin/bash
.DEFAULT_GOAL := help
NPM_STAMP := node_modules/.package-lock.json
export NODE_OPTIONS := --experimental-vm-modules --no-warnings=ExperimentalWarning

.PHONY: help install generate lint lint-spec typecheck check test run dev build migrate seed

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  make %-10s %s\n", $$1, $$2}'

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $(NPM_STAMP)

install: $(NPM_STAMP) ## Install dependencies (npm ci)

generate: install ## Regenerate src/generated/openapi.ts from openapi/openapi.yaml
	npx openapi-typescript openapi/openapi.yaml -o src/generated/openapi.ts

lint: install ## ESLint and Prettier
	npx eslint .
	npx prettier --check .

lint-spec: install ## Lint the spec with Redocly (zero warnings)
	@out=$$(npx redocly lint --config openapi/redocly.yaml --max-problems 50 openapi/openapi.yaml 2>&1); status=$$?; \
	  echo "$$out"; if [ $$status -ne 0 ] || grep -q 'You have [0-9]* warning' <<< "$$out"; then exit 1; fi

typecheck: install ## TypeScript, strict
	npx tsc --noEmit

check: install typecheck lint lint-spec ## Everything static: types, lint, spec lint, generated types fresh
	@tmp=$$(mktemp -d) && npx openapi-typescript openapi/openapi.yaml -o $$tmp/openapi.ts >/dev/null \
	  && if cmp -s $$tmp/openapi.ts src/generated/openapi.ts; then echo "generated types are fresh"; \
	  else echo "src/generated/openapi.ts is stale: run 'make generate' and commit it" >&2; exit 1; fi

test: install ## Run the whole suite (TEST_DATABASE_URL when set, else embedded PGlite) with coverage
	npx jest --coverage $(JEST_ARGS)

build: install ## Compile to dist/
	npx tsc -p tsconfig.build.json

migrate: install ## Apply migrations (DATABASE_URL, else the embedded database under DATA_DIR)
	npx tsx scripts/migrate.ts

seed: migrate ## Load the seed data (idempotent)
	npx tsx scripts/seed.ts

run: build seed ## Migrate, seed and serve on PORT (default 8000)
	node dist/src/server.js

dev: seed ## Serve with reload on change
	npx tsx watch src/server.ts
