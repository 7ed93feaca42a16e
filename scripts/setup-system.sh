#!/usr/bin/env bash
# System packages the tests need on a fresh machine: Redis, Prometheus (promtool), Graphviz and Chromium from Debian; PostgreSQL 15
# binaries are checked for.
set -euo pipefail
need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
[ -x /usr/lib/postgresql/15/bin/initdb ] || need+=(postgresql-15)
command -v runuser >/dev/null 2>&1 || need+=(util-linux)
# promtool (make validate: promtool check/test rules) and the Prometheus server of the alert end-to-end test
{ command -v promtool && command -v prometheus; } >/dev/null 2>&1 || need+=(prometheus)
# Graphviz `dot` (edakit diagram --format svg|png) and headless Chromium (the docs-site test opens the page)
command -v dot >/dev/null 2>&1 || need+=(graphviz)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  echo "setup-system: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
