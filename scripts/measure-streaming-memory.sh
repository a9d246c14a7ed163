#!/usr/bin/env bash
# Streams a 400 MB and a 4 GB generated text file through a three-node flow and compares the
# peak resident memory: it must stay under 100 MB for 4 GB, and within 10% of the 400 MB peak.
#
#   scripts/measure-streaming-memory.sh [BUILD_DIR]     (default build/release)
set -euo pipefail
build=${1:-build/release}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$build/scripts/aetherflow-generate" text 400M "$work/small.txt" > /dev/null
"$build/scripts/aetherflow-generate" text 4G "$work/large.txt" > /dev/null

small=$("$build/bench/streaming_memory" "$work/small.txt")
rm -f "$work/small.txt"
large=$("$build/bench/streaming_memory" "$work/large.txt")
echo "$small"
echo "$large"

peak_of() { awk '{ for (i = 1; i < NF; i++) if ($(i + 1) == "peak_rss_kib") print $i }' <<< "$1"; }
small_kib=$(peak_of "$small")
large_kib=$(peak_of "$large")
echo "peak RSS: 400 MB file ${small_kib} KiB, 4 GB file ${large_kib} KiB"

status=0
if (( large_kib >= 100 * 1024 )); then
  echo "FAIL: streaming 4 GB peaked at ${large_kib} KiB, over 100 MB"; status=1
fi
if (( large_kib * 10 > small_kib * 11 || small_kib * 10 > large_kib * 11 )); then
  echo "FAIL: the 4 GB peak is not within 10% of the 400 MB peak"; status=1
fi
(( status )) || echo "OK: memory stays flat whatever the file size"
exit $status
