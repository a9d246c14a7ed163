#!/usr/bin/env bash
# Installs, from Debian's packages, whatever AetherFlow needs to build, test and run its
# examples that this machine does not have yet. Quick and silent when all is present.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libtbb-dev libboost-graph-dev libcereal-dev rapidjson-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev libcpp-httplib-dev
  clang-14 libclang-rt-14-dev clang-format
  graphviz prometheus
  openmpi-bin libopenmpi-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
