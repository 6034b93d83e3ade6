#!/usr/bin/env bash
# Installs what the project's commands need and a fresh machine may lack: uv (from PyPI), a Redis server
# (Debian's redis-server) for the session-store tests, and headless Chromium for the browser-console tests.
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# uv from PyPI: into python3 itself when pip may write there; else into a private venv under .tools/ (what a
# Debian/Ubuntu python3 marked "externally managed" allows); else into the user's site as a last resort.
# scripts/uv finds it in any of these places.
have_uv() { command -v uv >/dev/null 2>&1 || [ -x .tools/venv/bin/uv ] || python3 -m uv --version >/dev/null 2>&1; }
if ! have_uv; then
    echo "ensure-tools: installing uv from PyPI"
    python3 -m pip install --quiet --disable-pip-version-check uv 2>/dev/null \
        || { python3 -m venv .tools/venv && .tools/venv/bin/pip install --quiet --disable-pip-version-check uv; } \
        || { rm -rf .tools/venv; false; } \
        || python3 -m pip install --quiet --disable-pip-version-check --user --break-system-packages uv
    have_uv || { echo "ensure-tools: could not install uv; install it (https://docs.astral.sh/uv/) and retry" >&2; exit 1; }
fi

# System packages: apt-get as root, or through sudo when it needs no password.
apt_install() {
    if [ "$(id -u)" = "0" ]; then
        apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo -n apt-get update -qq >/dev/null && sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
    else
        return 1
    fi
}

if [ "${OMNIA_SKIP_REDIS_INSTALL:-}" != "1" ] && ! command -v redis-server >/dev/null 2>&1; then
    echo "ensure-tools: installing redis-server with apt-get"
    if ! { command -v apt-get >/dev/null 2>&1 && apt_install redis-server; }; then
        echo "ensure-tools: redis-server is missing; install it (e.g. 'sudo apt-get install redis-server')" \
             "or the tests that need a real Redis will fail" >&2
    fi
fi

# Headless Chromium and its WebDriver (Debian's chromium + chromium-driver) for the browser-console tests.
if [ "${OMNIA_SKIP_CHROMIUM_INSTALL:-}" != "1" ] && { ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; }; then
    echo "ensure-tools: installing chromium and chromium-driver with apt-get"
    if ! { command -v apt-get >/dev/null 2>&1 && apt_install chromium chromium-driver; }; then
        echo "ensure-tools: chromium/chromedriver are missing; install them (e.g. 'sudo apt-get install chromium" \
             "chromium-driver') or the browser-console tests will fail" >&2
    fi
fi
