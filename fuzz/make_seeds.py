#!/usr/bin/env python3
"""Writes the seed corpora fuzz/corpus/<target>/ from real data: the committed catalog,
knowledge graph, recommender files and configs, ReDial *training* utterances
(../shared/data/redial/train_partial/train_subset_original_format.jsonl), and request bodies and
event streams of the shapes the server and the OpenAI client exchange. Deterministic; a few
hundred KB in all. Run from the repository root: python3 fuzz/make_seeds.py"""
import json, os, re, struct, shutil, hashlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fuzz", "corpus")
REDIAL = os.path.join(ROOT, "..", "shared", "data", "redial", "train_partial", "train_subset_original_format.jsonl")


def write(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def lines(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return f.read().split("\n")


shutil.rmtree(OUT, ignore_errors=True)

# catalog: items.jsonl records, alias tables, common words.
items = [l for l in lines("catalogs/movies/items.jsonl") if l.strip()]
for k in range(40):
    write("catalog", f"items{k:02}", "\n".join(items[k * 150 : k * 150 + 3]) + "\n")
for name in ["aliases.tsv", "aliases_hand.tsv"]:
    al = lines(f"catalogs/movies/{name}")
    for k in range(0, min(len(al), 60), 12):
        write("catalog", f"{name}{k:03}", "\n".join([al[0]] + al[1 + k : 7 + k]) + "\n")
write("catalog", "common_words", "\n".join(lines("catalogs/movies/common_words.txt")[:40]))

# knowledge: a small consistent subgraph (items first), nodes NUL edges.
nodes = [l.split("\t") for l in lines("knowledge/movies/nodes.tsv")[1:] if l]
edges = [l.split("\t") for l in lines("knowledge/movies/edges.tsv")[1:] if l]
by_head = {}
for h, r, t in edges:
    by_head.setdefault(int(h), []).append((r, int(t)))
for k in range(24):
    heads = [k * 97 + j for j in range(3)]
    tails = sorted({t for h in heads for _, t in by_head.get(h, [])[:6]} - set(heads))
    order = heads + [t for t in tails if nodes[t][1] == "item"] + [t for t in tails if nodes[t][1] != "item"]
    new = {old: i for i, old in enumerate(order)}
    nl = ["node\tkind\tname\titem\tyear"] + ["\t".join([str(new[o])] + nodes[o][1:]) for o in order]
    el = ["head\trelation\ttail"] + [f"{new[h]}\t{r}\t{new[t]}" for h in heads for r, t in by_head.get(h, [])[:6]]
    write("knowledge", f"graph{k:02}", "\n".join(nl) + "\n\0" + "\n".join(el) + "\n")

# recommender: small model bodies (the target appends the checksum) and comentions rows.
with open(os.path.join(ROOT, "catalogs/movies/recommender.bin"), "rb") as f:
    blob = f.read()
magic = b"CURATOR-RECOMMENDER\n"
hlen = struct.unpack_from("<I", blob, len(magic) + 4)[0]
header = blob[len(magic) + 8 : len(magic) + 8 + hlen]
for n in range(1, 6):
    body = magic + struct.pack("<II", 1, len(header)) + header + struct.pack("<I", n)
    body += b"".join(struct.pack("<I", 75000 + 7 * i) for i in range(n))
    body += b"".join(struct.pack("<f", 1.0 + i) for i in range(n))
    body += b"".join(struct.pack("<I", min(i, n - 1)) for i in range(n))
    for i in range(n):
        body += b"".join(struct.pack("<If", (i + j + 1) % n, 0.5 / (j + 1)) for j in range(min(i, n - 1)))
    write("recommender", f"model{n}", body)
write("recommender", "model_sealed", blob[: len(magic) + 8 + hlen + 4] + hashlib.sha256(b"").digest())
cm = lines("catalogs/movies/comentions.tsv")
for k in range(10):
    write("recommender", f"comentions{k}", "\n".join([cm[0]] + cm[1 + k * 500 : 9 + k * 500]) + "\n")

# config: first byte picks the loader (0 catalog.yaml, 1 ranker.yaml, 2 backend, 3 prompts).
write("config", "catalog_inspired", b"\0" + open(os.path.join(ROOT, "catalogs/inspired/catalog.yaml"), "rb").read())
write("config", "catalog_games", b"\0name: games\nitem: game\npeople:\n  - role: designer\n    by: designed by\n")
write("config", "ranker", b"\1" + open(os.path.join(ROOT, "catalogs/movies/ranker.yaml"), "rb").read())
write("config", "backend_openai", b"\2backend: openai\nbase_url: http://127.0.0.1:8000/v1\nserver_kind: vllm\nmodel: m\ntimeout_secs: 30\nretries: 2\n")
write("config", "backend_llama", b"\2backend: llama\nthreads: 2\n")
write("config", "prompts", b"\3" + open(os.path.join(ROOT, "prompts/recommend.yaml"), "rb").read())

# text targets: ReDial training utterances with @ids rendered as titles.
dialogues = []
with open(REDIAL, encoding="utf-8") as f:
    for line in f:
        d = json.loads(line)
        names = {k: re.sub(r"\s+", " ", v).strip() for k, v in d["movieMentions"].items()}
        turns = [re.sub(r"@(\d+)", lambda m: names.get(m.group(1), m.group(0)), m["text"]) for m in d["messages"]]
        dialogues.append(turns)
        if len(dialogues) >= 120:
            break
utts = [t for d in dialogues for t in d if len(t) > 12]
for k, u in enumerate(utts[:400:2]):
    write("link_text", f"u{k:03}", u)
for k, u in enumerate(utts[1:400:2]):
    write("attributes", f"u{k:03}", u)
for k, d in enumerate(dialogues[:100]):
    write("tracker", f"d{k:03}", "\n".join(d[:10]))

# server_requests: first byte picks the endpoint (0 chat, 1 recommend, 2 feedback).
def req(k, body, name):
    write("server_requests", name, bytes([k]) + json.dumps(body).encode())

for k, d in enumerate(dialogues[:12]):
    msgs = [{"role": "user" if i % 2 == 0 else "assistant", "content": t} for i, t in enumerate(d[:5])]
    req(0, {"model": "curator", "messages": msgs}, f"chat{k:02}")
    req(1, {"messages": msgs, "k": 5 + k}, f"recommend{k:02}")
req(0, {"messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": [{"type": "text", "text": "I loved Heat"}]}],
        "session_id": "s-1", "stream": True, "stream_options": {"include_usage": True}, "max_tokens": 40,
        "temperature": 0.7, "top_p": 0.9, "seed": 7, "stop": ["\n\n", "END"], "user": "u1", "n": 1,
        "presence_penalty": 0, "logprobs": False, "response_format": {"type": "text"}}, "chat_all_fields")
