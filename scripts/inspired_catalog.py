#!/usr/bin/env python3
"""Writes INSPIRED's own catalog in Curator's source format (catalogs/README.md) from the raw data.

Usage: python3 scripts/inspired_catalog.py ../shared/data catalogs/sources/inspired [--transfer-redial]
then:  curator catalog build catalogs/sources/inspired --name inspired

Items: every movie named in INSPIRED's dialogues — UniCRS's processed train/valid/test splits
(`inspired/train_unicrs/*_data_dbpedia.jsonl`, turn field `movie`) and the original dev/test TSVs
(`inspired/dialog_data/{dev,test}.tsv`, columns `movies` and `movie_dict`); one item per distinct
"Title (Year)" name, ids 1..N in name order (deterministic).
Metadata, merged in this order (the first source that has a field fills it, people lists are
unions in source order):
  1. CFCRS's typed INSPIRED KG (`inspired/cfcrs/{entity2id,kg,relation2id}.json`: star, director,
     genre; keyed by the same "Title (Year)" names);
  2. the ReDial catalog's metadata (`catalogs/movies/items.jsonl`, audited) where the same
     normalised title and year exist (directors, writers, stars, genres, plot);
  3. UniCRS's DBpedia sub-KG (`inspired/train_unicrs/{entity2id,dbpedia_subkg,relation2id}.json`)
     through the turn's `movie_link` (starring, director, writer, genre).
Interactions: the movies of each INSPIRED **train** dialogue (`train_data_dbpedia.jsonl`) in order,
with the speaker's role; never valid/test. With `--transfer-redial`, also every ReDial **training**
dialogue's movies (`redial/train_movie_level/train_movie_sequences_compact.jsonl`, field `u`)
that are INSPIRED items (same normalised title and year as a ReDial catalog movie), kept when at
least two are; appended after the INSPIRED sessions (ids `redial-<id>`).
Common words: `common_words.txt`, the 1,000 words used in the most messages of the INSPIRED **train**
dialogues (`train_data_dbpedia.jsonl`, field `text`, without the words of the movie names the
turn is annotated with, `movie_name` and `movie`, as ReDial's `@id` placeholders leave titles out;
normalised as the linker does, ties alphabetical; the rule of `curator data build` over ReDial's
training text), less the one-word titles (article aside) of movies named in at least 1 % of the
training sessions ("joker", "shining": INSPIRED's annotations miss many mentions of its most
discussed films); the linker never links these words alone in lowercase ("check out the
trailer" is not *The Trailer* (1925)).
Also writes `sources.json`: what each source contributed (counts).
Standard library only; deterministic output (sorted keys, no timestamps).
"""
import ast
import csv
import json
import re
import sys
import unicodedata
import urllib.parse
from pathlib import Path

csv.field_size_limit(1 << 30)
NAME_RE = re.compile(r"^(.*?)\s*\((\d{4})(?: film)?\)\s*$")


def split_name(name):
    m = NAME_RE.match(name.strip())
    if m:
        return " ".join(m.group(1).split()), int(m.group(2))
    return " ".join(name.split()), None


def norm(title):
    t = unicodedata.normalize("NFKD", title.lower())
    t = "".join(c for c in t if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^a-z0-9]+", " ", t).split())


ROMAN = {"ii": "2", "iii": "3", "iv": "4", "vi": "6", "vii": "7", "viii": "8", "ix": "9"}


def same_movie_key(title):
    """The title as one movie's key: norm(title) with Roman sequel numbers as digits ("Frozen II"
    and "Frozen 2"; I, V and X stay words: "Malcolm X"), a leading article dropped ("The Matrix"
    and "Matrix") and the words joined ("Spider-Man" and "Spiderman", "Super Bad" and
    "Superbad"). Names are merged on it only with the same year."""
    words = [ROMAN.get(w, w) for w in norm(title).split()]
    if len(words) > 1 and words[0] in ("the", "a", "an"):
        words = words[1:]
    return "".join(words)


