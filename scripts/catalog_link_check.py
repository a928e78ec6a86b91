#!/usr/bin/env python3
"""Entity linking on a catalog's INSPIRED split, as a served Curator reads it: every seeker
utterance of `evals/inspired/<catalog>/<split>.jsonl` sent alone to `/v1/recommend`; the items
the state then holds (liked and disliked) against the utterance's annotated movies (micro
precision and recall over utterances; INSPIRED's annotations miss some mentions, so "wrong"
includes some true links). The most frequent wrong items are listed.

Usage: curator --catalog inspired serve --no-model --port 18080 &
       python3 scripts/catalog_link_check.py http://127.0.0.1:18080 inspired dev
Standard library only.
"""
import collections
import json
import sys
import urllib.request
from pathlib import Path


def main(base, catalog, split):
    root = Path(__file__).resolve().parent.parent
    titles = {}
    with open(root / "catalogs" / catalog / "items.jsonl", encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            titles[d["id"]] = f"{d['title']} ({d.get('year')})"
    tp = fp = fn = n = 0
    wrong = collections.Counter()
    with open(root / "evals" / "inspired" / catalog / f"{split}.jsonl", encoding="utf-8") as f:
        for line in f:
            for u in json.loads(line)["utterances"]:
                if u["role"] != "seeker" or not u["text"].strip():
                    continue
                gold = {m["id"] for m in u["movies"]}
                body = json.dumps({"messages": [{"role": "user", "content": u["text"]}], "k": 1}).encode()
                req = urllib.request.Request(f"{base}/v1/recommend", data=body)
                with urllib.request.urlopen(req) as r:
                    state = json.load(r)
                got = {x["id"] for x in state.get("liked", []) + state.get("disliked", [])}
                n += 1
                tp += len(got & gold)
                fp += len(got - gold)
                fn += len(gold - got)
                wrong.update(titles.get(g, str(g)) for g in got - gold)
    print(
        f"{catalog} {split}, {n} seeker utterances: linked {tp + fp}, annotated {tp + fn}, both {tp}; "
        f"precision {tp / max(tp + fp, 1):.4f} recall {tp / max(tp + fn, 1):.4f}"
    )
    print("most frequent links not annotated:", wrong.most_common(10))


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