req(0, {"messages": [{"role": "user", "content": "more please"}], "session_id": "abc_DEF-9", "max_completion_tokens": 5, "stop": "x"}, "chat_session")
req(1, {"session_id": "s-1", "k": 10}, "recommend_session")
for k, r in enumerate(["like", "dislike", "seen"]):
    req(2, {"session_id": "s-1", "item_id": 111776, "rating": r}, f"feedback{k}")

# sse: event streams as OpenAI-compatible servers send them, log-prob answers, list replies.
def chunk(content=None, finish=None, usage=None):
    c = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m",
         "choices": [] if usage else [{"index": 0, "delta": {} if content is None else {"content": content}, "finish_reason": finish}]}
    if usage:
        c["usage"] = usage
    return "data: " + json.dumps(c) + "\n\n"

for k, d in enumerate(dialogues[:8]):
    words = d[1].split(" ")
    s = chunk("") + "".join(chunk(w + " ") for w in words) + chunk(None, "stop" if k % 2 else "length")
    if k % 3 == 0:
        s += chunk(usage={"prompt_tokens": 30, "completion_tokens": len(words), "prompt_tokens_details": {"cached_tokens": 4}})
    write("sse", f"stream{k}", s + "data: [DONE]\n\n")
write("sse", "stream_error", ": keep-alive\n\ndata: " + json.dumps({"error": {"message": "overloaded"}}) + "\n\n")
write("sse", "vllm", json.dumps({"choices": [{"prompt_logprobs": [None, {"17": {"logprob": -0.25, "rank": 1, "decoded_token": " Heat"}}, {"9": {"logprob": -0.5, "rank": 1, "decoded_token": " (1995)"}}]}]}))
write("sse", "sglang", json.dumps({"meta_info": {"input_token_logprobs": [[None, 1, "<s>"], [-0.75, 17, " Heat"], [-0.5, 9, " (1995)"]]}}))
write("sse", "list", "Here are some picks:\n1. Heat (1995) — a tense crime epic\n2) Seven (1995) - dark\n3. **Alien (1979)**\n")
