#!/usr/bin/env bash
# Set up everything `make run` and `make test` need on a fresh Debian/Ubuntu machine:
# system packages (when missing and we are root), a virtualenv, the Python packages,
# and the C libraries built through cffi. Safe to run again; prints what it does.
set -euo pipefail
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}

need_pkgs=()
command -v "$PYTHON" >/dev/null || need_pkgs+=(python3)
command -v cc >/dev/null || need_pkgs+=(gcc libc6-dev)
if command -v "$PYTHON" >/dev/null; then
    "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null || need_pkgs+=(python3-venv)
    inc=$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
    [ -f "$inc/Python.h" ] || need_pkgs+=(python3-dev)
fi
# Test-time tools: tests that use them skip with a message naming the package when absent.
for tool_pkg in "sox:sox"; do
    tool=${tool_pkg%%:*}; pkg=${tool_pkg##*:}
    if [ "${CALLBOX_TEST_TOOLS:-0}" = 1 ] && ! command -v "$tool" >/dev/null; then need_pkgs+=("$pkg"); fi
done
# Wanted, not required: espeak-ng speaks the default prompts (make prompts); without it the
# box answers with tone prompts.
if ! command -v espeak-ng >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    need_pkgs+=(espeak-ng)
fi
if [ ${#need_pkgs[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "setup: installing Debian packages: ${need_pkgs[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
    else
        echo "setup: missing packages: ${need_pkgs[*]}; install them (apt-get install ${need_pkgs[*]}) and run again" >&2
        exit 1
    fi
fi

if [ ! -x "$VENV/bin/python" ]; then
    echo "setup: creating virtualenv $VENV"
    "$PYTHON" -m venv "$VENV"
fi
echo "setup: installing Python packages and building the C libraries (drivers/, dsp/)"
"$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
"$VENV/bin/python" -m pip install -q -e ".[test]"
"$VENV/bin/python" -c "import callbox._line, callbox._dsp; print('setup: C libraries built and importable')"
