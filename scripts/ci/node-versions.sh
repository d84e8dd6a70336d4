#!/usr/bin/env bash
# The boot and end-to-end journey tests on each supported Node.js line besides the machine's own. Each release comes
# from the npm registry as the package `node` (its binary lands in node_modules/.bin), so nothing else is downloaded.
# Usage: scripts/ci/node-versions.sh [MAJOR...] (default: 22 24). Exits non-zero if any version fails. With
# RESULTS_DIR set, jest's JSON report of each version is written there as node-MAJOR.json.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
status=0
for major in "${@:-22 24}"; do
  for version in $major; do
    prefix=$(mktemp -d)
    npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error "node@$version" >/dev/null || {
      echo "node $version: install failed"; status=1; continue; }
    echo "=== node $("$prefix/node_modules/.bin/node" --version)"
    PATH="$prefix/node_modules/.bin:$PATH" make test CONTRACT_COVERAGE=report \
      JEST_ARGS="test/server-process.test.ts test/e2e-journey.test.ts --coverage=false${RESULTS_DIR:+ --json --outputFile=$RESULTS_DIR/node-$version.json}" ||
      status=1
    rm -rf "$prefix"
  done
done
exit $status
