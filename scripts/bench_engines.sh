#!/usr/bin/env bash
# Speed parity, side by side: Curator's llama.cpp backend (`curator bench`) against the raw
# engine (examples/raw_llama.rs: llama-cpp-2 called directly on the same static libraries, the
# same GGUF, prompt, thread count and 64 greedy tokens), in alternating pairs so that both see the
# same machine load; then the time to first token from turn 2 on (`curator eval llm --parts ttft`).
#
#   scripts/bench_engines.sh [PAIRS] [THREADS] [ENGINES]   (defaults: 3 pairs, all cores, llama)
#
# ENGINES `llama,mistralrs` builds with the cargo feature `mistralrs` and adds, in each pair, the
# mistral.rs backend (`curator bench --backend mistralrs`) against its raw SDK run
# (examples/raw_mistralrs.rs, same GGUF and dialogue, 64 greedy tokens) and against llama.cpp
# through Curator in the same pair. mistral.rs (candle) uses all cores whatever THREADS says.
#
# Prints one line per pair and backend with prompt and decode tokens/s and the ratio
# Curator / raw (target >= 0.95), the whole 3-item turn p50 over turns 2-5 of `curator bench`'s
# dialogue (the reply from the call to its last text, the dialogue prefilled between turns as the
# front ends do; target <= 1.0 s), then the TTFT p50. The machine may be shared: read the ratios
# of one pair, not absolute figures across runs. Needs python3 (for the JSON).
set -euo pipefail
cd "$(dirname "$0")/.."
PAIRS=${1:-3}
THREADS=${2:-$(nproc)}
ENGINES=${3:-llama}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/curator/target}
if [[ $ENGINES == *mistralrs* ]]; then
  cargo build --release --quiet --features mistralrs --bin curator --example raw_llama --example raw_mistralrs
else
  cargo build --release --quiet --bin curator --example raw_llama
fi
BIN=$CARGO_TARGET_DIR/release
MODEL=$("$BIN/curator" model fetch | tail -n 1)
echo "model $MODEL, $THREADS threads, $PAIRS pairs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq 1 "$PAIRS"); do
  CUR=$("$BIN/curator" bench --model "$MODEL" --runs 3 --repeats 1)
  RAW=$("$BIN/examples/raw_llama" "$MODEL" "$THREADS" 3)
  python3 - "$i" "$CUR" "$RAW" <<'PY'
import json, sys
i, cur, raw = sys.argv[1], json.loads(sys.argv[2])["throughput"], json.loads(sys.argv[3])
p, g = cur["prompt_tokens_per_second"], cur["generation_tokens_per_second"]
rp, rg = raw["prompt_tokens_per_second"], raw["generation_tokens_per_second"]
print(f"pair {i}: llama.cpp via Curator prompt {p:7.1f} tok/s decode {g:6.1f} tok/s | raw llama-cpp-2 "
      f"prompt {rp:7.1f} decode {rg:6.1f} | ratio prompt {p/rp:.3f} decode {g/rg:.3f} "
      f"({cur['prompt_tokens']} prompt tokens, {cur['generated_tokens']} generated)")
b = json.loads(sys.argv[2])
print(f"pair {i}: llama.cpp via Curator, 3-item turns 2-5 of the bench dialogue: whole turn p50 "
      f"{b['turn_p50_from_turn2_ms']:.0f} ms (call to last text; target <= 1000), first text p50 "
      f"{b['first_text_p50_from_turn2_ms']:.0f} ms, first to last text p50 "
      f"{b['first_to_last_text_p50_from_turn2_ms']:.0f} ms, model TTFT p50 {b['model_ttft_p50_from_turn2_ms']:.0f} ms")
PY
  if [[ $ENGINES == *mistralrs* ]]; then
    MCUR=$("$BIN/curator" bench --backend mistralrs --model "$MODEL" --runs 3 --repeats 1)
    MRAW=$("$BIN/examples/raw_mistralrs" "$MODEL" 3)
    python3 - "$i" "$MCUR" "$MRAW" "$CUR" <<'PY'
import json, sys
i, cur, raw, lla = sys.argv[1], json.loads(sys.argv[2])["throughput"], json.loads(sys.argv[3]), json.loads(sys.argv[4])["throughput"]
p, g = cur["prompt_tokens_per_second"], cur["generation_tokens_per_second"]
rp, rg = raw["prompt_tokens_per_second"], raw["generation_tokens_per_second"]
lp, lg = lla["prompt_tokens_per_second"], lla["generation_tokens_per_second"]
print(f"pair {i}: mistral.rs via Curator prompt {p:7.1f} tok/s decode {g:6.1f} tok/s | raw mistralrs SDK "
      f"prompt {rp:7.1f} decode {rg:6.1f} | ratio prompt {p/rp:.3f} decode {g/rg:.3f} "
      f"({cur['prompt_tokens']} prompt tokens, {cur['generated_tokens']} generated; raw: {raw['prompt_tokens']} "
      f"prompt tokens, engine-side prompt {raw['engine_prompt_tokens_per_second']:.1f} decode "
      f"{raw['engine_generation_tokens_per_second']:.1f})")
print(f"pair {i}: mistral.rs / llama.cpp, both via Curator: prompt {p/lp:.3f} decode {g/lg:.3f}")
b = json.loads(sys.argv[2])
print(f"pair {i}: mistral.rs via Curator, 3-item turns 2-5: whole turn p50 {b['turn_p50_from_turn2_ms']:.0f} ms, "
      f"first to last text p50 {b['first_to_last_text_p50_from_turn2_ms']:.0f} ms")
PY
  fi
done
# TTFT from turn 2 on over the 10-turn script, with the dialogue prefilled between turns.
OUT=$(mktemp)
"$BIN/curator" eval llm --parts ttft --model "$MODEL" --out "$OUT" >/dev/null
python3 - "$OUT" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))["ttft"]
print(f"first reply text from turn 2 (eval llm --parts ttft, {len(t['turns'])} turns): p50 "
      f"{t['p50_first_text_from_turn_2_ms']:.0f} ms (the opening, shown while the model reads its prompt)")
print(f"model ttft from turn 2 (eval llm --parts ttft, {len(t['turns'])} turns): p50 {t['p50_from_turn_2_ms']:.0f} ms "
      f"with the dialogue prefilled between turns, {t['p50_cache_only_from_turn_2_ms']:.0f} ms cache only, "
      f"{t['p50_reprefill_from_turn_2_ms']:.0f} ms re-prefilling (target <= 150 ms)")
PY
rm -f "$OUT"
