#!/usr/bin/env bash
# Installs the headless browser the report test renders report.html in (Debian's chromium-headless-shell: Chromium
# without its window system, a few dozen MB). Does nothing when it, or a full chromium, is already there.
set -euo pipefail
for b in /usr/bin/chromium-headless-shell /usr/bin/chromium; do
  if [ -x "$b" ]; then exit 0; fi
done
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium-headless-shell >/dev/null
/usr/bin/chromium-headless-shell --version
