#!/usr/bin/env bash
# Delivery-pace benchmark: `import` against a sandbox Discovr that allows R history requests a second,
# with and without RateLimit-* headers (issue #11, importer.md section 5).
#
#   scripts/bench/rate.sh                       the table: R = 10, 40, 200, headers on and off
#   RATES="40" HEADERS=on ITEMS=302 TOOL_BIN=bench-out/trakt2discovr-old scripts/bench/rate.sh
#                                               the issue's measurement (302 items, 40/s, headers) on an older build
#
# For each case: starts `trakt2discovr sandbox --port 0 --quiet --rate-limit R [--no-rate-limit-headers]`
# in its own process, writes ITEMS distinct movie plays (default 30 x R, so N/R = 30 s), and times
#   trakt2discovr import history.json --api-url URL --token-file tok --state s.sqlite --no-progress [RATE_FLAGS]
# with /usr/bin/time (the whole import: reading and queueing a few thousand plays take milliseconds).
# Then reads the sandbox's /_sandbox/stats (requests, 429s) and prints one markdown row per case:
# time, N/R, time / (N/R), 429s of requests. Goals: time within 1.15 x N/R with headers, 1.35 x
# without, under 3 % of requests answered 429.
#
# Environment: RATES (default "10 40 200"), HEADERS ("on off"), ITEMS (default 30 x R), TOOL_BIN
# (default .build/release/trakt2discovr, copied to bench-out/ first), RATE_FLAGS (extra import flags,
# e.g. "--rate 5"; default none: --rate auto).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=scripts/bench/sandbox-lib.sh
. "$ROOT/scripts/bench/sandbox-lib.sh"
OUT="$ROOT/bench-out"
RATES=${RATES:-10 40 200}
HEADERS=${HEADERS:-on off}
RATE_FLAGS=${RATE_FLAGS:-}
mkdir -p "$OUT"
BIN="$OUT/trakt2discovr-rate-bench"
cp "${TOOL_BIN:-$ROOT/.build/release/trakt2discovr}" "$BIN"
LOG="$OUT/rate-$(date -u +%Y%m%dT%H%M%SZ).log"
{
    echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC'), load: $(uptime | sed 's/.*load average: //')"
    echo "# binary: ${TOOL_BIN:-.build/release/trakt2discovr}, sha256 $(sha256sum "$BIN" | cut -c1-16), source $(git -C "$ROOT" rev-parse --short HEAD)"
} | tee -a "$LOG" >&2

history() { # count path: distinct movie plays, one a day (the shape of the CLI tests' history(_:count:))
    python3 - "$1" "$2" <<'PY'
import json, sys, datetime
n, path = int(sys.argv[1]), sys.argv[2]
start = datetime.datetime(2000, 1, 1, 20, 0, 0)
records = [{"id": 9_000_000_000 + k, "watched_at": (start + datetime.timedelta(days=k)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "action": "watch", "type": "movie",
            "movie": {"title": f"Movie {k}", "year": 2000, "ids": {"trakt": k + 1, "slug": f"movie-{k}", "tmdb": k + 1}}}
           for k in range(n)]
json.dump(records, open(path, "w"))
PY
}

ROWS=()
for r in $RATES; do
    for h in $HEADERS; do
        dir=$(mktemp -d)
        n=${ITEMS:-$((30 * r))}
        history "$n" "$dir/history.json"
        flags=(--rate-limit "$r")
        [ "$h" = off ] && flags+=(--no-rate-limit-headers)
        start_sandbox "$BIN" "$dir" "${flags[@]}"
        sandbox=$SANDBOX_PID url=$SANDBOX_URL
        # shellcheck disable=SC2086
        /usr/bin/time -f "%e" -o "$dir/time" "$BIN" import "$dir/history.json" --api-url "$url" --token-file "$dir/tok" \
            --state "$dir/s.sqlite" --no-progress $RATE_FLAGS > "$dir/import.out" 2> "$dir/import.err" || true
        stats=$(curl -s "$url/_sandbox/stats")
        kill "$sandbox"; wait "$sandbox" 2>/dev/null || true
        secs=$(tail -n 1 "$dir/time")
        read -r requests limited stored < <(python3 -c 'import json,sys; s=json.loads(sys.argv[1]); print(s["requests"], s["rateLimited"], s["stored"])' "$stats")
        row=$(awk -v r="$r" -v n="$n" -v s="$secs" -v q="$requests" -v l="$limited" -v st="$stored" -v h="$h" 'BEGIN {
            ideal = n / r
            printf "| %d/s | %s | %d | %d | %.2f s | %.1f s | %.2f | %d of %d (%.2f %%) |", r, h, n, st, s, ideal, s / ideal, l, q, 100 * l / q }')
        echo "$row" | tee -a "$LOG" >&2
        ROWS+=("$row")
        rm -rf "$dir"
    done
done
{
    echo "| server limit R | headers | N | stored | import time | N/R | time / (N/R) | 429s of requests |"
    echo "|---:|---|---:|---:|---:|---:|---:|---:|"
    printf '%s\n' "${ROWS[@]}"
} | tee -a "$LOG"
