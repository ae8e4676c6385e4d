#!/usr/bin/env bash
# The load benchmark's C load generator (benchmarks/load/run_load.py --generator wrk) and its
# test need Debian's wrk; install it when it is missing.
set -euo pipefail
if command -v wrk >/dev/null; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "wrk is missing: run 'sudo apt-get install wrk' (the load generator's test needs it)." >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends wrk >/dev/null
