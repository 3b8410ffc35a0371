#!/usr/bin/env bash
# Runs every fuzz target in turn, one process at a time, for SECONDS each (default 600),
# and prints each target's final libFuzzer statistics. Needs cargo-fuzz and a nightly
# toolchain (or RUSTC_BOOTSTRAP=1). Logs go to fuzz/logs/<target>.log.
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_EACH="${1:-600}"
TARGETS="${TARGETS:-pack fields client_message server_message states client_state server_state}"
mkdir -p logs
cargo +nightly fuzz build -O
for t in $TARGETS; do
    cargo +nightly fuzz run -O "$t" -- \
        -max_total_time="$SECONDS_EACH" -timeout=10 -print_final_stats=1 \
        > "logs/$t.log" 2>&1 || echo "$t: FAILED (see fuzz/logs/$t.log)"
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb|Done" "logs/$t.log" | sed "s/^/$t: /"
done
