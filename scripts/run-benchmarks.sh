#!/usr/bin/env bash
# Runs the benchmark suite (bench/) and writes a markdown report for docs/performance.md: the
# machine (cores, CPU), the date and commit, then every ratio and figure with its goal.
#
#   scripts/run-benchmarks.sh [BUILD_DIR] [OUT] [REPETITIONS]
#   (defaults: build/release, bench-results.md, 3; BENCHES="light_chain fan_in" picks some)
#
# Each benchmark runs REPETITIONS times in random order; ratios use the medians.
set -euo pipefail

build=${1:-build/release}
out=${2:-bench-results.md}
repetitions=${3:-3}
benches=${BENCHES:-light_chain heavy_chain fan_in granularity allocations streaming keyed contexts profiler latency mpi}

{
  echo "# Benchmark results"
  echo
  echo "- date: $(date -u +%Y-%m-%d)"
  echo "- cores: $(nproc), $(lscpu | sed -n 's/^Model name: *//p')"
  echo "- commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "- command: \`scripts/run-benchmarks.sh $build $out $repetitions\`"
} >"$out"

for bench in $benches; do
  [ -x "$build/bench/bench_$bench" ] || continue  # bench_mpi: builds with the mpi component
  printf '\n## %s\n\n| figure | measured | goal | |\n| --- | ---: | ---: | --- |\n' "$bench" >>"$out"
  # bench_mpi runs on 2 ranks, fixed iterations (its own), under the tests' mpirun driver.
  launch=()
  [ "$bench" = mpi ] && launch=("$(dirname "$0")/../tests/mpi/mpirun.sh" 2 1200)
  AETHERFLOW_BENCH_MARKDOWN="$(realpath "$out")" "${launch[@]}" "$build/bench/bench_$bench" \
    --benchmark_repetitions="$repetitions" --benchmark_report_aggregates_only=true
done
echo "run-benchmarks: wrote $out" >&2
