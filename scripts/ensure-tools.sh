#!/usr/bin/env bash
# Installs what the project's commands need and a fresh machine may lack: uv (from PyPI)
# and a Redis server (Debian's redis-server) for the session-store tests.
# Safe to run again: it only installs what is missing.
set -euo pipefail

if ! command -v uv >/dev/null 2>&1 && ! python3 -m uv --version >/dev/null 2>&1; then
    echo "ensure-tools: installing uv from PyPI"
    python3 -m pip install --quiet --disable-pip-version-check uv
fi

if [ "${OMNIA_SKIP_REDIS_INSTALL:-}" != "1" ] && ! command -v redis-server >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        echo "ensure-tools: installing redis-server with apt-get"
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
    else
        echo "ensure-tools: redis-server is missing; install it (e.g. 'sudo apt-get install redis-server')" \
             "or the tests that need a real Redis will fail" >&2
    fi
fi

# Headless Chromium and its WebDriver (Debian's chromium + chromium-driver) for the browser-console tests.
if [ "${OMNIA_SKIP_CHROMIUM_INSTALL:-}" != "1" ] && { ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; }; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        echo "ensure-tools: installing chromium and chromium-driver with apt-get"
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
    else
        echo "ensure-tools: chromium/chromedriver are missing; install them (e.g. 'sudo apt-get install chromium" \
             "chromium-driver') or the browser-console tests will fail" >&2
    fi
fi
