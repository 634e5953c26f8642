#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer, runs the parsers' unit tests under the same
# sanitizers, and runs each fuzz target on its seed corpus for a bounded
# time. A crash, a leak or undefined behaviour fails the run, and the input
# that caused it is kept under $FUZZ_ARTIFACTS (default /tmp/rtsptest-fuzz).
#
#   scripts/run_fuzz.sh [seconds per target]     # default 10; `make fuzz`: 300
#
# The build uses an output base of its own (under ~/.cache/rtsptest-fuzz-bazel
# by default, one per checkout; $FUZZ_OUTPUT_BASE) and CC=clang, so it never invalidates the gcc
# build that `make test` uses. New inputs found are added to a scratch copy
# of the corpus, not to fuzz/corpus: keep the interesting ones by hand.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-10}"
# One per checkout, as Bazel's own output bases are.
output_base="${FUZZ_OUTPUT_BASE:-$HOME/.cache/rtsptest-fuzz-bazel/$(pwd | md5sum | cut -c1-12)}"
artifacts="${FUZZ_ARTIFACTS:-/tmp/rtsptest-fuzz}"
targets=(rtsp_response_fuzz config_fuzz parameter_fuzz router_fuzz request_framer_fuzz
  http_connection_fuzz)

labels=()
for t in "${targets[@]}"; do labels+=("//fuzz:$t"); done
# No bazel-* symlinks: they would point the main build's ones at this output
# base, and `bazel test //...` would then walk into it.
CC=clang CXX=clang++ bazel --output_base="$output_base" build --config=fuzz --symlink_prefix=/ \
  "${labels[@]}"
bin="$(CC=clang CXX=clang++ bazel --output_base="$output_base" info --config=fuzz bazel-bin 2>/dev/null)"

# The unit tests of the code that parses outside input, under the same
# sanitizers (--config=asan: no libFuzzer), in the same output base.
sanitized_tests=(//tests/common/... //tests/config/... //tests/core/listener:request_framer_test
  //tests/core/listener:connection_budget_test //tests/gateway:router_test
  //tests/gateway:http_server_test //tests/gateway:http_wire_test
  //tests/gateway:http_connection_test)
mkdir -p "$artifacts"
echo "== unit tests under AddressSanitizer and UndefinedBehaviorSanitizer"
if ! CC=clang CXX=clang++ bazel --output_base="$output_base" test --config=asan --symlink_prefix=/ \
    "${sanitized_tests[@]}" >"$artifacts/sanitized-tests.log" 2>&1; then
  grep -v "ld.gold: warning" "$artifacts/sanitized-tests.log" | tail -60
  echo "FAILED: sanitized unit tests (log: $artifacts/sanitized-tests.log)"
  bazel --output_base="$output_base" shutdown
  exit 1
fi
grep -E "^Executed|tests pass" "$artifacts/sanitized-tests.log" | tail -1
# The second Bazel server is not needed any more.
bazel --output_base="$output_base" shutdown

failed=0
for t in "${targets[@]}"; do
  corpus_name="${t%_fuzz}"
  scratch="$(mktemp -d)"
  cp -r "fuzz/corpus/$corpus_name/." "$scratch/"
  echo "== $t: ${seconds}s on fuzz/corpus/$corpus_name ($(ls "$scratch" | wc -l) seeds)"
  if ! ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      "$bin/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$artifacts/$t-" -print_final_stats=1 "$scratch" 2>"$artifacts/$t.log"; then
    echo "FAILED: $t (log: $artifacts/$t.log)"
    tail -40 "$artifacts/$t.log"
    failed=1
  else
    grep -E "^stat::number_of_executed_units|^Done" "$artifacts/$t.log" | tr '\n' ' '
    echo
  fi
  rm -rf "$scratch"
done
exit "$failed"
