#!/usr/bin/env bash
# Regenerate the hash-pinned lock files `make setup` installs from (pip --require-hashes), after a pin changes:
#   requirements/kit.txt      pyproject.toml's dependencies + the test extras + the build backend (setuptools, wheel)
#   requirements/checkov.txt  requirements/checkov.in (checkov and everything it pins, for .venv-checkov)
# Needs PyPI. pip-tools runs from its own venv in .edakit-cache/; it is a maintainer's tool, never installed by setup.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.edakit-cache/pip-tools"
[ -x "$tools/bin/pip-compile" ] || { python3 -m venv "$tools"; "$tools/bin/pip" install -q pip-tools==7.7.0; }
cd "$root"
flags=(-q --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links)
"$tools/bin/pip-compile" "${flags[@]}" --extra test --all-build-deps -o requirements/kit.txt pyproject.toml
"$tools/bin/pip-compile" "${flags[@]}" -o requirements/checkov.txt requirements/checkov.in
