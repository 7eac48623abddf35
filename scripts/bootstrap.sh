#!/usr/bin/env bash
# Prepares a Debian/Ubuntu machine for meshdash: the Debian packages the demo and the tests run
# (redis-server, prometheus; chromium with --browser; postgresql-client with --psql) and a .venv
# with requirements-dev.txt. Idempotent: when everything is in place it only checks and returns.
#
#   scripts/bootstrap.sh [--browser] [--psql]
#
# As root it installs missing packages with apt-get; otherwise it stops and prints the exact
# `sudo apt-get install` command to run first.
set -euo pipefail

cd "$(dirname "$0")/.."

want_browser=false
want_psql=false
for arg in "$@"; do
    case "$arg" in
        --browser) want_browser=true ;;
        --psql) want_psql=true ;;
        *) echo "bootstrap: unknown option $arg (use --browser, --psql)" >&2; exit 2 ;;
    esac
done

PYTHON="${PYTHON:-python3}"
VENV=.venv
STAMP="$VENV/.meshdash-requirements"

say() { echo "bootstrap: $*"; }

if ! command -v "$PYTHON" >/dev/null 2>&1; then
    say "$PYTHON not found: meshdash needs Python 3.11 or newer (sudo apt-get install -y python3 python3-venv)" >&2
    exit 1
fi
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    say "$("$PYTHON" --version 2>&1) is too old: meshdash needs Python 3.11 or newer (set PYTHON=...)" >&2
    exit 1
fi

# --- Debian packages: a command we need, and the package that provides it.
missing=()
need() {
    local command_name=$1 package=$2
    if ! command -v "$command_name" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$command_name" ]; then
        missing+=("$package")
    fi
}
need redis-server redis-server
need prometheus prometheus
if $want_browser; then need chromium chromium; fi
if $want_psql; then need psql postgresql-client; fi
# Debian's python3 creates virtual environments only with python3-venv (ensurepip) installed.
if [ ! -x "$VENV/bin/python" ] && ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    missing+=(python3-venv)
fi

if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        say "missing Debian packages: ${missing[*]}. Install them first with:" >&2
        echo "    sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q </dev/null
    apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
    for package in "${missing[@]}"; do
        if [ "$package" = prometheus ]; then
            # Debian's package starts a system Prometheus on :9090 where systemd runs; the demo
            # needs that port (or MESHDASH_DEMO_PROMETHEUS_PORT set to another one).
            say "note: Debian's prometheus may now run as a system service on :9090;" \
                "stop it (systemctl disable --now prometheus) or set MESHDASH_DEMO_PROMETHEUS_PORT"
        fi
    done
fi

# --- The virtual environment, reinstalled only when the requirements (or the Python) change.
if [ ! -x "$VENV/bin/python" ]; then
    say "creating $VENV with $("$PYTHON" --version 2>&1)"
    "$PYTHON" -m venv "$VENV"
fi
wanted=$(cat requirements.txt requirements-dev.txt <("$VENV/bin/python" --version 2>&1) | sha256sum | cut -d' ' -f1)
if [ "$(cat "$STAMP" 2>/dev/null || true)" != "$wanted" ]; then
    say "installing requirements-dev.txt into $VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
    echo "$wanted" >"$STAMP"
fi
say "ready ($VENV, redis-server, prometheus$($want_browser && echo ", chromium" || true))"
