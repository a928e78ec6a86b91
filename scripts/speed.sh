#!/usr/bin/env bash
# Speed figures of the tool part of a turn and of /v1/recommend, for this build and, optionally, a
# reference `curator` binary built from another commit (e.g. main before a speed change), run
# alternately in one session so that load from other processes hits both (docs/speed.md).
#
#   scripts/speed.sh [REFERENCE_CURATOR_BINARY [REFERENCE_HOME]]
#
# REFERENCE_HOME: the project folder the reference reads its catalog, graph and prompts from
# (CURATOR_HOME), for a reference older than the committed assets (e.g.
# `git archive OLD catalogs knowledge prompts | tar -x -C /tmp/ref`).
#
# Uses $CARGO_TARGET_DIR (default ./target). Prints JSON lines; compare ratios, not absolute
# figures, on a shared machine.
set -euo pipefail
cd "$(dirname "$0")/.."
ref="${1:-}"
ref_home="${2:-$PWD}"
target="${CARGO_TARGET_DIR:-target}"
cargo build --release --quiet
cargo bench --no-run --quiet --bench server_load --bench turn --bench knowledge 2>/dev/null
bins=("$target/release/curator")
[ -n "$ref" ] && bins+=("$ref")
for round in 1 2; do
  for bin in "${bins[@]}"; do
    printf '{"round":%s,"bin":"%s","curator_bench":' "$round" "$bin"
    if [ "$bin" = "$ref" ]; then
      CURATOR_HOME="$ref_home" "$bin" bench --no-model --repeats 40 | tr -d '\n '
    else
      "$bin" bench --no-model --repeats 40 | tr -d '\n '
    fi
    echo '}'
  done
done
for conns in 4 8; do
  for bin in "${bins[@]}"; do
    if [ "$bin" = "$target/release/curator" ]; then
      CURATOR_LOAD_CONNECTIONS=$conns cargo bench --quiet --bench server_load -- recommend
    else
      CURATOR_HOME="$ref_home" CURATOR_LOAD_BIN="$bin" CURATOR_LOAD_CONNECTIONS=$conns \
        cargo bench --quiet --bench server_load -- recommend
    fi
  done
done
cargo bench --quiet --bench turn | tr -d '\n '
echo
cargo bench --quiet --bench knowledge | tr -d '\n '
echo
