#!/usr/bin/env bash
# Set up a working copy: Debian's graphviz (for `dot`) if missing, a venv in .venv, and the
# package with an extra: `examples` (default: what the examples need) or `dev` (tests too).
set -euo pipefail
cd "$(dirname "$0")/.."
extra="${1:-examples}"

if ! command -v dot >/dev/null 2>&1; then
  echo "setup: installing Debian's graphviz for the 'dot' renderer" >&2
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq graphviz >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
.venv/bin/python -m pip install -q -e ".[${extra}]"
