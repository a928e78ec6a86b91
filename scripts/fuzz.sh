#!/usr/bin/env bash
# Runs the fuzz targets in fuzz/ (cargo-fuzz: libFuzzer with AddressSanitizer, on the nightly
# toolchain), one at a time, each from its committed seed corpus fuzz/corpus/TARGET (new inputs go
# to a temporary folder, so the committed corpus does not grow). Installs the nightly toolchain
# and cargo-fuzz when absent. Fails (non-zero) on the first crash, leak, timeout or out-of-memory;
# libFuzzer writes the input to fuzz/artifacts/TARGET/.
#
#   bash scripts/fuzz.sh                     # every target for 20 s (CI)
#   bash scripts/fuzz.sh 60 tracker sse      # those targets for 60 s each
#   FUZZ_RUNS=1000000 bash scripts/fuzz.sh 0 # every target for exactly 1,000,000 executions
#   FUZZ_PLAIN=1 ...                         # no sanitizer, no comparison tracing (≈ 3× the
#                                            # executions a second; panics still fail the run)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/curator/target}"
export CARGO_TERM_COLOR=never
if ! rustup toolchain list | grep -q '^nightly'; then
  rustup toolchain install nightly --profile minimal
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi
secs="${1:-20}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo +nightly fuzz list)
fi
limits=(-timeout=20 -rss_limit_mb=4096 -print_final_stats=1)
if [ -n "${FUZZ_RUNS:-}" ]; then
  limits+=("-runs=$FUZZ_RUNS")
fi
if [ "$secs" != 0 ]; then
  limits+=("-max_total_time=$secs")
fi
# Its own folder under the build directory: the sanitizer build shares nothing with the normal one.
fuzz_dir=(--target-dir "$CARGO_TARGET_DIR/fuzz")
if [ -n "${FUZZ_PLAIN:-}" ]; then
  # Coverage-guided still, but without AddressSanitizer and without `trace-compares`
  # instrumentation: for long runs of the slow text targets (fuzz/README.md).
  fuzz_dir=(--target-dir "$CARGO_TARGET_DIR/fuzz-plain" -s none --no-trace-compares)
fi
start=$(date +%s)
cargo +nightly fuzz build "${fuzz_dir[@]}"
echo "fuzz build: $(( $(date +%s) - start )) s"
for t in "${targets[@]}"; do
  work=$(mktemp -d)
  t0=$(date +%s)
  # The first corpus folder receives new inputs; the committed seeds are only read.
  set +e
  cargo +nightly fuzz run "${fuzz_dir[@]}" "$t" "$work" "fuzz/corpus/$t" -- "${limits[@]}" >"$work.log" 2>&1
  rc=$?
  set -e
  grep -E '^#[0-9]+ +(INITED|DONE)|stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$work.log" || true
  if [ "$rc" != 0 ]; then
    tail -n 60 "$work.log" >&2
  fi
  runs=$(awk '/stat::number_of_executed_units/{print $2}' "$work.log" | tail -n 1)
  echo "fuzz $t: ${runs:-?} executions in $(( $(date +%s) - t0 )) s, exit $rc"
  rm -rf "$work" "$work.log"
  if [ "$rc" != 0 ]; then
    echo "fuzz $t FAILED (see fuzz/artifacts/$t/)" >&2
    exit 1
  fi
done
