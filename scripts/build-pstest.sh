#!/usr/bin/env bash
# Build tools/pstest-server (Google's pstest Pub/Sub fake) into .edakit-cache/bin/pstest-server, offline:
# GOPATH mode over Debian's Go sources in /usr/share/gocode, no module proxy. Does nothing when already built.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/.edakit-cache/bin/pstest-server"
src="$root/tools/pstest-server/main.go"
if [ -x "$out" ] && [ "$out" -nt "$src" ]; then
  exit 0
fi
gocode=/usr/share/gocode
if ! command -v go >/dev/null 2>&1 || [ ! -d "$gocode/src/cloud.google.com/go/pubsub/pstest" ]; then
  echo "build-pstest: installing golang-go golang-google-cloud-dev"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends golang-go golang-google-cloud-dev >/dev/null
fi
mkdir -p "$(dirname "$out")"
echo "build-pstest: building $out"
cd "$root"
GO111MODULE=off GOPATH="$gocode" GOPROXY=off GOFLAGS= GOCACHE="$root/.edakit-cache/go-build" \
  go build -o "$out.tmp" ./tools/pstest-server
mv "$out.tmp" "$out"
