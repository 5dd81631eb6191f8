#!/usr/bin/env bash
# Set up what the tests need (the virtual environment with the pinned packages, and Debian's
# chromium for the browser tests) and run ruff and then the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
if ! command -v chromium >/dev/null 2>&1; then
    echo "Installing Debian's chromium for the browser tests..."
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
fi
.venv/bin/ruff check --quiet .   # the lint rules in pyproject.toml; a finding stops the run here
exec .venv/bin/python -m pytest "$@"
