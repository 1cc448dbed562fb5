#!/usr/bin/env bash
# Queueing benchmark (issue #11): how much longer `import` takes than the dry run of the same export,
# that is, what saving the plan in the state costs.
#
#   scripts/bench/enqueue.sh [size]                   default 200000 (bench-out/export-SIZE, made by run.sh)
#   OLD_BIN=bench-out/trakt2discovr-old scripts/bench/enqueue.sh   also an older build, alternating
#
# For each binary, REPS times (default 3), alternating binaries, measured with /usr/bin/time:
#   BIN import EXPORT --dry-run --json > /dev/null
#   BIN import EXPORT --sandbox --state FRESH.sqlite --limit 1 --no-progress --json $IMPORT_FLAGS > /dev/null
# The second is plan + queue (one durable transaction of every planned item) + starting the in-process
# sandbox and delivering one item (a few milliseconds) + closing the state (the WAL checkpoint).
# IMPORT_FLAGS defaults to `--existing ignore`: with the default `--existing check`, the check's one
# GET takes the pacer's first slot and the one POST then waits 200 ms for the next (5 requests/s at
# the start), which is delivery, not queueing. IMPORT_FLAGS= (empty) measures the default flags.
# Prints medians (and fastest) of wall time, peak RSS, and import / dry run.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT="$ROOT/bench-out"
N=${1:-200000}
REPS=${REPS:-3}
EXPORT="$OUT/export-$N"
[ -d "$EXPORT" ] || { rm -rf "$EXPORT.tmp"; python3 "$ROOT/scripts/bench/gen-export.py" "$N" "$EXPORT.tmp" --seed 1 >&2; mv "$EXPORT.tmp" "$EXPORT"; }
mkdir -p "$OUT"
NEW="$OUT/trakt2discovr-enqueue-bench"
cp "${TOOL_BIN:-$ROOT/.build/release/trakt2discovr}" "$NEW"
BINS=("$NEW")
[ -n "${OLD_BIN:-}" ] && BINS=("$OLD_BIN" "$NEW")
LOG="$OUT/enqueue-$(date -u +%Y%m%dT%H%M%SZ).log"
echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC'), load: $(uptime | sed 's/.*load average: //'), source $(git -C "$ROOT" rev-parse --short HEAD), import flags: ${IMPORT_FLAGS---existing ignore}" | tee -a "$LOG" >&2

declare -A DRY IMP DRYKB IMPKB DRYCPU IMPCPU
for _ in $(seq "$REPS"); do
    for bin in "${BINS[@]}"; do
        tf=$(mktemp); state=$(mktemp -d)
        /usr/bin/time -f "%e %M %U %S" -o "$tf" "$bin" import "$EXPORT" --dry-run --json > /dev/null
        read -r s kb u sy < <(tail -n 1 "$tf"); DRY[$bin]+="$s "; DRYKB[$bin]+="$kb "; DRYCPU[$bin]+="$(awk -v u="$u" -v s="$sy" 'BEGIN {print u + s}') "
        /usr/bin/time -f "%e %M %U %S" -o "$tf" "$bin" import "$EXPORT" --sandbox --state "$state/s.sqlite" --limit 1 --no-progress --json ${IMPORT_FLAGS---existing ignore} > /dev/null 2>&1 || true
        read -r s2 kb2 u2 sy2 < <(tail -n 1 "$tf"); IMP[$bin]+="$s2 "; IMPKB[$bin]+="$kb2 "; IMPCPU[$bin]+="$(awk -v u="$u2" -v s="$sy2" 'BEGIN {print u + s}') "
        echo "$(basename "$bin"): dry run $s s ${kb} KB cpu $u+$sy s, import $s2 s ${kb2} KB cpu $u2+$sy2 s" | tee -a "$LOG" >&2
        rm -rf "$tf" "$state"
    done
done
median() { printf '%s\n' $1 | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
least() { printf '%s\n' $1 | sort -g | head -n 1; }
most() { printf '%s\n' $1 | sort -g | tail -n 1; }
{
    echo "| binary | dry run median s (min) | import median s (min) | import / dry run (medians) | import - dry run | CPU s dry / import (medians) | peak MB dry / import |"
    echo "|---|---:|---:|---:|---:|---:|---:|"
    for bin in "${BINS[@]}"; do
        d=$(median "${DRY[$bin]}"); i=$(median "${IMP[$bin]}")
        awk -v b="$(basename "$bin")" -v d="$d" -v i="$i" -v dm="$(least "${DRY[$bin]}")" -v im="$(least "${IMP[$bin]}")" \
            -v dk="$(most "${DRYKB[$bin]}")" -v ik="$(most "${IMPKB[$bin]}")" -v dc="$(median "${DRYCPU[$bin]}")" -v ic="$(median "${IMPCPU[$bin]}")" \
            'BEGIN {printf "| %s | %.2f (%.2f) | %.2f (%.2f) | %.2f | %.2f s | %.2f / %.2f | %.0f / %.0f |\n", b, d, dm, i, im, i / d, i - d, dc, ic, dk / 1024, ik / 1024}'
    done
} | tee -a "$LOG"
