#!/usr/bin/env bash
# Install Azurite (Azure Storage emulator, for Event Grid dead-letter blobs) into .edakit-cache/node/ from the
# committed lockfile (scripts/node/package-lock.json: every package's version and sha512 integrity), with `npm ci`.
# Does nothing when that lockfile is already installed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prefix="$root/.edakit-cache/node"
if [ -f "$prefix/node_modules/.package-lock.json" ] && cmp -s "$root/scripts/node/package-lock.json" "$prefix/package-lock.json"; then
  exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "install-azurite: npm not found (install Debian's nodejs and npm)" >&2; exit 2; }
echo "install-azurite: npm ci into $prefix"
mkdir -p "$prefix"
cp "$root/scripts/node/package.json" "$root/scripts/node/package-lock.json" "$prefix/"
(cd "$prefix" && npm ci --no-audit --no-fund --loglevel=error)
