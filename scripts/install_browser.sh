#!/usr/bin/env bash
# Install the headless browser the report's browser test drives: Debian's chromium and chromium-driver.
# Idempotent: does nothing when both binaries are already present. No browser is ever downloaded from
# anywhere but the system's package manager (selenium is always given /usr/bin/chromedriver explicitly).
set -euo pipefail

CHROMIUM=/usr/bin/chromium
DRIVER=/usr/bin/chromedriver

if [[ -x "$CHROMIUM" && -x "$DRIVER" ]]; then
    echo "install_browser: chromium and chromedriver already installed ($("$CHROMIUM" --version 2>/dev/null || echo "?"))"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install_browser: apt-get not found; install chromium and chromium-driver with your package manager." >&2
    exit 1
fi

SUDO=""
if [[ "$(id -u)" -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install_browser: must run as root (or with sudo) to apt-get install chromium chromium-driver." >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver
# fonts-dejavu-core gives the page and the screenshot a real font when the image has none.
$SUDO apt-get install -y -qq --no-install-recommends fonts-dejavu-core || true

"$CHROMIUM" --version
"$DRIVER" --version