def uri_name(uri):
    s = uri.strip("<>").rsplit("/", 1)[-1]
    s = s.split("__")[0]
    s = urllib.parse.unquote(s).replace("_", " ")
    s = re.sub(r"\s*\([^)]*\)\s*$", "", s)
    return " ".join(s.split())


COMMON_WORDS = 1000


def linker_words(text):
    """The words of `text` as `catalog::text::normalize` writes them: apostrophes dropped, `&` read
    "and", accents folded, lowercase, any other non-alphanumeric character a separator; only
    words of ASCII letters and digits are kept."""
    t = re.sub(r"['\u2019\u2018`]", "", text).replace("&", " and ")
    t = unicodedata.normalize("NFKD", t)
    t = "".join(c for c in t if not unicodedata.combining(c)).lower()
    return [w for w in re.split(r"[^0-9a-z]+", t) if w]


def common_words(messages):
    """The COMMON_WORDS words used in the most `messages` (lists of words), ties alphabetical,
    sorted."""
    df = {}
    for m in messages:
        for w in set(m):
            df[w] = df.get(w, 0) + 1
    ranked = sorted(df.items(), key=lambda kv: (-kv[1], kv[0]))[:COMMON_WORDS]
    return sorted(w for w, _ in ranked)


def add(lst, values):
    for v in values:
        v = " ".join(str(v).split())
        if v and v not in lst:
            lst.append(v)


