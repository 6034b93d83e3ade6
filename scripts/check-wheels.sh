#!/usr/bin/env bash
# Installs each wheel in DIST into its own fresh virtualenv with plain pip and imports it,
# proving each package's declared dependencies are complete.
set -euo pipefail
dist=${1:-dist}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
check() {  # distribution, import name
    local venv="$tmp/$1"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check --find-links "$dist" "$1"
    "$venv/bin/python" -c "import $2; print('$1: import $2 ok')"
}
check omnia-protos omnia_protos
check omnia-runtime omnia_runtime
check omnia-facade omnia_facade
check omnia-operator omnia_operator
