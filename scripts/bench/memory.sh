#!/usr/bin/env bash
# A million plays in little memory (issue #11): peak RSS and time per play of the dry run, at
# 200,000 and 1,000,000 plays (bench-out/export-SIZE, gen-export.py seed 1, made if missing).
#
#   scripts/bench/memory.sh                                   new build only (TOOL_BIN or .build/release)
#   OLD_BIN=bench-out/trakt2discovr-old REPS=3 scripts/bench/memory.sh    also an older build, alternating
#   SIZES="200000 1000000" scripts/bench/memory.sh
#   LISTS=1 SIZES=200000 OLD_BIN=... scripts/bench/memory.sh       the exports with ratings and lists
#                                                             (bench-out/export-SIZE-lists, gen-export.py --lists)
#
# Each run: /usr/bin/time BIN import EXPORT --dry-run --json > /dev/null. Prints per binary and size
# the median (and fastest) wall time, the median CPU time (user + system), the largest peak RSS,
# microseconds of wall time per play, and the growth of time per play from the first size to the last.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT="$ROOT/bench-out"
SIZES=${SIZES:-200000 1000000}
REPS=${REPS:-3}
mkdir -p "$OUT"
SUFFIX=""; GEN_FLAGS=()
if [ "${LISTS:-0}" = 1 ]; then SUFFIX="-lists"; GEN_FLAGS=(--lists); fi
for n in $SIZES; do
    e="$OUT/export-$n$SUFFIX"
    [ -d "$e" ] || { rm -rf "$e.tmp"; python3 "$ROOT/scripts/bench/gen-export.py" "$n" "$e.tmp" --seed 1 "${GEN_FLAGS[@]}" >&2; mv "$e.tmp" "$e"; }
done
NEW="$OUT/trakt2discovr-memory-bench"
cp "${TOOL_BIN:-$ROOT/.build/release/trakt2discovr}" "$NEW"
BINS=("$NEW")
[ -n "${OLD_BIN:-}" ] && BINS=("$OLD_BIN" "$NEW")
LOG="$OUT/memory-$(date -u +%Y%m%dT%H%M%SZ).log"
echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC'), load: $(uptime | sed 's/.*load average: //'), source $(git -C "$ROOT" rev-parse --short HEAD), exports export-SIZE$SUFFIX" | tee -a "$LOG" >&2

declare -A WALL CPU KB
for _ in $(seq "$REPS"); do
    for n in $SIZES; do
        for bin in "${BINS[@]}"; do
            tf=$(mktemp)
            /usr/bin/time -f "%e %M %U %S" -o "$tf" "$bin" import "$OUT/export-$n$SUFFIX" --dry-run --json > /dev/null
            read -r s kb u sy < <(tail -n 1 "$tf"); rm -f "$tf"
            WALL[$bin,$n]+="$s "; KB[$bin,$n]+="$kb "; CPU[$bin,$n]+="$(awk -v u="$u" -v s="$sy" 'BEGIN {print u + s}') "
            echo "$(basename "$bin") $n: $s s, ${kb} KB, cpu $u+$sy s" | tee -a "$LOG" >&2
        done
    done
done
median() { printf '%s\n' $1 | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
least() { printf '%s\n' $1 | sort -g | head -n 1; }
most() { printf '%s\n' $1 | sort -g | tail -n 1; }
first=${SIZES%% *}; last=${SIZES##* }
{
    echo "| binary | plays | wall median s (min) | CPU median s | peak MB | µs per play (median) | growth of time per play |"
    echo "|---|---:|---:|---:|---:|---:|---:|"
    for bin in "${BINS[@]}"; do
        base=$(awk -v w="$(median "${WALL[$bin,$first]}")" -v n="$first" 'BEGIN {print w / n * 1e6}')
        for n in $SIZES; do
            awk -v b="$(basename "$bin")" -v n="$n" -v w="$(median "${WALL[$bin,$n]}")" -v m="$(least "${WALL[$bin,$n]}")" \
                -v c="$(median "${CPU[$bin,$n]}")" -v k="$(most "${KB[$bin,$n]}")" -v base="$base" \
                'BEGIN {us = w / n * 1e6; printf "| %s | %d | %.2f (%.2f) | %.2f | %.0f | %.2f | %.2f x |\n", b, n, w, m, c, k / 1024, us, us / base}'
        done
    done
} | tee -a "$LOG"