def main(src, out, transfer=False):
    src, out = Path(src), Path(out)
    ins = src / "inspired"
    names, links = set(), {}
    train_sessions = []
    train_messages = []
    for split in ["train", "valid", "test"]:
        with open(ins / "train_unicrs" / f"{split}_data_dbpedia.jsonl", encoding="utf-8") as f:
            for line in f:
                dialog = json.loads(line)
                session = []
                for turn in dialog:
                    if split == "train":
                        # The movie names the turn mentions are not ordinary words ("joker").
                        said = set()
                        for m in turn.get("movie_name", []) + [split_name(m)[0] for m in turn.get("movie", [])]:
                            said.update(linker_words(m))
                        train_messages.append([w for w in linker_words(turn.get("text", "")) if w not in said])
                    movies = [m for m in turn.get("movie", []) if m.strip()]
                    names.update(movies)
                    if len(turn.get("movie", [])) == len(turn.get("movie_link", [])):
                        for m, lk in zip(turn["movie"], turn["movie_link"]):
                            if m.strip():
                                links.setdefault(m, lk)
                    for m in movies:
                        if m not in [s[0] for s in session]:
                            session.append((m, turn.get("role", "")))
                if split == "train":
                    train_sessions.append(session)
    tsv_names = set()
    for split in ["dev", "test"]:
        with open(ins / "dialog_data" / f"{split}.tsv", encoding="utf-8") as f:
            for row in csv.DictReader(f, delimiter="\t"):
                try:
                    d = ast.literal_eval(row.get("movie_dict") or "{}")
                except (ValueError, SyntaxError):
                    d = {}
                tsv_names.update(k for k in d if k.strip())
                tsv_names.update(m.strip() for m in (row.get("movies") or "").split(";") if m.strip())
    names |= tsv_names
    # Names that differ only in punctuation, case or a Roman sequel number (", 21 Bridges (2019)",
    # "Frozen II (2019)" / "Frozen 2 (2019)") are one movie; its name is the cleanest spelling (starts with a letter or digit, then shortest, then smallest).
    groups = {}
    for n in names:
        t, y = split_name(n)
        groups.setdefault((same_movie_key(t), y), []).append(n)
    # A name whose accented letters were mis-decoded ("Pok\ufffd\ufffdmon Detective Pikachu") is
    # the one other name of its year that it matches with each mis-decoded run read as one or
    # two letters.
    for (t, y), group in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0)):
        bad = [n for n in group if "\ufffd" in n]
        if not bad or len(bad) != len(group):
            continue
        pattern = re.compile(
            "^" + ".{1,2}".join(re.escape(same_movie_key(p)) for p in re.split("\ufffd+", split_name(bad[0])[0])) + "$"
        )
        others = [k for k in groups if k != (t, y) and k[1] == y and pattern.match(k[0])]
        if len(others) == 1:
            groups[others[0]] = groups[others[0]] + group
            del groups[(t, y)]
    # The same title with years one apart is one movie named by two release years (festival
    # and wide release, or two countries: "Ex Machina (2014)" / "(2015)"); its name keeps the
    # year of the ReDial catalog's entry for the title when it has one of them, else the earlier.
    redial_years = {}
    with open(Path(__file__).resolve().parent.parent / "catalogs" / "movies" / "items.jsonl", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            redial_years.setdefault(same_movie_key(r["title"]), set()).add(r.get("year"))
    years_of = {}
    for t, y in groups:
        if y is not None:
            years_of.setdefault(t, []).append(y)
    year_merged = 0
    for t, years in sorted(years_of.items()):
        years.sort()
        clusters = [[years[0]]]
        for y in years[1:]:
            if y - clusters[-1][-1] == 1:
                clusters[-1].append(y)
            else:
                clusters.append([y])
        for cluster in clusters:
            if len(cluster) < 2:
                continue
            keep = next((y for y in cluster if y in redial_years.get(t, ())), cluster[0])
            merged = sorted(n for y in cluster for n in groups[(t, y)])
            # Names with the kept year first: the movie's name is chosen among them.
            merged = [n for n in merged if split_name(n)[1] == keep] + [n for n in merged if split_name(n)[1] != keep]
            year_merged += sum(len(groups[(t, y)]) for y in cluster if y != keep)
            for y in cluster:
                groups[(t, y)] = merged
    # The name a movie keeps: the ReDial catalog's spelling when one of its names has it ("The
    # Matrix", "Changeling", "Spider-Man"), then the cleanest (starts with a letter or digit,
    # then shortest, then smallest).
    redial_names = set()
    with open(Path(__file__).resolve().parent.parent / "catalogs" / "movies" / "items.jsonl", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            redial_names.add((norm(r["title"]), r.get("year")))
    canonical = {}
    for group in groups.values():
        if group[0] in canonical:
            continue
        first_year = split_name(group[0])[1]
        best = min(
            (n for n in group if split_name(n)[1] == first_year),
            key=lambda n: (
                (norm(split_name(n)[0]), split_name(n)[1]) not in redial_names,
                not n[:1].isalnum() and not n.startswith("("),
                len(n),
                n,
            ),
        )
        for n in group:
            canonical[n] = best
    ordered = sorted(set(canonical.values()))
    id_of = {n: i + 1 for i, n in enumerate(ordered)}
    for n, c in canonical.items():
        id_of[n] = id_of[c]
    empty = lambda: {"people": {"director": [], "writer": [], "star": []}, "categories": [], "text": ""}
    # Per source, then merged: the ReDial catalog (audited) first, DBpedia (the dialogue's own link)
    # next, CFCRS last and only where it shares a person and a director with the others (when they
    # have any: CFCRS's INSPIRED KG sometimes describes a namesake, e.g. a making-of documentary).
    by_source = {"redial": {}, "dbpedia": {}, "cfcrs": {}}
    items = {n: empty() for n in ordered}
    contrib = {
        "items": len(ordered),
        "names": len(names),
        "names_merged_into_another": len(names) - len(ordered),
        "names_merged_by_year_one_apart": year_merged,
    }

    # 1. CFCRS INSPIRED KG.
    cf = ins / "cfcrs"
    ent = json.load(open(cf / "entity2id.json", encoding="utf-8"))
    rel = {v: k for k, v in json.load(open(cf / "relation2id.json", encoding="utf-8")).items()}
    kg = json.load(open(cf / "kg.json", encoding="utf-8"))
    name_of = {}
    for k, v in sorted(ent.items()):
        name_of.setdefault(v, k)
    cfcrs_hit = 0
    for raw in sorted(names):
        n = canonical[raw]
        eid = ent.get(raw)
        if eid is None or str(eid) not in kg:
            continue
        cfcrs_hit += 1
        it = by_source["cfcrs"].setdefault(n, empty())
        for r, t in kg[str(eid)]:
            tn = name_of.get(t)
            if tn is None:
                continue
            kind = rel.get(r)
            if kind == "star":
                add(it["people"]["star"], [tn])
            elif kind == "director":
                add(it["people"]["director"], [tn])
            elif kind == "genre":
                add(it["categories"], [tn.lower()])
    contrib["cfcrs_kg_items"] = cfcrs_hit

    # 2. The ReDial catalog (audited), same normalised title and year.
    redial = {}
    with open(Path(__file__).resolve().parent.parent / "catalogs" / "movies" / "items.jsonl", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            redial.setdefault((norm(r["title"]), r.get("year")), r)
    redial_hit = 0
    inspired_of_redial = {}
    for n in ordered:
        t, y = split_name(n)
        r = redial.get((norm(t), y))
        if r is None:
            continue
        redial_hit += 1
        inspired_of_redial[str(r["id"])] = id_of[n]
        it = by_source["redial"].setdefault(n, empty())
        add(it["people"]["director"], r["directors"])
        add(it["people"]["writer"], r["writers"])
        add(it["people"]["star"], r["stars"])
        add(it["categories"], r["genres"])
        if not it["text"]:
            it["text"] = r["plot"]
    contrib["redial_catalog_items"] = redial_hit

    # 3. UniCRS DBpedia sub-KG through movie_link.
    uc = ins / "train_unicrs"
    uent = json.load(open(uc / "entity2id.json", encoding="utf-8"))
    urel = {v: k.rsplit("/", 1)[-1].strip(">") for k, v in json.load(open(uc / "relation2id.json", encoding="utf-8")).items()}
    usub = json.load(open(uc / "dbpedia_subkg.json", encoding="utf-8"))
    uname = {}
    for k, v in sorted(uent.items()):
        uname.setdefault(v, k)
    dbp_hit, linked = 0, 0
    for n in ordered:
        lk = next((links[r] for r in sorted(groups[(same_movie_key(split_name(n)[0]), split_name(n)[1])]) if r in links), None)
        if not lk:
            continue
        linked += 1
        eid = uent.get(lk)
        edges = usub.get(str(eid), []) if eid is not None else []
        got = False
        it = by_source["dbpedia"].setdefault(n, empty())
        for r, t in edges:
            kind, tn = urel.get(r), uname.get(t)
            if tn is None:
                continue
            if kind == "starring":
                add(it["people"]["star"], [uri_name(tn)])
                got = True
            elif kind == "director":
                add(it["people"]["director"], [uri_name(tn)])
                got = True
            elif kind == "writer":
                add(it["people"]["writer"], [uri_name(tn)])
                got = True
            elif kind == "genre":
                g = uri_name(tn).lower().replace(" film", "").strip()
                if g:
                    add(it["categories"], [g])
                got = True
        dbp_hit += got
    rejected = 0
    for n in ordered:
        it = items[n]
        for src_name in ["redial", "dbpedia", "cfcrs"]:
            m = by_source[src_name].get(n)
            if m is None:
                continue
            ours = {p for v in it["people"].values() for p in v}
            theirs = {p for v in m["people"].values() for p in v}
            our_dirs, their_dirs = set(it["people"]["director"]), set(m["people"]["director"])
            if src_name == "cfcrs" and (
                (ours and theirs and not (ours & theirs)) or (our_dirs and their_dirs and not (our_dirs & their_dirs))
            ):
                rejected += 1
                continue
            for role in ["director", "writer", "star"]:
                add(it["people"][role], m["people"][role])
            add(it["categories"], m["categories"])
            if not it["text"]:
                it["text"] = m["text"]
    contrib["cfcrs_rejected_disagreeing_people"] = rejected
    contrib["dbpedia_linked_items"] = linked
    contrib["dbpedia_subkg_items"] = dbp_hit
    contrib["items_without_metadata"] = sum(
        1 for n in ordered if not any(items[n]["people"].values()) and not items[n]["categories"]
    )

    out.mkdir(parents=True, exist_ok=True)
    with open(out / "catalog.yaml", "w", encoding="utf-8") as f:
        f.write(
            "# INSPIRED's own movies (scripts/inspired_catalog.py); build with\n"
            "# `curator catalog build catalogs/sources/inspired --name inspired`.\n"
            "name: inspired\nitem: movie\nitems: movies\ncategory: genre\npeople:\n"
            "  - role: director\n    by: directed by\n  - role: writer\n    by: written by\n"
            "  - role: star\n    by: starring\n"
        )
    with open(out / "items.jsonl", "w", encoding="utf-8") as f:
        for n in ordered:
            t, y = split_name(n)
            it = items[n]
            o = {"id": id_of[n], "title": t}
            if y is not None:
                o["year"] = y
            people = {k: v for k, v in it["people"].items() if v}
            if people:
                o["people"] = people
            if it["categories"]:
                o["categories"] = it["categories"]
            if it["text"]:
                o["text"] = it["text"]
            f.write(json.dumps(o, ensure_ascii=False, sort_keys=True) + "\n")
    sessions = 0
    with open(out / "interactions.jsonl", "w", encoding="utf-8") as f:
        for k, s in enumerate(train_sessions):
            if not s:
                continue
            sessions += 1
            entries = [{"id": id_of[m], "role": role.lower()} for m, role in s]
            f.write(json.dumps({"id": f"train-{k}", "items": entries}, sort_keys=True) + "\n")
        transferred = 0
        if transfer:
            # ReDial movie ids of every catalog entry with the same title and year as an item.
            same = {}
            with open(Path(__file__).resolve().parent.parent / "catalogs" / "movies" / "items.jsonl", encoding="utf-8") as g:
                for line in g:
                    r = json.loads(line)
                    key = (norm(r["title"]), r.get("year"))
                    first = redial.get(key)
                    if first is not None and str(first["id"]) in inspired_of_redial:
                        same[str(r["id"])] = inspired_of_redial[str(first["id"])]
            seq = src / "redial" / "train_movie_level" / "train_movie_sequences_compact.jsonl"
            with open(seq, encoding="utf-8") as g:
                for line in g:
                    d = json.loads(line)
                    entries, seen = [], set()
                    for m, role, *_ in d.get("u", []):
                        i = same.get(str(m))
                        if i is None or i in seen:
                            continue
                        seen.add(i)
                        entries.append({"id": i, "role": "seeker" if role == "S" else "recommender"})
                    if len(entries) >= 2:
                        transferred += 1
                        f.write(json.dumps({"id": f"redial-{d['id']}", "items": entries}, sort_keys=True) + "\n")
    contrib["train_sessions"] = sessions
    if transfer:
        contrib["redial_sessions_transferred"] = transferred
    # The whole title of a movie named in at least 1 % of the training sessions stays linkable:
    # INSPIRED's annotations miss many mentions of its most discussed films, so their titles
    # are frequent words ("joker", "shining").
    named = {}
    for s in train_sessions:
        for m, _ in s:
            named[id_of[m]] = named.get(id_of[m], 0) + 1
    famous = set()
    for n in ordered:
        if named.get(id_of[n], 0) * 100 >= len(train_sessions):
            w = linker_words(split_name(n)[0])
            if len(w) > 1 and w[0] in ("the", "a", "an"):
                w = w[1:]
            if len(w) == 1:
                famous.add(w[0])
    words = [w for w in common_words(train_messages) if w not in famous]
    with open(out / "common_words.txt", "w", encoding="utf-8") as f:
        f.write("".join(w + "\n" for w in words))
    contrib["common_words"] = len(words)
    contrib["train_messages"] = len(train_messages)
    with open(out / "sources.json", "w", encoding="utf-8") as f:
        f.write(json.dumps(contrib, indent=2, sort_keys=True) + "\n")
    print(json.dumps(contrib, sort_keys=True))


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4) or (len(sys.argv) == 4 and sys.argv[3] != "--transfer-redial"):
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], transfer=len(sys.argv) == 4)
