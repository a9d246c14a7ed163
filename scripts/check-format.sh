#!/usr/bin/env bash
# Fails when a C++ file of the repository differs from what clang-format makes of it
# (style: .clang-format). Fix with: clang-format -i <files>.
set -euo pipefail
cd "$(dirname "$0")/.."
git ls-files '*.cpp' '*.hpp' | xargs clang-format --dry-run -Werror
echo "check-format: all C++ files formatted"
