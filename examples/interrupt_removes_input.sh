#!/usr/bin/env bash
# A generated input does not outlive an interrupted program. Starts `aetherflow-examples
# log_analytics` with TMPDIR=WORK_DIR on an input far too large to finish generating, sends
# SIGNAL as soon as the input file exists, and checks that the program died of that signal
# (exit status 128 + its number) and left nothing in WORK_DIR. Each wait is bounded.
#
#   interrupt_removes_input.sh PROGRAM SIGNAL WORK_DIR      (SIGNAL: INT or TERM)
set -euo pipefail
program=$1 signal=$2 work=$3
rm -rf "$work"
mkdir -p "$work"

# Job control: a script's background jobs otherwise start with SIGINT ignored, and the program
# leaves a signal ignored at its start ignored.
set -m
TMPDIR=$work "$program" log_analytics --size 1000000000 --no-progress --threads 2 >/dev/null &
pid=$!
set +m  # (started: no job notices from here on)
trap 'kill -KILL $pid 2>/dev/null || true; rm -rf "$work"' EXIT

for _ in $(seq 200); do  # 10 s for the input to appear
  [ -n "$(ls -A "$work")" ] && break
  sleep 0.05
done
if [ -z "$(ls -A "$work")" ]; then
  echo "FAIL: no generated input appeared in $work"
  exit 1
fi
echo "input: $(ls -A "$work")"

kill -s "$signal" "$pid"
if ! timeout 10 tail --pid="$pid" -s 0.1 -f /dev/null; then
  echo "FAIL: still running 10 s after SIG$signal"
  exit 1
fi
status=0
wait "$pid" || status=$?

expected=$((128 + $(kill -l "$signal")))
if [ "$status" -ne "$expected" ]; then
  echo "FAIL: exit status $status, expected $expected (ended by SIG$signal)"
  exit 1
fi
left=$(ls -A "$work")
if [ -n "$left" ]; then
  echo "FAIL: left behind in $work: $left"
  exit 1
fi
echo "SIG$signal: the program ended by the signal, and its generated input is gone"
