#!/usr/bin/env bash
# Install the MQTT device clients the tests drive (run as root on Debian):
# mosquitto_pub (Debian's mosquitto-clients) and the platform's official
# Node.js device SDK from package-lock.json. Idempotent.
#   bash mqtt/testdata/clients/install.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if ! command -v mosquitto_pub >/dev/null; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "install.sh: need root to apt-get install mosquitto-clients" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends mosquitto-clients
fi
command -v npm >/dev/null || { echo "install.sh: npm is missing (testdata/interop/install.sh installs it)" >&2; exit 1; }
npm ci --prefix "$here" --no-audit --no-fund
