#!/usr/bin/env python3
"""The official OpenAI Python client talks to `curator serve`, unchanged.

Starts `curator serve --no-model` on 127.0.0.1 (port chosen by the OS, a fresh session database,
an API key), then uses `openai.OpenAI(base_url=...)` for a normal and a streaming chat completion,
a session continued through `extra_body`, error mapping (unknown model, wrong key), and the request
fields: `stop` and `user` honoured, `n` > 1 and unsupported fields refused by name; then, with the
default model (`curator model fetch`), `max_tokens` (finish_reason "length") and `seed` (same seed,
same reply) on a second server.

Usage: python3 tests/server_openai_client.py [PATH_TO_CURATOR_BINARY]
(default: $CARGO_TARGET_DIR/release/curator, else ~/.cache/curator/target/release/curator).
Needs `pip install openai`. Exits non-zero on any failure.
"""

import os
import subprocess
import sys
import tempfile

try:
    import openai
except ImportError:
    sys.exit("the OpenAI Python client is missing: run `pip install openai` (or `python3 -m pip install openai`)")


def binary() -> str:
    if len(sys.argv) > 1:
        return sys.argv[1]
    target = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/curator/target"))
    return os.path.join(target, "release", "curator")


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def serve(exe, tmp, name, extra):
    """`curator serve --port 0 EXTRA…` on 127.0.0.1; returns (process, base URL)."""
    env = {k: v for k, v in os.environ.items() if k != "CURATOR_API_KEY"}
    proc = subprocess.Popen(
        [exe, "serve", "--port", "0", "--db", os.path.join(tmp, name), "--api-key", "test-key"] + extra,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    line = proc.stdout.readline().strip()
    prefix = "curator serve: listening on "
    if not line.startswith(prefix):
        proc.kill()
        raise AssertionError(f"unexpected first line: {line!r}")
    return proc, line[len(prefix):] + "/v1"


def request_fields(client) -> None:
    """stop, user, n and unsupported fields against the server without a model."""
    heat = [{"role": "user", "content": "I loved Heat and Collateral"}]
    full = client.chat.completions.create(model="curator", messages=heat)
    text = full.choices[0].message.content
    cut = client.chat.completions.create(model="curator", messages=heat, stop=["\n2. "], user="user-42")
    check(cut.choices[0].message.content == text[: text.index("\n2. ")], cut)
    check(cut.choices[0].finish_reason == "stop", cut)
    check(len(cut.model_extra["recommendations"]) == 1, cut.model_extra["recommendations"])
    for kwargs, field in [({"n": 2}, "n"), ({"logit_bias": {"50256": -100}}, "logit_bias"),
                          ({"presence_penalty": 1.0}, "presence_penalty"), ({"temperature": 5}, "temperature")]:
        try:
            client.chat.completions.create(model="curator", messages=heat, **kwargs)
            check(False, f"{kwargs} accepted")
        except openai.BadRequestError as e:
            check(e.body["param"] == field and e.body["code"] in ("unsupported_field", "invalid_temperature"), e.body)
    # Values that change nothing pass.
    ok = client.chat.completions.create(model="curator", messages=heat, n=1, presence_penalty=0, logprobs=False,
                                        max_tokens=500, seed=3, temperature=0.5, top_p=0.9)
    check(ok.choices[0].finish_reason == "stop", ok)
    print("request fields ok (stop, user, n, unsupported fields)")


def model_fields(exe, tmp) -> None:
    """max_tokens and seed with the default model. The model's only free choice in a reply is the
    order of the ranker's shortlist in the constrained list (the opening is built from the state),
    so the list is 5 long and 6 other seeds are tried: with 3 items and 3 seeds a peaked order made
    every sampled reply equal."""
    path = subprocess.run([exe, "model", "fetch"], check=True, capture_output=True, text=True).stdout.strip()
    proc, base = serve(exe, tmp, "m.db", ["--model", path, "--timeout-secs", "600", "--recommendations", "5"])
    try:
        client = openai.OpenAI(base_url=base, api_key="test-key", timeout=600, max_retries=0)
        heat = [{"role": "user", "content": "I loved Heat and Collateral"}]
        short = client.chat.completions.create(model="curator", messages=heat, max_tokens=5)
        check(short.choices[0].finish_reason == "length", short)
        check(1 <= short.usage.completion_tokens <= 5, short.usage)
        check(short.model_extra["recommendations"] == [], short.model_extra["recommendations"])
        replies = [client.chat.completions.create(model="curator", messages=heat, temperature=1.5, top_p=1.0,
                                                  seed=seed).choices[0].message.content
                   for seed in (7, 7, 1, 2, 3, 4, 5, 6)]
        check(replies[0] == replies[1], replies[:2])
        check(any(r != replies[0] for r in replies[2:]), replies)
        print("model fields ok (max_tokens -> length, same seed -> same reply)")
    finally:
        proc.kill()
        proc.wait()


def main() -> None:
    exe = binary()
    if not os.path.exists(exe):
        sys.exit(f"{exe} does not exist: build it first with `cargo build --release`")
    with tempfile.TemporaryDirectory() as tmp:
        proc, base = serve(exe, tmp, "s.db", ["--no-model"])
        try:
            client = openai.OpenAI(base_url=base, api_key="test-key", timeout=60, max_retries=0)

            models = [m.id for m in client.models.list()]
            check("curator" in models, f"models: {models}")

            # A normal request.
            resp = client.chat.completions.create(
                model="curator",
                messages=[
                    {"role": "system", "content": "You recommend movies."},
                    {"role": "user", "content": "I loved Heat and Collateral, what else should I watch?"},
                ],
            )
            content = resp.choices[0].message.content
            recs = resp.model_extra["recommendations"]
            check(resp.choices[0].finish_reason == "stop", resp)
            check(len(recs) == 3, recs)
            for r in recs:
                check(r["title"] in content and r["reason"] and isinstance(r["id"], int), (r, content))
            session = resp.model_extra["session_id"]
            print(f"non-streaming ok: {[r['title'] for r in recs]}")

            # A streaming request, continuing the session through an extension field.
            stream = client.chat.completions.create(
                model="curator",
                messages=[{"role": "user", "content": "something funny now"}],
                stream=True,
                extra_body={"session_id": session},
            )
            text, streamed_recs, finish = "", None, None
            for chunk in stream:
                if chunk.model_extra.get("recommendations"):
                    streamed_recs = chunk.model_extra["recommendations"]
                if chunk.choices:
                    text += chunk.choices[0].delta.content or ""
                    finish = chunk.choices[0].finish_reason or finish
            check(finish == "stop", finish)
            check(streamed_recs and len(streamed_recs) == 3, streamed_recs)
            first_ids = {r["id"] for r in recs}
            for r in streamed_recs:
                check(r["title"] in text, (r, text))
                check(r["id"] not in first_ids, "a continued session never repeats an item")
            print(f"streaming ok: {[r['title'] for r in streamed_recs]}")

            # Errors map onto the client's exception types.
            try:
                client.chat.completions.create(model="gpt-9", messages=[{"role": "user", "content": "hi"}])
                check(False, "unknown model accepted")
            except openai.NotFoundError as e:
                check("gpt-9" in str(e), e)
            try:
                client.chat.completions.create(model="curator", messages=[])
                check(False, "empty messages accepted")
            except openai.BadRequestError as e:
                check("empty" in str(e), e)
            bad = openai.OpenAI(base_url=base, api_key="wrong", max_retries=0)
            try:
                bad.chat.completions.create(model="curator", messages=[{"role": "user", "content": "hi"}])
                check(False, "wrong key accepted")
            except openai.AuthenticationError:
                pass
            print("errors ok")
            request_fields(client)
        finally:
            proc.kill()
            proc.wait()
        model_fields(exe, tmp)
    print("OpenAI Python client: all checks passed")


if __name__ == "__main__":
    main()
