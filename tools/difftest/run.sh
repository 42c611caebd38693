#!/usr/bin/env bash
# Builds and runs the expression differential test against live PostgreSQL (scripts/live-up first).
# Usage: tools/difftest/run.sh [seed] [cases] [conninfo]; DIFFTEST_DUMP=file lists every disagreement.
set -euo pipefail
cd "$(dirname "$0")/../.."
g++ -std=c++20 -O1 -I. $(pkg-config --cflags libpqxx) tools/difftest/difftest.cc -o /tmp/difftest \
  build/release/librehearse_core.a $(pkg-config --libs libpqxx) -lpq -lfmt
exec /tmp/difftest "$@"
