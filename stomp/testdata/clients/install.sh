#!/usr/bin/env bash
# Installs the STOMP clients the stomp package's interop tests run (as root on
# Debian): Perl's Net::Stomp, PHP with the PECL stomp extension, and node's
# stomp-client from package-lock.json into node_modules here. Idempotent: apt
# is only used for what is missing.
#   bash stomp/testdata/clients/install.sh        (from anywhere)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
pkgs=()
perl -MNet::Stomp -e1 2>/dev/null || pkgs+=(libnet-stomp-perl)
command -v php >/dev/null || pkgs+=(php-cli)
php -r 'exit(class_exists("Stomp") ? 0 : 1);' 2>/dev/null || pkgs+=(php-stomp)
# Node may come from somewhere other than Debian: only use Debian's when absent.
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
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${pkgs[@]}"
fi

npm ci --prefix "$here" --no-audit --no-fund
