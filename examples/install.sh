#!/usr/bin/env bash
# Install what the sample consumers in examples/ need on Debian (run as root
# when something is missing). Idempotent: apt-get runs only for what is
# missing, then rhea is installed from examples/node-rhea/package-lock.json.
#   sudo bash examples/install.sh        (from anywhere)
# The Go examples need nothing here: their modules are in go.mod.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
pkgs=()

# The Python examples run under Debian's python3 (/usr/bin/python3), which is
# where Debian's packages put proton and stomp.py.
/usr/bin/python3 -c 'import proton' 2>/dev/null || pkgs+=(python3-qpid-proton)
/usr/bin/python3 -c 'import stomp' 2>/dev/null || pkgs+=(python3-stomp)

# node may come from elsewhere (nodesource, nvm, ...): take Debian's nodejs and
# npm only when there is no node at all, never on top of another one.
if ! command -v node >/dev/null; then
  pkgs+=(nodejs)
  command -v npm >/dev/null || pkgs+=(npm)
elif ! command -v npm >/dev/null; then
  echo "examples/install.sh: node is at $(command -v node) but npm is missing; install the npm that goes with it" >&2
  exit 1
fi

if ((${#pkgs[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "examples/install.sh: root is needed to apt-get install ${pkgs[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${pkgs[@]}"
fi

npm ci --prefix "$here/node-rhea" --no-audit --no-fund
