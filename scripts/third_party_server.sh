#!/usr/bin/env bash
# The remote backend against a third-party OpenAI-compatible server: llama-cpp-python's
# `llama_cpp.server` (PyPI `llama-cpp-python[server]`, pinned; built from source once into
# ~/.cache/curator/llama-cpp-python, a virtual environment, ≈ 10+ minutes on 2 cores) serving the
# default GGUF on 127.0.0.1. Then, against it:
#   1. the conformance suite's third-party case (tests/llm_conformance.rs, ignored by default:
#      `cargo test --release --test llm_conformance -- --ignored third_party`), server kind
#      `llama-server` (GBNF `grammar` for the constrained list; no prompt scores);
#   2. `curator doctor` with the same settings;
#   3. one chat turn through `curator chat --plain --backend openai`.
#
#   scripts/third_party_server.sh [PORT]        (default 8011)
#
# Not in CI (the wheel's build alone exceeds what CI can spare); a manual run, its output quoted
# in the note. Traffic stays on 127.0.0.1. The server is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${1:-8011}
VENV=$HOME/.cache/curator/llama-cpp-python
VERSION=0.3.36
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/curator/target}
if ! "$VENV/bin/python" -c "import llama_cpp.server, sys; sys.exit(0 if llama_cpp.__version__ == '$VERSION' else 1)" 2>/dev/null; then
  python3 -m venv "$VENV"
  CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) "$VENV/bin/pip" install --no-cache-dir "llama-cpp-python[server]==$VERSION"
fi
cargo build --release --quiet --bin curator
BIN=$CARGO_TARGET_DIR/release/curator
MODEL=$("$BIN" model fetch | tail -n 1)
LOG=$(mktemp)
"$VENV/bin/python" -m llama_cpp.server --model "$MODEL" --model_alias smollm2 --host 127.0.0.1 --port "$PORT" \
  --n_ctx 4096 --n_threads "$(nproc)" >"$LOG" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -f "$LOG"' EXIT
for _ in $(seq 1 120); do
  if curl -sf "http://127.0.0.1:$PORT/v1/models" >/dev/null; then break; fi
  if ! kill -0 $SERVER 2>/dev/null; then cat "$LOG"; echo "llama_cpp.server exited" >&2; exit 1; fi
  sleep 1
done
echo "llama-cpp-python $VERSION serving $MODEL as smollm2 on 127.0.0.1:$PORT"
URL=http://127.0.0.1:$PORT/v1
CURATOR_THIRD_PARTY_URL=$URL CURATOR_THIRD_PARTY_MODEL=smollm2 CURATOR_THIRD_PARTY_KIND=llama-server \
  cargo test --release --test llm_conformance -- --ignored third_party --nocapture
"$BIN" doctor --backend openai --base-url "$URL" --server-kind llama-server --model smollm2
printf 'I loved Heat and Collateral, something darker?\n' |
  "$BIN" chat --plain --backend openai --base-url "$URL" --server-kind llama-server --model smollm2
