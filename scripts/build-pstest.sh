#!/usr/bin/env bash
# Build tools/pstest-server (Google's pstest Pub/Sub fake) into .edakit-cache/bin/pstest-server, offline:
# GOPATH mode over Debian's Go sources in /usr/share/gocode, no module proxy. The toolchain and every Go source
# package it builds from are pinned to exact Debian versions (scripts/pstest-debian-packages.txt): missing or
# different ones are installed at those versions, and the build refuses to run on anything else.
# Does nothing when already built from the current sources and pins.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/.edakit-cache/bin/pstest-server"
src="$root/tools/pstest-server/main.go"
pins_file="$root/scripts/pstest-debian-packages.txt"
if [ -x "$out" ] && [ "$out" -nt "$src" ] && [ "$out" -nt "$pins_file" ]; then
  exit 0
fi
mapfile -t pins < <(grep -v '^#' "$pins_file" | grep .)
unpinned() {
  local pin
  for pin in "${pins[@]}"; do
    [ "$(dpkg-query -W -f='${Package}=${Version}' "${pin%%=*}" 2>/dev/null)" = "$pin" ] || echo "$pin"
  done
}
mapfile -t need < <(unpinned)
if [ ${#need[@]} -gt 0 ]; then
  echo "build-pstest: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends --allow-downgrades "${need[@]}" >/dev/null
  mapfile -t need < <(unpinned)
  if [ ${#need[@]} -gt 0 ]; then
    echo "build-pstest: these pinned Debian packages are not installed at their pinned versions: ${need[*]}" >&2
    exit 2
  fi
fi
mkdir -p "$(dirname "$out")"
echo "build-pstest: building $out"
cd "$root"
GO111MODULE=off GOPATH=/usr/share/gocode GOPROXY=off GOFLAGS= GOCACHE="$root/.edakit-cache/go-build" \
  go build -o "$out.tmp" ./tools/pstest-server
mv "$out.tmp" "$out"
