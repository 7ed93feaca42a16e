#!/usr/bin/env bash
# Install Azurite (Azure Storage emulator, for Event Grid dead-letter blobs) from npm into .edakit-cache/node/.
# Does nothing when the pinned version is already there.
set -euo pipefail
version=3.37.0
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prefix="$root/.edakit-cache/node"
installed="$prefix/node_modules/azurite/package.json"
if [ -f "$installed" ] && grep -q "\"version\": \"$version\"" "$installed"; then
  exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "install-azurite: npm not found (install Debian's nodejs and npm)" >&2; exit 2; }
echo "install-azurite: installing azurite@$version into $prefix"
mkdir -p "$prefix"
npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error "azurite@$version"
