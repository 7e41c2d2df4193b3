#!/usr/bin/env bash
# Coverage-guided fuzzing of the line layer's C (libFuzzer, with AddressSanitizer and UBSan).
#   drivers/fuzz/run.sh [SECONDS]      default 60; needs clang (Debian: apt-get install clang)
# Exit status 0 when the time ran out without a finding; otherwise libFuzzer's (the crashing
# input is left in build/fuzz/ as crash-*).
set -euo pipefail
cd "$(dirname "$0")/../.."
secs="${1:-60}"
command -v clang >/dev/null || { echo "fuzz: clang is not installed (Debian package: clang)" >&2; exit 2; }
mkdir -p build/fuzz/corpus
clang -g -O1 -std=c11 -D_DEFAULT_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -Idrivers/include -Idrivers/src drivers/fuzz/fuzz_line.c \
    drivers/src/line.c drivers/src/e1.c drivers/src/t1.c drivers/src/cas.c drivers/src/hdlc.c \
    drivers/src/linecode.c -o build/fuzz/fuzz_line
echo "fuzz: running the line layer for ${secs} s"
cd build/fuzz
./fuzz_line -max_total_time="$secs" -max_len=8192 -print_final_stats=1 corpus 2>&1 | tail -12
