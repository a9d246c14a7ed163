#!/usr/bin/env bash
# Ctrl-C drains a live job. Starts `aetherflow-examples live_ticks` (which runs until a
# signal), sends SIGNAL once it has processed trades for a second, and checks that it exited 0
# after draining: its output says the signal drained it and that every trade it processed was
# written, once, in order. Each wait is bounded.
#
#   interrupt_drains_live_ticks.sh PROGRAM SIGNAL      (SIGNAL: INT or TERM)
set -euo pipefail
program=$1 signal=$2
out=$(mktemp)
set -m  # job control: a script's background jobs otherwise start with SIGINT ignored
"$program" live_ticks --no-progress --threads 2 --rate 2000 >"$out" 2>&1 &
pid=$!
set +m
trap 'kill -KILL $pid 2>/dev/null || true; rm -f "$out"' EXIT

sleep 1.5
kill -s "$signal" "$pid"
if ! timeout 20 tail --pid="$pid" -s 0.1 -f /dev/null; then
  echo "FAIL: still running 20 s after SIG$signal"
  exit 1
fi
status=0
wait "$pid" || status=$?
cat "$out"
if [ "$status" -ne 0 ]; then
  echo "FAIL: exit status $status, expected 0 (drained)"
  exit 1
fi
grep -q "stopped: SIG$signal received: drained" "$out" || { echo "FAIL: not drained by SIG$signal"; exit 1; }
grep -q "each once, in order: yes" "$out" || { echo "FAIL: the check of the trades"; exit 1; }
echo "SIG$signal: live_ticks drained and checked out"
