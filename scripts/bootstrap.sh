#!/usr/bin/env bash
# Prepares a Debian/Ubuntu machine for meshdash: the Debian packages the demo and the tests run
# (redis-server, prometheus; chromium with --browser; postgresql-client with --psql) and a .venv
# with requirements-dev.txt. Idempotent: when everything is in place it only checks and returns.
#
#   scripts/bootstrap.sh [--browser] [--psql] [--kubectl]
#
# --kubectl: kubectl, whose built-in kustomize renders deploy/ for tests/deploy.
#
# As root it installs missing packages with apt-get; otherwise it stops and prints the exact
# `sudo apt-get install` command to run first.
set -euo pipefail

cd "$(dirname "$0")/.."

want_browser=false
want_psql=false
want_kubectl=false
for arg in "$@"; do
    case "$arg" in
        --browser) want_browser=true ;;
        --psql) want_psql=true ;;
        --kubectl) want_kubectl=true ;;
        *) echo "bootstrap: unknown option $arg (use --browser, --psql, --kubectl)" >&2; exit 2 ;;
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

# --- kubectl: Debian's kubernetes-client (1.20) is too old for deploy/'s kustomization, so the
# upstream binary, checked against its published sha256.
KUBECTL_VERSION=v1.32.4
if $want_kubectl && ! command -v kubectl >/dev/null 2>&1; then
    arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
    url="https://dl.k8s.io/release/$KUBECTL_VERSION/bin/linux/$arch/kubectl"
    if [ "$(id -u)" -ne 0 ]; then
        say "kubectl is missing (tests/deploy renders deploy/ with it). Install it first with:" >&2
        echo "    sudo curl -fsSLo /usr/local/bin/kubectl $url && sudo chmod +x /usr/local/bin/kubectl" >&2
        exit 1
    fi
    say "installing kubectl $KUBECTL_VERSION into /usr/local/bin"
    "$PYTHON" - "$url" <<'PY'
import hashlib
import sys
import urllib.request

url = sys.argv[1]
data = urllib.request.urlopen(url, timeout=300).read()
expected = urllib.request.urlopen(url + ".sha256", timeout=60).read().decode().split()[0]
if hashlib.sha256(data).hexdigest() != expected:
    sys.exit(f"bootstrap: {url} does not match its sha256")
with open("/usr/local/bin/kubectl", "wb") as out:
    out.write(data)
PY
    chmod 0755 /usr/local/bin/kubectl
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
say "ready ($VENV, redis-server, prometheus$($want_browser && echo ", chromium" || true)$($want_kubectl && echo ", kubectl" || true))"
