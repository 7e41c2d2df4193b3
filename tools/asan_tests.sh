#!/usr/bin/env bash
# The C line and DSP layers' tests under AddressSanitizer (and UBSan): the two cffi extensions
# are built with the sanitizers in a copy of the tree under build/asan and the tests of those
# layers run against that copy. Any invalid access stops the run with a report.
#   tools/asan_tests.sh [pytest args]      (needs gcc with libasan: Debian gcc)
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"
PY="$(cd "$(dirname "$PY")" && pwd)/$(basename "$PY")"      # absolute, the venv's own (not resolved)
out=build/asan
rm -rf "$out" && mkdir -p "$out"
cp -r drivers dsp tools firmware "$out"/
rm -f "$out"/firmware/callbox/_line*.so "$out"/firmware/callbox/_dsp*.so
export CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g"
export LDFLAGS="-fsanitize=address,undefined"
(cd "$out" && "$PY" drivers/build_line.py && "$PY" dsp/build_dsp.py)
libasan="$(gcc -print-file-name=libasan.so)"
libubsan="$(gcc -print-file-name=libubsan.so)"
where=$(LD_PRELOAD="$libasan $libubsan" ASAN_OPTIONS=detect_leaks=0 PYTHONPATH="$out/firmware" "$PY" -c \
    "import callbox._line as a, callbox._dsp as b; print(a.__file__, b.__file__)")
case "$where" in *"$out"/firmware/callbox/_line*"$out"/firmware/callbox/_dsp*) ;;
    *) echo "asan: the tests would not use the sanitized build ($where)" >&2; exit 2 ;; esac
echo "asan: running the line and DSP tests against the sanitized build"
LD_PRELOAD="$libasan $libubsan" ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
    PYTHONPATH="$out/firmware" "$PY" -m pytest -q -p no:cacheprovider tests/drivers tests/dsp "$@"
