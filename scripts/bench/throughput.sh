#!/usr/bin/env bash
# Delivery throughput against an unthrottled sandbox (issue #11): what the tool alone can do.
#
#   scripts/bench/throughput.sh                          20,000 items, concurrency 4 and 16
#   OLD_BIN=bench-out/trakt2discovr-old scripts/bench/throughput.sh    also an older client, alternating
#
# One sandbox process (`SANDBOX_BIN sandbox --port 0 --quiet`, default: the new binary) serves every
# run; each run gets its own state and its own ITEMS distinct movie plays (a fresh id range, so the
# sandbox stores every one), queued first with `import --limit 1` (planning and queueing are not
# delivery), then timed with /usr/bin/time:
#   BIN resume --api-url URL --token-file tok --state s.sqlite --rate 100000 --concurrency C --no-progress
# Prints items a second, CPU seconds of the client (user + system) per 1,000 items, peak RSS.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT="$ROOT/bench-out"
ITEMS=${ITEMS:-20000}
CONCURRENCY=${CONCURRENCY:-4 16}
REPS=${REPS:-2}
mkdir -p "$OUT"
NEW="$OUT/trakt2discovr-throughput-bench"
cp "${TOOL_BIN:-$ROOT/.build/release/trakt2discovr}" "$NEW"
BINS=("$NEW")
[ -n "${OLD_BIN:-}" ] && BINS=("$OLD_BIN" "$NEW")
SANDBOX_BIN=${SANDBOX_BIN:-$NEW}
LOG="$OUT/throughput-$(date -u +%Y%m%dT%H%M%SZ).log"
echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC'), load: $(uptime | sed 's/.*load average: //'), source $(git -C "$ROOT" rev-parse --short HEAD)" | tee -a "$LOG" >&2

work=$(mktemp -d)
"$SANDBOX_BIN" sandbox --port 0 --quiet --token-out "$work/tok" > "$work/sandbox.out" 2>&1 &
sandbox=$!
trap 'kill $sandbox 2>/dev/null || true; rm -rf "$work"' EXIT
url=""
for _ in $(seq 100); do
    url=$(grep -o 'http://[0-9.:]*' "$work/sandbox.out" | head -n 1 || true)
    [ -n "$url" ] && [ -s "$work/tok" ] && break
    sleep 0.1
done

run=0
ROWS=()
for c in $CONCURRENCY; do
    for _ in $(seq "$REPS"); do
        for bin in "${BINS[@]}"; do
            run=$((run + 1))
            dir="$work/run-$run"; mkdir -p "$dir"
            python3 - "$ITEMS" "$dir/history.json" "$run" <<'PY'
import json, sys, datetime
n, path, run = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
start = datetime.datetime(2000, 1, 1, 20, 0, 0)
base = run * 1_000_000
json.dump([{"id": 9_000_000_000 + base + k, "watched_at": (start + datetime.timedelta(minutes=k)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "action": "watch", "type": "movie",
            "movie": {"title": f"Movie {k}", "year": 2000, "ids": {"trakt": base + k + 1, "slug": f"movie-{k}", "tmdb": base + k + 1}}}
           for k in range(n)], open(path, "w"))
PY
            "$bin" import "$dir/history.json" --api-url "$url" --token-file "$work/tok" --state "$dir/s.sqlite" --limit 1 --no-progress > /dev/null 2>&1 || true
            /usr/bin/time -f "%e %U %S %M" -o "$dir/time" "$bin" resume --api-url "$url" --token-file "$work/tok" --state "$dir/s.sqlite" \
                --rate 100000 --concurrency "$c" --no-progress > /dev/null 2> "$dir/err" || true
            read -r e u s kb < "$dir/time"
            row=$(awk -v b="$(basename "$bin")" -v c="$c" -v n="$((ITEMS - 1))" -v e="$e" -v u="$u" -v s="$s" -v kb="$kb" \
                'BEGIN {printf "| %s | %d | %d | %.2f s | %.0f | %.2f s | %.0f MB |", b, c, n, e, n / e, (u + s) * 1000 / n, kb / 1024}')
            echo "$row" | tee -a "$LOG" >&2
            ROWS+=("$row")
            rm -rf "$dir"
        done
    done
done
{
    echo "| client | --concurrency | items | time | items/s | client CPU per 1,000 items | client peak RSS |"
    echo "|---|---:|---:|---:|---:|---:|---:|"
    printf '%s\n' "${ROWS[@]}"
} | tee -a "$LOG"
