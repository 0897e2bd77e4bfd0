#!/usr/bin/env bash
# Fuzzes the gateway's batch parsing and the native scanner for a bounded time (FUZZ_SECONDS,
# default 60), then replays every input it kept through the scanner built with
# AddressSanitizer and UndefinedBehaviorSanitizer.
#
# Two steps because the sanitizer runtimes of gcc, preloaded into Python, take over the coverage
# hooks atheris' libFuzzer needs: fuzzing runs on the normal build (coverage-guided; a crash or a
# broken invariant fails it), and the corpus it grew (seeds plus every input that reached new
# code) runs again on the sanitized build, where any invalid read, write or undefined behaviour
# aborts. A failing input is left as .cache/fuzz/crash-*.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
OUT=.cache/fuzz
SECONDS_BUDGET="${FUZZ_SECONDS:-60}"
mkdir -p "$OUT/corpus"

include="$($PY -c 'import sysconfig; print(sysconfig.get_paths()["include"])')"
suffix="$($PY -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')"
# The extensions as setup.py builds them (the scanner is compiled into both), sanitized.
build() {  # build OUTPUT SOURCE... : rebuilt when a source or header is newer
  local lib="$1"; shift
  local stale=0
  [ -f "$lib" ] || stale=1
  for f in "$@" services/jianguan/contracts/*.h services/jianguan/store/*.h; do
    [ "$f" -nt "$lib" ] && stale=1
  done
  if [ "$stale" = 1 ]; then
    gcc -shared -fPIC -std=c11 -O1 -g -fno-omit-frame-pointer -fvisibility=hidden \
      -fsanitize=address,undefined -fno-sanitize-recover=undefined \
      -I"$include" "$@" -o "$lib"
  fi
}
SCANNER=services/jianguan/contracts/wire_scan.c
build "$OUT/_wire$suffix" services/jianguan/contracts/_wire.c "$SCANNER"
build "$OUT/_native_block$suffix" services/jianguan/store/_native_block.c "$SCANNER"
$PY fuzz/seeds.py "$OUT/corpus"

echo "== fuzzing for ${SECONDS_BUDGET}s"
$PY fuzz/batch_fuzz.py "$OUT/corpus" \
  -max_total_time="$SECONDS_BUDGET" -rss_limit_mb=4096 -max_len=65536 -timeout=20 \
  -artifact_prefix="$OUT/" -print_final_stats=1 2>&1 | grep -v '^INFO: Instrumenting'

echo "== replaying the corpus under AddressSanitizer and UBSan"
JIANGUAN_FUZZ_NATIVE="$PWD/$OUT" \
LD_PRELOAD="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)" \
ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:allocator_may_return_null=1" \
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
  $PY fuzz/batch_fuzz.py --seeds-only "$OUT/corpus" 2>&1 | grep -v '^INFO: Instrumenting'
