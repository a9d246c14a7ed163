#!/usr/bin/env bash
# An example flow's --output is byte for byte the same on one process and under mpirun with
# 2 and 4 ranks (docs/distributed.md). The input is generated once (aetherflow-generate), so
# every rank splits the same file.
# Usage: same_output_on_ranks.sh EXAMPLES GENERATE FLOW KIND SIZE WORKDIR
set -euo pipefail
examples=$1 generate=$2 flow=$3 kind=$4 size=$5 work=$6
here=$(dirname "$0")
mkdir -p "$work"
input="$work/$flow.input"
"$generate" "$kind" "$size" "$input" >/dev/null
"$examples" "$flow" --input "$input" --threads 2 --no-progress --output "$work/$flow.1" >/dev/null
for n in 2 4; do
  "$here/mpirun.sh" "$n" 240 "$examples" "$flow" --input "$input" --threads 1 --no-progress \
    --output "$work/$flow.$n" >"$work/$flow.$n.log" 2>&1 || { cat "$work/$flow.$n.log"; exit 1; }
  cmp "$work/$flow.1" "$work/$flow.$n"
done
echo "$flow: $(wc -l <"$work/$flow.1") lines, the same on 1, 2 and 4 ranks"
grep -m1 "matches a single-threaded count\|requests " "$work/$flow.4.log"
