#!/usr/bin/env bash
# A job of 2 ranks with checkpoints, one rank SIGKILLed midway (mpirun then ends the job),
# run again: it resumes every rank from its own checkpoint, and its output is the input's
# every line (ClusterKill in cluster_test.cpp checks it). Usage: kill_and_resume.sh TESTS WORKDIR
set -euo pipefail
tests=$1 work=$2
here=$(dirname "$0")
rm -rf "$work" && mkdir -p "$work"
seq 1 200000 | sed 's/^/line /' >"$work/input.txt"
export AETHERFLOW_TEST_KILL_DIR=$work
if AETHERFLOW_TEST_KILL_AT=30000 "$here/mpirun.sh" 2 120 "$tests" --gtest_filter='ClusterKill.*' \
  >"$work/first.log" 2>&1; then
  echo "the first run should have ended with the killed rank"; cat "$work/first.log"; exit 1
fi
grep -q "exited on signal 9" "$work/first.log" || { cat "$work/first.log"; exit 1; }
ls "$work"/checkpoint.rank*-of-2 >/dev/null
"$here/mpirun.sh" 2 120 "$tests" --gtest_filter='ClusterKill.*'
