#!/usr/bin/env bash
# Install what the interop client scripts need on Debian (run as root). Idempotent:
# apt is only used for tools that are missing, then rhea is installed from package-lock.json.
#   bash testdata/interop/install.sh        (from the repo root, or from anywhere)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
pkgs=()

# proton_client.py runs under Debian's python (the bindings are a Debian package).
/usr/bin/python3 -c 'import proton' 2>/dev/null || pkgs+=(python3-qpid-proton)
# uamqp_client.py likewise (python3-uamqp).
/usr/bin/python3 -c 'import uamqp' 2>/dev/null || pkgs+=(python3-uamqp)

# Node may come from somewhere other than Debian (nodesource, nvm, ...): only use
# Debian's nodejs/npm when node is absent, never install them on top of another node.
if ! command -v node >/dev/null; then
  pkgs+=(nodejs)
  command -v npm >/dev/null || pkgs+=(npm)
elif ! command -v npm >/dev/null; then
  echo "install.sh: node found at $(command -v node) but npm is missing; install npm for that node" >&2
  exit 1
fi

if ((${#pkgs[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "install.sh: need root to apt-get install ${pkgs[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y "${pkgs[@]}"
fi

npm ci --prefix "$here" --no-audit --no-fund
