#!/usr/bin/env bash
# Runs one step of a make target, saying when it starts and how long it took: timed.sh NAME COMMAND [ARG...]
name=$1
shift
echo "==> $name"
start=$(date +%s%N)
"$@"
status=$?
ms=$((($(date +%s%N) - start) / 1000000))
if [ "$status" -eq 0 ]; then echo "<== $name: ${ms} ms"; else echo "<== $name: FAILED after ${ms} ms" >&2; fi
exit "$status"
