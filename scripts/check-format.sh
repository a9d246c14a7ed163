#!/usr/bin/env bash
# Fails when a C++ file of the repository differs from what clang-format makes of it
# (style: .clang-format; fix with: clang-format -i <files>), or when an #include breaks the
# layers' include rules (scripts/check-includes.sh, docs/architecture.md).
set -euo pipefail
cd "$(dirname "$0")/.."
git ls-files '*.cpp' '*.hpp' | xargs clang-format --dry-run -Werror
echo "check-format: all C++ files formatted"
./scripts/check-includes.sh
