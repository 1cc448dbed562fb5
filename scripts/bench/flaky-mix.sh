#!/usr/bin/env bash
# The flaky connection of issue #21: an import with default flags into a sandbox that fails 15 % of
# history requests with 5xx, closes 3 % of connections before storing, loses 3 % of answers after
# storing, answers 1 % slowly, and expires the session every 2 s.
#
#   scripts/bench/flaky-mix.sh                  1,504 plays (gen-export.py 1524 --seed 1), one run
#   RUNS=3 SLOW_DELAY=8 TOOL_BIN=... scripts/bench/flaky-mix.sh
#
# Environment: RUNS (default 1), SEED (the sandbox's, default 21, plus the run's number), SLOW_DELAY
# (seconds a slow answer takes, default 3: slow, but inside the default --timeout of 30 s), TOOL_BIN
# (default .build/release/trakt2discovr). Prints one markdown row per run: time, planned, stored,
# stored twice (the sandbox's `repeats`), missing (planned - stored), the sandbox's fault counts,
# the history reads (the existing-history check, the id-form probe, the read-backs) and the exit code. Goal: under 90 s, 0 stored twice, 0 missing.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=scripts/bench/sandbox-lib.sh
. "$ROOT/scripts/bench/sandbox-lib.sh"
OUT="$ROOT/bench-out"
RUNS=${RUNS:-1}
SEED=${SEED:-21}
SLOW_DELAY=${SLOW_DELAY:-3}
BIN=${TOOL_BIN:-$ROOT/.build/release/trakt2discovr}
mkdir -p "$OUT"
EXPORT="$OUT/export-1524"
[ -d "$EXPORT" ] || { rm -rf "$EXPORT.tmp"; python3 "$ROOT/scripts/bench/gen-export.py" 1524 "$EXPORT.tmp" --seed 1 >&2; mv "$EXPORT.tmp" "$EXPORT"; }
LOG="$OUT/flaky-mix-$(date -u +%Y%m%dT%H%M%SZ).log"
{
    echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC'), load: $(uptime | sed 's/.*load average: //')"
    echo "# binary: $BIN, sha256 $(sha256sum "$BIN" | cut -c1-16), source $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
    echo "# sandbox: --fail-rate 0.15 --drop-before-store-rate 0.03 --drop-rate 0.03 --slow-rate 0.01 --slow-delay $SLOW_DELAY --token-ttl 2"
    echo "| run | seed | time | planned | stored | stored twice | missing | 5xx | dropped before / after storing | slow | tokens | history reads | exit |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
} | tee -a "$LOG"
for run in $(seq "$RUNS"); do
    dir=$(mktemp -d)
    seed=$((SEED + run - 1))
    start_sandbox "$BIN" "$dir" --seed "$seed" --fail-rate 0.15 --drop-before-store-rate 0.03 \
        --drop-rate 0.03 --slow-rate 0.01 --slow-delay "$SLOW_DELAY" --token-ttl 2
    sandbox=$SANDBOX_PID url=$SANDBOX_URL
    rc=0
    /usr/bin/time -f "%e" -o "$dir/time" "$BIN" import "$EXPORT" --api-url "$url" --token-file "$dir/tok" \
        --state "$dir/s.sqlite" --json > "$dir/report.json" 2> "$dir/import.err" || rc=$?
    stats=$(curl -s "$url/_sandbox/stats")
    kill "$sandbox"; wait "$sandbox" 2>/dev/null || true
    python3 - "$stats" "$dir/report.json" "$(tail -n 1 "$dir/time")" "$run" "$seed" "$rc" <<'PY' | tee -a "$LOG"
import json, sys
s = json.loads(sys.argv[1]); r = json.load(open(sys.argv[2])) if open(sys.argv[2]).read().strip() else {}
planned = (r.get("planned") or {}).get("total", 0)
print(f"| {sys.argv[4]} | {sys.argv[5]} | {float(sys.argv[3]):.1f} s | {planned} | {s['stored']} | {s['repeats']} | {planned - s['stored']} "
      f"| {s['failed']} | {s.get('droppedBeforeStore', 0)} / {s['dropped']} | {s['slow']} | {s['tokensIssued']} "
      f"| {s['reads']} | {sys.argv[6]} |")
PY
    cp "$dir/import.err" "${LOG%.log}-run$run.err"
    rm -rf "$dir"
done
