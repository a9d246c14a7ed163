#!/usr/bin/env bash
# Fails when a C++ file includes a header its layer must not reach (docs/architecture.md,
# "Layers and the include rules"). Prints one line per violation:
#   <file>:<line>: includes <header>: rule (<letter>) <the rule>
# Usage: scripts/check-includes.sh [ROOT]   (ROOT: the tree to check; default the repository)
#
# The rules, on the #include <...> and #include "..." lines of the .hpp/.cpp/.h files under
# ROOT's flow/, contexts/ and nodes/ (paths as written, from the repository root):
#   (a) contexts/ includes nothing from flow/detail/ but the leaf flow/detail/type_name.hpp,
#       and nothing from nodes/.
#   (b) flow/detail/type_name.{hpp,cpp} include no project header (flow/, contexts/, nodes/),
#       the .cpp none but its own.
#   (c) flow/errors.cpp includes nothing from flow/detail/ but flow/detail/type_name.hpp.
#   (d) flow/source.hpp and flow/emitter.hpp include nothing from flow/detail/ but
#       flow/detail/batch_core.hpp.
#   (e) nodes/ includes nothing from flow/detail/ nor contexts/detail/ (nodes/detail/ is its
#       own); ALLOWED below lists the exceptions.
#   (f) nothing under flow/ or contexts/ includes nodes/, but the umbrella flow/aetherflow.hpp
#       and flow/testing/ (built on the whole public API, nodes/ included).
#   (g) the parts of a run (flow/detail/run/) include only parts below them: each has a level
#       (RUN_LEVELS), and a part includes only lower levels (a .cpp also its own header).
set -euo pipefail

# The one allow-list: "<file> <header>" pairs that break a rule for now, each with the reason
# and who removes it. An entry whose file no longer includes its header fails the check, so
# the list only shrinks.
ALLOWED=()

root="${1:-$(dirname "$0")/..}"
cd "$root"
dirs=()
for d in flow contexts nodes; do [[ -d $d ]] && dirs+=("$d"); done
if ((${#dirs[@]} == 0)); then
  echo "check-includes: $(pwd) has no flow/, contexts/ or nodes/: nothing to check" >&2
  exit 2
fi

rule_a="(a) contexts/ includes nothing from flow/detail/ (but flow/detail/type_name.hpp) nor nodes/"
rule_b="(b) flow/detail/type_name is a leaf: it includes no project header"
rule_c="(c) flow/errors.cpp includes nothing from flow/detail/ but flow/detail/type_name.hpp"
rule_d="(d) flow/source.hpp and flow/emitter.hpp include from flow/detail/ only batch_core.hpp"
rule_e="(e) nodes/ includes nothing from flow/detail/ nor contexts/detail/"
rule_f="(f) nothing under flow/ or contexts/ includes nodes/, but flow/aetherflow.hpp and flow/testing/"
rule_g="(g) a part of the run (flow/detail/run/) includes only the parts below it"

# The parts of a run, bottom up: what each may include is below it.
declare -A RUN_LEVELS=(
  [atomic_counts]=0 [call_clock]=0 [call_observer]=0 [graph_nodes]=0 [progress]=0
  [run_state]=1 [observers]=1
  [call]=2
  [sources]=3 [holders]=3
  [wiring]=4
  [run_report]=5
)
# The level of a run part's file or header (flow/detail/run/<name>.{hpp,cpp}); -1: not one.
run_level() {
  local name=${1##*/}
  name=${name%.*}
  level=${RUN_LEVELS[$name]:--1}
}

# Sets `rule` to the rule `file` breaks by including `header`, or to nothing (no subshell:
# it runs once per include line).
broken_rule() {
  local file=$1 header=$2
  local project=0
  rule=""
  [[ $header == flow/* || $header == contexts/* || $header == nodes/* ]] && project=1
  case $file in
    contexts/*)
      if [[ ($header == flow/detail/* && $header != flow/detail/type_name.hpp) ||
        $header == nodes/* ]]; then
        rule=$rule_a
        return
      fi
      ;;
    flow/detail/type_name.hpp | flow/detail/type_name.cpp)
      if ((project)) && [[ $header != flow/detail/type_name.hpp ]]; then
        rule=$rule_b
        return
      fi
      ;;
    flow/errors.cpp)
      if [[ $header == flow/detail/* && $header != flow/detail/type_name.hpp ]]; then
        rule=$rule_c
        return
      fi
      ;;
    flow/source.hpp | flow/emitter.hpp)
      if [[ $header == flow/detail/* && $header != flow/detail/batch_core.hpp ]]; then
        rule=$rule_d
        return
      fi
      ;;
    nodes/*)
      if [[ $header == flow/detail/* || $header == contexts/detail/* ]]; then
        rule=$rule_e
        return
      fi
      ;;
  esac
  if [[ ($file == flow/* || $file == contexts/*) && $file != flow/aetherflow.hpp &&
    $file != flow/testing/* && $header == nodes/* ]]; then
    rule=$rule_f
    return
  fi
  if [[ $file == flow/detail/run/* && $header == flow/detail/run/* ]]; then
    local mine theirs
    run_level "$file"
    mine=$level
    run_level "$header"
    theirs=$level
    [[ ${file%.*} == "${header%.*}" ]] && return  # a .cpp and its own header
    if ((mine < 0 || theirs < 0 || theirs >= mine)); then rule=$rule_g; fi
  fi
}

declare -A allowance_used=()
# Whether the allow-list excuses `file` including `header` (and notes that the entry served).
is_allowed() {
  local pair
  for pair in "${ALLOWED[@]}"; do
    if [[ $pair == "$1 $2" ]]; then
      allowance_used[$pair]=1
      return 0
    fi
  done
  return 1
}

include_re='^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]([^>"]+)[>"]'
violations=0
files=0
while IFS= read -r -d '' file; do
  file=${file#./}
  ((++files))
  number=0
  while IFS= read -r line || [[ -n $line ]]; do
    ((++number))
    [[ $line =~ $include_re ]] || continue
    header=${BASH_REMATCH[1]}
    broken_rule "$file" "$header"
    [[ -z $rule ]] && continue
    is_allowed "$file" "$header" && continue
    echo "$file:$number: includes <$header>: rule $rule"
    ((++violations))
  done <"$file"
done < <(find "${dirs[@]}" -type f \( -name '*.hpp' -o -name '*.cpp' -o -name '*.h' \) -print0 |
  sort -z)

# An entry for a file of this tree that no longer includes its header has served its time.
for pair in "${ALLOWED[@]}"; do
  if [[ -f ${pair%% *} && -z ${allowance_used[$pair]:-} ]]; then
    echo "scripts/check-includes.sh: allow-list entry '$pair' is no longer needed: remove it"
    ((++violations))
  fi
done

if ((violations > 0)); then
  echo "check-includes: $violations violation(s) of the include rules in $files files" \
    "(docs/architecture.md, \"Layers and the include rules\")"
  exit 1
fi
echo "check-includes: $files files, the include rules hold"
