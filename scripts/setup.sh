#!/usr/bin/env bash
# Installs everything ksdb needs to build and test on Debian 12, idempotently:
# Debian packages with apt-get (skipped when already installed) and the npm
# packages of the API tests and benchmarks.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git ca-certificates curl
  libsqlite3-dev sqlite3 libsimdjson-dev libre2-dev libcpp-httplib-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev nodejs npm
  libpq-dev postgresql libssl-dev
  python3 python3-dev python3-pytest python3-numpy python3-pip python3-venv
  python3-setuptools python3-wheel pybind11-dev
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
# node/npm may come from outside Debian's archive (e.g. a newer Node already on
# the machine); only ask apt for them when the commands are missing.
if command -v node >/dev/null && command -v npm >/dev/null; then
  filtered=()
  for pkg in "${missing[@]}"; do
    [[ "$pkg" == nodejs || "$pkg" == npm ]] || filtered+=("$pkg")
  done
  missing=("${filtered[@]}")
fi

if ((${#missing[@]})); then
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
