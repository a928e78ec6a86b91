#!/usr/bin/env python3
"""Soak and fault runs of `curator serve` (benchmarks, not tests; docs/soak.md has the figures).

Traffic goes only to 127.0.0.1, to a server this script starts on a free port with a fresh
session database; every loop is bounded in time and in request count. Python standard library
only (no installs).

  soak:  python3 scripts/soak.py soak --sessions 200 --secs 300
         200 concurrent sessions of mixed traffic (chat 60 %, recommend 25 %, feedback 15 %)
         against the real default model: p50/p99 latency per endpoint, every non-2xx classified
         (only 429/503/504 are allowed), the server's RSS every 10 s (flat: every sample of the
         last minute within 5 % of the mean of the second minute). --warmup SECS runs the same
         load first, so the measured minutes start with the model caches of the sessions (a
         fixed 256 MiB budget, server/worker.rs KV_CACHE_BYTES) already full.
  kill:  python3 scripts/soak.py kill --sessions 200 --kills 10
         the same load while the server is killed with SIGKILL at random moments (5-25 s after
         it is ready) and restarted on the same database, 10 times; then every turn a client got
         a 200 for must be in the database (GET /v1/sessions/ID, in order), every like/dislike
         acknowledged with a 200 must be in the session's state, and `PRAGMA integrity_check`
         must say ok.

Options: --binary (default $CARGO_TARGET_DIR/release/curator), --seed, --json FILE (the
figures as JSON), --server-arg ARG (repeatable, passed to `curator serve`). Exit status 1 when a
check fails.
"""
import argparse
import http.client
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAX_REQUESTS = 1_000_000  # hard cap over the whole run, whatever the duration
ALLOWED = {429, 503, 504}
CLIENT_TIMEOUT_S = 90  # longer than the server's 60 s request timeout

OPENERS = [
    "I loved {t}. What else would I like?",
    "Something like {t}, please",
    "I really enjoyed {t}",
    "I didn't like {t} at all",
    "have you seen {t}? it's one of my favorites",
    "I'm in the mood for a funny movie",
    "any good horror films?",
    "I want a thriller with a twist",
    "something with Tom Hanks",
    "more please",
    "I've seen those, anything else?",
    "no horror please, something light",
]


def titles():
    out = []
    with open(os.path.join(ROOT, "catalogs", "movies", "items.jsonl"), encoding="utf-8") as f:
        for line in f:
            it = json.loads(line)
            if it.get("popularity", 0) >= 20:
                out.append(f"{it['title']} ({it['year']})" if it.get("year") else it["title"])
    return out


def percentile(xs, q):
    if not xs:
        return None
    xs = sorted(xs)
    k = min(len(xs) - 1, max(0, int(round(q / 100 * (len(xs) - 1)))))
    return xs[k]


def rss_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class Server:
    """`curator serve` on 127.0.0.1 with a given database; restartable."""

    def __init__(self, binary, db, extra):
        self.binary, self.db, self.extra = binary, db, extra
        self.proc = None
        self.port = None
        self.lock = threading.Lock()
        self.up = threading.Event()

    def start(self):
        args = [self.binary, "serve", "--host", "127.0.0.1", "--port", str(self.port or 0), "--db", self.db] + self.extra
        env = dict(os.environ)
        env.pop("CURATOR_API_KEY", None)
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
        line = proc.stdout.readline().strip()
        prefix = "curator serve: listening on http://127.0.0.1:"
        if not line.startswith(prefix):
            proc.kill()
            raise SystemExit(f"unexpected first line from curator serve: {line!r}")
        self.port = int(line[len(prefix):])
        threading.Thread(target=lambda: proc.stdout.read(), daemon=True).start()
        with self.lock:
            self.proc = proc
        # Ready when /readyz answers 200 (the model loaded).
        t0 = time.time()
        while time.time() - t0 < 120:
            try:
                st, _ = request(self.port, "GET", "/readyz", None, timeout=5)
                if st == 200:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        self.up.set()
        return time.time() - t0

    def kill9(self):
        self.up.clear()
        with self.lock:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self):
        self.up.clear()
        with self.lock:
            if self.proc and self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()


def request(port, method, path, body, timeout=CLIENT_TIMEOUT_S):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if data is not None else {}
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        raw = resp.read()
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = None
        return resp.status, payload
    finally:
        conn.close()


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.latency = {}  # endpoint -> [seconds] of 2xx answers
        self.status = {}  # endpoint -> {status: count}
        self.errors = {}  # endpoint -> {kind: count} (connection failures)
        self.requests = 0
        self.warmup = None  # the warm-up's figures (summary()), when there was one

    def record(self, endpoint, status, secs):
        with self.lock:
            self.requests += 1
            self.status.setdefault(endpoint, {}).setdefault(status, 0)
            self.status[endpoint][status] += 1
            if 200 <= status < 300:
                self.latency.setdefault(endpoint, []).append(secs)

    def error(self, endpoint, kind):
        with self.lock:
            self.requests += 1
            self.errors.setdefault(endpoint, {}).setdefault(kind, 0)
            self.errors[endpoint][kind] += 1


