#!/usr/bin/env bash
# The tests where several instances or processes share one database, and the migrations, through PgBouncer in
# transaction mode: a private pgbouncer (its own config in a temporary directory, trust auth, the first free port
# from 6432) in front of PostgreSQL on 127.0.0.1:5432. Its wildcard entry makes the scratch databases the tests create
# reachable through it as well. Needs the Debian package pgbouncer.
# Usage: scripts/ci/pgbouncer.sh [TEST_FILE...] (default: the list below). With RESULTS_DIR set, jest's JSON report is
# written there as pgbouncer.json. Exits non-zero if a test fails.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
default_tests="test/database.test.ts test/multi-instance.test.ts test/server-process.test.ts test/e2e-journey.test.ts"
tests="${*:-$default_tests}"

bin=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
[ -x "$bin" ] || { echo "pgbouncer is not installed (apt-get install -y pgbouncer)" >&2; exit 1; }

port=6432
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
dir=$(mktemp -d)
db="pgbouncer_$(date +%s)_$$"
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
  rm -rf "$dir"
}
trap cleanup EXIT

cat >"$dir/pgbouncer.ini" <<EOF
[databases]
* = host=127.0.0.1 port=5432

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $dir/userlist.txt
admin_users = postgres
pool_mode = transaction
default_pool_size = 20
max_client_conn = 500
logfile = $dir/pgbouncer.log
EOF
echo '"postgres" ""' >"$dir/userlist.txt"

# PgBouncer refuses to run as root.
if [ "$(id -u)" -eq 0 ]; then
  user=$(id -u postgres >/dev/null 2>&1 && echo postgres || echo nobody)
  chown -R "$user" "$dir"
  setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups "$bin" -q "$dir/pgbouncer.ini" &
else
  "$bin" -q "$dir/pgbouncer.ini" &
fi
pid=$!
admin() { psql "postgres://postgres@127.0.0.1:$port/pgbouncer" -AXF '|' -c "$1"; }
for _ in $(seq 1 50); do
  admin 'show version' >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.2
done
admin 'show version' >/dev/null 2>&1 || { cat "$dir/pgbouncer.log" >&2; echo "pgbouncer did not start" >&2; exit 1; }
echo "pgbouncer $("$bin" --version | head -n 1 | cut -d' ' -f2) on 127.0.0.1:$port, $(admin 'show config' | grep '^pool_mode|' | cut -d'|' -f1-2 | tr '|' '=')"

psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $db" || exit 1
TEST_DATABASE_POOLED=1 TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/$db" make test CONTRACT_COVERAGE=report \
  JEST_ARGS="$tests --coverage=false${RESULTS_DIR:+ --json --outputFile=$RESULTS_DIR/pgbouncer.json}"
status=$?

# What the pooler carried, over every database but its own console. (database.test.ts fails if the tests went around
# it: only PgBouncer refuses the statement_timeout startup parameter.)
served=$(admin 'show stats' | awk -F'|' '
  NR == 1 { for (i = 1; i <= NF; i++) if ($i == "total_xact_count") col = i; next }
  $1 != "pgbouncer" && $col ~ /^[0-9]+$/ { n += $col; dbs += 1 }
  END { printf "%d transactions for %d databases", n, dbs }')
echo "pgbouncer served $served"
[ "$status" -eq 0 ] || { echo "pgbouncer log (last lines):" >&2; tail -n 30 "$dir/pgbouncer.log" >&2; }
exit $status
