#!/usr/bin/env bash
# The operator's path, with production dependencies only: the built dist/ plus `npm ci --omit=dev` in a clean
# directory, then migrations, the first superuser, the server, readiness and one login. Needs `make build` first
# and PostgreSQL on 127.0.0.1:5432. Exits non-zero, saying why, at the first step that fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
[ -f "$root/dist/src/server.js" ] || { echo "dist/ is missing: run make build first" >&2; exit 1; }

work=$(mktemp -d)
db="prod_path_$(date +%s)_$$"
port=$((20000 + RANDOM % 20000))
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "production path: $*" >&2; exit 1; }

cp -r "$root/dist" "$root/openapi" "$root/package.json" "$root/package-lock.json" "$work/"
cd "$work"
npm ci --omit=dev --no-audit --no-fund --loglevel=error
echo "production install: $(du -sm node_modules | cut -f1) MB"
for dev in typescript openapi-typescript jest tsx; do
  [ ! -e "node_modules/$dev" ] || fail "$dev is in the production install"
done

psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $db"
export NODE_ENV=production HOST=127.0.0.1 PORT=$port BCRYPT_ROUNDS=4
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db"
SECRET_KEY=$(node -e "console.log(require('node:crypto').randomBytes(48).toString('base64url'))")
export SECRET_KEY FIRST_SUPERUSER_EMAIL=ops@example.com FIRST_SUPERUSER_USERNAME=ops FIRST_SUPERUSER_PASSWORD=Prod-Path-Horse-42

# Polls PATH on the server until it answers 200 (30 s at most); fails with LOG shown if it exits or answers otherwise.
wait_for_200() {
  local path=$1 log=$2 what=$3 code=""
  for _ in $(seq 1 150); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port$path" || true)
    [ "$code" = 200 ] && return 0
    kill -0 "$server" 2>/dev/null || { cat "$log" >&2; fail "$what exited"; }
    sleep 0.2
  done
  cat "$log" >&2
  fail "$path from $what answered $code"
}

node dist/scripts/migrate.js || fail "migrations failed"
node dist/scripts/seed.js || fail "seeding the first superuser failed"
# The documented start command, package.json's `start` (node with its flags), run directly so that $! is the server.
start=$(node -p 'require("./package.json").scripts.start')
$start >"$work/server.log" 2>&1 &
server=$!

wait_for_200 /health/ready "$work/server.log" "the server"

login=$(curl -s -w '\n%{http_code}' -X POST "http://127.0.0.1:$port/api/v1/auth/login" \
  --data-urlencode username=ops --data-urlencode password=Prod-Path-Horse-42)
[ "$(tail -n 1 <<<"$login")" = 200 ] || fail "login answered: $login"
grep -q '"access_token"' <<<"$login" || fail "login gave no access token: $login"
products=$(curl -s "http://127.0.0.1:$port/api/v1/products")
grep -q '"total":0' <<<"$products" || fail "a production seed inserted demo products: ${products:0:200}"

# Tracing on from the environment alone: the OpenTelemetry packages must be in the production install.
kill "$server"; wait "$server" || true
OTEL_TRACES_EXPORTER=console OTEL_SERVICE_NAME=prod-path $start >"$work/traced.log" 2>&1 &
server=$!
wait_for_200 /health "$work/traced.log" "the server with tracing on"
for _ in $(seq 1 50); do grep -q "name: 'getHealth'" "$work/traced.log" && break; sleep 0.2; done
grep -q "name: 'getHealth'" "$work/traced.log" || { cat "$work/traced.log" >&2; fail "tracing on printed no span"; }
grep -q '"message":"request".*"trace_id"' "$work/traced.log" || fail "the request log line has no trace_id"
echo "production path: install, migrate, seed, serve, /health/ready 200, login 200, no demo data, tracing on"
