#!/usr/bin/env bash
# Benchmark: builds the release binary and measures it with wrk against 127.0.0.1 only.
#   scripts/bench.sh                      # SQLite
#   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test scripts/bench.sh   # + PostgreSQL
#   BENCH_ONLY=soak scripts/bench.sh      # the 10-minute soak (never run by default)
# Knobs: BENCH_SECONDS (per run, default 10), BENCH_CONNECTIONS (default 32),
#        BENCH_TRIALS (cross-instance revocations, default 200),
#        BENCH_ONLY (comma-separated parts: ratio, token, flood, nocache, scale, history,
#          saturation, soak, instructions, postgres; default all but soak),
#        BENCH_SOAK_SECONDS (length of the soak, default 600),
#        BENCH_AUTH (extra [auth] keys for every server, e.g. 'hash_nice=0,hash_threads=2';
#          a part's own keys, such as the soak's bcrypt_cost = 4, take precedence).
# Prints one table and writes it to target/bench/results.md.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
command -v psql >/dev/null || [ -z "${BENCH_DATABASE_URL:-}" ] || apt-get install -y -qq postgresql-client
cargo build --release --quiet
exec python3 scripts/bench.py "$@"
