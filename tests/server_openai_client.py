#!/usr/bin/env python3
"""The official OpenAI Python client talks to `curator serve`, unchanged.

Starts `curator serve --no-model` on 127.0.0.1 (port chosen by the OS, a fresh session database,
an API key), then uses `openai.OpenAI(base_url=...)` for a normal and a streaming chat completion,
a session continued through `extra_body`, and error mapping (unknown model, wrong key).

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


def main() -> None:
    exe = binary()
    if not os.path.exists(exe):
        sys.exit(f"{exe} does not exist: build it first with `cargo build --release`")
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if k != "CURATOR_API_KEY"}
        proc = subprocess.Popen(
            [exe, "serve", "--no-model", "--port", "0", "--db", os.path.join(tmp, "s.db"), "--api-key", "test-key"],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        try:
            line = proc.stdout.readline().strip()
            prefix = "curator serve: listening on "
            check(line.startswith(prefix), f"unexpected first line: {line!r}")
            base = line[len(prefix):] + "/v1"
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
        finally:
            proc.kill()
            proc.wait()
    print("OpenAI Python client: all checks passed")


if __name__ == "__main__":
    main()
