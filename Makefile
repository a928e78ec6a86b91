# The two commands a newcomer runs (README.md): `make chat` and `make test`.
# Builds go to a cache outside the clone, so a fresh clone reuses the llama.cpp build (~10 min cold).
export CARGO_TARGET_DIR ?= $(HOME)/.cache/curator/target
CARGO ?= cargo

.PHONY: chat test prereqs model build lint eval bench serve data

## Chat with Curator on the committed catalog with the default model (fetched on first use).
chat: prereqs
	$(CARGO) run --release -- chat

## Run every test (unit, integration, real model). Fetches the model first if it is absent.
test: model
	@bash scripts/prereqs.sh --tests
	$(CARGO) test --release

prereqs:
	@bash scripts/prereqs.sh

model: prereqs
	$(CARGO) run --release -- model fetch

build: prereqs
	$(CARGO) build --release

## Formatting, clippy (warnings are errors) and documentation warnings.
lint: prereqs
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --release --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --release --no-deps

## The whole evaluation suite (ReDial and INSPIRED, every protocol, agent mode, simulator):
## regenerates evals/results/, evals/REPORT.md, evals/report.json and evals/plots/.
eval: prereqs model
	$(CARGO) run --release -- eval all

bench: prereqs model
	$(CARGO) run --release -- bench

## The OpenAI-compatible HTTP API on 127.0.0.1:8080.
serve: prereqs model
	$(CARGO) run --release -- serve

## Rebuild the committed data from ../shared/data.
data: prereqs
	$(CARGO) run --release -- data build --source ../shared/data
