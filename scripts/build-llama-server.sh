#!/usr/bin/env bash
# Build llama.cpp's `llama-server` for this CPU and install it where cinerec looks for it:
#   ${CINEREC_CACHE_DIR:-${XDG_CACHE_HOME:-~/.cache}/cinerec}/bin/llama-server
# (cinerec.llm.server.llama_server_binary finds it there when it is not on PATH), or into
# $LLAMA_SERVER_DIR when set (e.g. /usr/local/bin in deploy/Dockerfile).
#
# The source comes from PyPI, the one index a fresh machine is sure to reach: the sdist of
# llama-cpp-python, the version cinerec already pins, vendors llama.cpp (tools/server included),
# so the server and the in-process runtime run the same llama.cpp. pip downloads it and checks its
# sha256. Only the llama-server target is built: CPU only, no curl, no OpenSSL, no web UI, with the
# instruction sets of scripts/llama-cmake-args.sh (no AMX). One patch is applied first,
# scripts/llama-server-greedy-grammar.patch: with greedy decoding (temperature 0, no penalty or
# bias) and a grammar, a token the grammar rejects is replaced by the best allowed one of the 64
# highest logits, and only when none of those is allowed is the whole vocabulary checked; the
# chosen token is the one stock llama.cpp chooses, found without checking 151k tokens (the
# embedded backend does the same: src/cinerec/llm/backends/llamacpp_grammar.py). Nothing is done
# when the installed binary already comes from this version and patch.
#
# Usage: scripts/build-llama-server.sh            (JOBS=2 by default; runs under nice -n 10)
#        PYTHON=.venv/bin/python JOBS=4 scripts/build-llama-server.sh
# Compiling takes about 12 CPU-minutes: 36 minutes on this project's 2 shared cores at load
# average 12 (benchmarks/README.md, "llama-server"); run it once, not in CI.
set -euo pipefail
cd "$(dirname "$0")/.."

version=0.3.36
sha256=832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e
python=${PYTHON:-python3}
jobs=${JOBS:-2}
cache=${CINEREC_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cinerec}
dest=${LLAMA_SERVER_DIR:-$cache/bin}
stamp="$dest/llama-server.source"
patch_file=scripts/llama-server-greedy-grammar.patch
want="llama-cpp-python==$version sha256:$sha256 patch:$(sha256sum "$patch_file" | cut -c1-16) $(bash scripts/llama-cmake-args.sh)"

if [ -x "$dest/llama-server" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  echo "llama-server is up to date: $dest/llama-server"
  exit 0
fi
for tool in cmake c++ tar patch; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: install it (Debian: cmake g++ patch)." >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/llama-server-build.XXXXXX")
trap 'rm -rf "$work"' EXIT

# pip checks the hash (--require-hashes); downloading an sdist also prepares its metadata, which
# fetches llama-cpp-python's build backend from PyPI into an isolated environment (no compiling).
echo "llama-cpp-python==$version --hash=sha256:$sha256" >"$work/requirements.txt"
"$python" -m pip download --quiet --no-deps --no-binary llama-cpp-python --require-hashes \
  -r "$work/requirements.txt" -d "$work"
sdist="$work/llama_cpp_python-$version.tar.gz"
echo "$sha256  $sdist" | sha256sum --check --quiet
tar xzf "$sdist" -C "$work" "llama_cpp_python-$version/vendor/llama.cpp"
src="$work/llama_cpp_python-$version/vendor/llama.cpp"
patch -d "$src" -p1 --quiet --forward <"$patch_file"

# shellcheck disable=SC2046  # the flags are separate words
nice -n 10 cmake -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release \
  -DBUILD_SHARED_LIBS=OFF -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
  -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
  $(bash scripts/llama-cmake-args.sh) >"$work/configure.log" 2>&1 ||
  { cat "$work/configure.log" >&2; exit 1; }
start=$(date +%s)
nice -n 10 cmake --build "$work/build" --target llama-server -j "$jobs" >"$work/build.log" 2>&1 ||
  { tail -n 50 "$work/build.log" >&2; exit 1; }
echo "built llama-server in $(($(date +%s) - start)) s on $jobs jobs"

mkdir -p "$dest"
install -m 0755 "$work/build/bin/llama-server" "$dest/llama-server"
echo "$want" >"$stamp"
"$dest/llama-server" --version 2>&1 | head -n 2
echo "installed $dest/llama-server"