def client(i, server, stats, stop_at, stop_flag, rng, tnames, acked, run_id):
    """One session: sequential requests until the deadline. `acked[sid]` collects the user texts
    answered with 200, in order, and the ratings acknowledged with 200."""
    sid = f"soak-{run_id}-{i}"
    log = {"turns": [], "ratings": {}}
    acked[sid] = log
    last_recs = []
    while time.time() < stop_at and not stop_flag.is_set():
        with stats.lock:
            if stats.requests >= MAX_REQUESTS:
                return
        if not server.up.wait(timeout=1):
            continue
        port = server.port
        r = rng.random()
        if r < 0.60 or not log["turns"]:
            endpoint = "chat"
            text = rng.choice(OPENERS).format(t=rng.choice(tnames))
            body = {"model": "curator", "session_id": sid, "messages": [{"role": "user", "content": text}]}
            path = "/v1/chat/completions"
        elif r < 0.85:
            endpoint, path, body = "recommend", "/v1/recommend", {"session_id": sid, "k": 10}
        else:
            endpoint, path = "feedback", "/v1/feedback"
            item = rng.choice(last_recs) if last_recs else None
            if item is None:
                continue
            rating = rng.choice(["like", "dislike", "seen"])
            body = {"session_id": sid, "item_id": item, "rating": rating}
        t0 = time.time()
        try:
            status, payload = request(port, "POST", path, body)
        except (OSError, http.client.HTTPException) as e:
            stats.error(endpoint, type(e).__name__)
            time.sleep(0.5)
            continue
        stats.record(endpoint, status, time.time() - t0)
        if status == 200 and endpoint == "chat":
            log["turns"].append(text)
            recs = (payload or {}).get("recommendations") or []
            last_recs = [x["id"] for x in recs if isinstance(x, dict) and "id" in x] or last_recs
        elif status == 200 and endpoint == "recommend":
            items = (payload or {}).get("items") or []
            last_recs = [x["id"] for x in items if isinstance(x, dict) and "id" in x] or last_recs
        elif status == 200 and endpoint == "feedback":
            log["ratings"][item] = rating
        elif status == 429:
            time.sleep(1.0 + rng.random())
        elif status >= 500:
            time.sleep(1.0)
        time.sleep(rng.random() * 0.5)  # think time


def run_load(server, args, secs, kills, rng):
    stats = Stats()
    tnames = titles()
    acked = {}
    stop_flag = threading.Event()
    warmup = getattr(args, "warmup", 0) if not kills else 0
    stop_at = time.time() + warmup + secs
    run_id = f"{int(time.time())}"
    rss = []
    threads = []
    for i in range(args.sessions):
        t = threading.Thread(
            target=client,
            args=(i, server, stats, stop_at, stop_flag, random.Random(args.seed * 1000 + i), tnames, acked, run_id),
            daemon=True,
        )
        t.start()
        threads.append(t)
    t0 = time.time() + warmup  # RSS sample times count from the end of the warm-up
    restarts = []
    if kills:
        for k in range(kills):
            time.sleep(rng.uniform(5, 25))
            at = time.time() - t0
            server.kill9()
            ready = server.start()
            restarts.append({"killed_at_s": round(at, 1), "ready_after_s": round(ready, 1)})
            print(f"kill {k + 1}/{kills} at {at:.1f} s; ready again after {ready:.1f} s", flush=True)
        time.sleep(10)  # load on the last incarnation too
        stop_flag.set()
    else:
        if warmup:
            print(f"warm-up: {warmup} s of the same load before the measured {secs} s", flush=True)
            time.sleep(warmup)
            with stats.lock:
                stats.warmup = summary(stats)
                stats.latency, stats.status, stats.errors = {}, {}, {}
        next_sample = t0
        while time.time() < stop_at:
            if time.time() >= next_sample:
                rss.append((round(time.time() - t0), rss_mb(server.proc.pid)))
                print(f"t={rss[-1][0]:>4} s  rss={rss[-1][1]:.1f} MB  requests={stats.requests}", flush=True)
                next_sample += 10
            time.sleep(0.2)
    for t in threads:
        t.join(timeout=CLIENT_TIMEOUT_S + 5)
    return stats, acked, rss, restarts, time.time() - t0 + warmup


def summary(stats):
    out = {}
    for ep in sorted(set(stats.status) | set(stats.errors)):
        lat = stats.latency.get(ep, [])
        codes = stats.status.get(ep, {})
        out[ep] = {
            "requests": sum(codes.values()) + sum(stats.errors.get(ep, {}).values()),
            "ok": len(lat),
            "p50_ms": None if not lat else round(1000 * percentile(lat, 50), 1),
            "p99_ms": None if not lat else round(1000 * percentile(lat, 99), 1),
            "status": {str(k): v for k, v in sorted(codes.items())},
            "connection_errors": stats.errors.get(ep, {}),
        }
    return out


