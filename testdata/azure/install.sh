#!/usr/bin/env bash
# Install the Azure SDKs the amqp/brokerbackend tests run (@azure/service-bus,
# @azure/event-hubs) from package-lock.json into testdata/azure/node_modules.
# Needs node and npm: Debian's nodejs/npm are installed (as root) only when
# node is absent, as testdata/interop/install.sh does.
#   bash testdata/azure/install.sh        (from the repo root, or from anywhere)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  bash "$here/../interop/install.sh"
fi

npm ci --prefix "$here" --no-audit --no-fund
