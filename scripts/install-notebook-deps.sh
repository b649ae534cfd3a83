#!/usr/bin/env bash
# Installs what the notebooks need (Debian packages): Jupyter's nbconvert and Python kernel,
# pandas and matplotlib, for /usr/bin/python3. Does nothing when they are already there.
set -euo pipefail
if /usr/bin/python3 -c "import nbconvert, ipykernel, pandas, matplotlib" 2>/dev/null; then exit 0; fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
  python3-nbconvert python3-ipykernel python3-pandas python3-matplotlib jupyter-nbconvert >/dev/null
/usr/bin/python3 -c "import nbconvert, ipykernel, pandas, matplotlib"