def verify(server, acked):
    """Every acknowledged turn and rating is in the database, in order."""
    missing_turns, missing_ratings, sessions, turns = [], [], 0, 0
    for sid, log in acked.items():
        if not log["turns"]:
            continue
        sessions += 1
        turns += len(log["turns"])
        status, view = request(server.port, "GET", f"/v1/sessions/{sid}", None)
        if status != 200:
            missing_turns.append((sid, f"GET answered {status}"))
            continue
        stored = [m["content"] for m in view["messages"] if m["role"] == "user"]
        # Each acknowledged turn appears in order (the store may hold more: a turn committed
        # just before a kill, whose answer never reached the client).
        k = 0
        for text in log["turns"]:
            while k < len(stored) and stored[k] != text.strip():
                k += 1
            if k == len(stored):
                missing_turns.append((sid, text))
                break
            k += 1
        liked = {x["id"] for x in view["liked"]}
        disliked = {x["id"] for x in view["disliked"]}
        for item, rating in log["ratings"].items():
            # A later text turn may change an item's polarity; only a like that is now a dislike
            # (or the reverse) without any later turn would be a lost write, so check the last
            # rating only when it is the session's last acknowledged action on the item.
            if rating == "like" and item not in liked and item not in disliked:
                missing_ratings.append((sid, item, rating))
            if rating == "dislike" and item not in disliked and item not in liked:
                missing_ratings.append((sid, item, rating))
    return {"sessions": sessions, "turns": turns, "ratings": sum(len(l["ratings"]) for l in acked.values()),
            "missing_turns": missing_turns[:20], "missing_turn_count": len(missing_turns),
            "missing_ratings": missing_ratings[:20], "missing_rating_count": len(missing_ratings)}


def integrity(db):
    conn = sqlite3.connect(db)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=["soak", "kill"])
    p.add_argument("--sessions", type=int, default=200)
    p.add_argument("--secs", type=int, default=300, help="soak duration (soak mode)")
    p.add_argument("--kills", type=int, default=10, help="SIGKILL + restart count (kill mode)")
    p.add_argument("--warmup", type=int, default=0,
                   help="soak mode: seconds of the same load before the measured --secs (figures, RSS "
                        "minutes and checks count from its end; its own figures are reported apart)")
    p.add_argument("--seed", type=int, default=20)
    default_bin = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "curator")
    p.add_argument("--binary", default=default_bin)
    p.add_argument("--json")
    p.add_argument("--server-arg", action="append", default=[])
    args = p.parse_args()
    rng = random.Random(args.seed)
    tmp = tempfile.mkdtemp(prefix="curator-soak-")
    db = os.path.join(tmp, "sessions.db")
    server = Server(args.binary, db, args.server_arg)
    ready = server.start()
    print(f"server on 127.0.0.1:{server.port}, ready after {ready:.1f} s; db {db}", flush=True)
    ok = True
    result = {"mode": args.mode, "sessions": args.sessions, "seed": args.seed, "server_args": args.server_arg}
    try:
        if args.mode == "soak":
            stats, acked, rss, _, wall = run_load(server, args, args.secs, 0, rng)
            result["wall_s"] = round(wall, 1)
            result["warmup_s"] = args.warmup
            result["warmup_endpoints"] = stats.warmup
            result["endpoints"] = summary(stats)
            bad = {ep: {c: n for c, n in v["status"].items() if not c.startswith("2") and int(c) not in ALLOWED}
                   for ep, v in result["endpoints"].items()}
            bad = {ep: v for ep, v in bad.items() if v}
            conn_errors = {ep: v["connection_errors"] for ep, v in result["endpoints"].items() if v["connection_errors"]}
            result["disallowed_status"] = bad
            result["rss_mb"] = rss
            second = [m for t, m in rss if 60 <= t < 120 and m]
            last = [m for t, m in rss if t >= rss[-1][0] - 60 and m] if rss else []
            base = sum(second) / len(second) if second else None
            worst = max((abs(m - base) / base for m in last), default=None) if base else None
            result["rss_second_minute_mean_mb"] = base and round(base, 1)
            result["rss_last_minute_max_deviation"] = worst and round(worst, 4)
            result["rss_flat"] = worst is not None and worst <= 0.05
            result["verify"] = verify(server, acked)
            ok = not bad and not conn_errors and result["rss_flat"] and result["verify"]["missing_turn_count"] == 0
        else:
            stats, acked, _, restarts, wall = run_load(server, args, 10**6, args.kills, rng)
            result["wall_s"] = round(wall, 1)
            result["restarts"] = restarts
            result["endpoints"] = summary(stats)
            result["verify"] = verify(server, acked)
            server.stop()
            result["integrity_check"] = integrity(db)
            ok = (result["verify"]["missing_turn_count"] == 0 and result["verify"]["missing_rating_count"] == 0
                  and result["integrity_check"] == "ok")
    finally:
        server.stop()
    if args.mode == "soak":
        result["integrity_check"] = integrity(db)
        ok = ok and result["integrity_check"] == "ok"
    result["ok"] = ok
    text = json.dumps(result, indent=1)
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text + "\n")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
