#!/usr/bin/env bash
# Dry-run benchmark: trakt2discovr against a plain Python script doing the same reading and mapping.
#
#   scripts/bench/run.sh [sizes...]        default: 20000 200000 1000000
#
# Builds the release binary, generates the synthetic official exports into bench-out/ if missing
# (scripts/bench/gen-export.py, seed 1), then for each size runs the tool
# (`import PATH --dry-run --json > /dev/null`) and scripts/bench/baseline.py REPS times each,
# alternating, measuring wall time and peak RSS with /usr/bin/time. The machine is shared: a run
# during which other processes used noticeable CPU (read from /proc/stat) is logged as disturbed,
# and the pairs go on until each side has REPS quiet runs (at most MAX_REPS pairs). Prints a markdown
# table: median (and fastest) wall time of the quiet runs, the highest peak RSS, and the tool/python
# ratios of the medians and of the minima. Every run is logged in bench-out/run-*.log. Before timing,
# it checks once per input that the baseline's counts equal the tool's report (CHECK=0 skips that).
#
# Environment: REPS (default 3), MAX_REPS (default 3 x REPS), ZIP_SIZES (sizes also measured from a
# ZIP, default 200000), SEED (default 1), CHECK (default 1), PYTHON (default python3), SKIP_BUILD=1
# (measure the release binary already in .build, for when another SwiftPM process holds the build
# lock), TOOL_BIN (measure this binary instead, for example an older build to compare with).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT="$ROOT/bench-out"
REPS=${REPS:-3}
MAX_REPS=${MAX_REPS:-$((REPS * 3))}
ZIP_SIZES=${ZIP_SIZES:-200000}
SEED=${SEED:-1}
CHECK=${CHECK:-1}
PYTHON=${PYTHON:-python3}
if [ $# -gt 0 ]; then SIZES=("$@"); else SIZES=(20000 200000 1000000); fi

if [ ! -x /usr/bin/time ]; then
    echo "installing GNU time (/usr/bin/time)" >&2
    apt-get install -y time >/dev/null
fi

mkdir -p "$OUT"
LOG="$OUT/run-$(date -u +%Y%m%dT%H%M%SZ).log"
echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC'), load: $(uptime | sed 's/.*load average: //')" | tee -a "$LOG" >&2

if [ -n "${TOOL_BIN:-}" ]; then
    BUILT="$TOOL_BIN"
else
    if [ "${SKIP_BUILD:-0}" != 1 ]; then
        (cd "$ROOT" && swift build -c release --product trakt2discovr) >&2
    fi
    BUILT="$ROOT/.build/release/trakt2discovr"
fi
# A private copy: other people's builds may replace .build/release during the sitting.
BIN="$OUT/trakt2discovr-bench"
cp "$BUILT" "$BIN"
{
    echo "# binary: $BUILT, built $(date -u -r "$BUILT" '+%Y-%m-%d %H:%M:%S UTC'), sha256 $(sha256sum "$BIN" | cut -c1-16)"
    echo "# source: $(git -C "$ROOT" rev-parse --short HEAD) $(git -C "$ROOT" status --short -- Sources | tr '\n' ' ')"
} | tee -a "$LOG" >&2

# Generates into a temporary folder first, so an interrupted run never leaves a half export behind.
generate() { # size zip|folder -> prints the input path
    local n=$1 form=$2 dir
    if [ "$form" = zip ]; then dir="$OUT/zip-$n"; else dir="$OUT/export-$n"; fi
    if [ ! -d "$dir" ]; then
        rm -rf "$dir.tmp"
        if [ "$form" = zip ]; then
            "$PYTHON" "$ROOT/scripts/bench/gen-export.py" "$n" "$dir.tmp" --zip --seed "$SEED" >&2
        else
            "$PYTHON" "$ROOT/scripts/bench/gen-export.py" "$n" "$dir.tmp" --seed "$SEED" >&2
        fi
        mv "$dir.tmp" "$dir"
    fi
    if [ "$form" = zip ]; then echo "$dir/trakt-export-bench.zip"; else echo "$dir"; fi
}

file_count() {
    if [ -d "$1" ]; then find "$1" -type f | wc -l
    else "$PYTHON" -c 'import sys, zipfile; print(len(zipfile.ZipFile(sys.argv[1]).namelist()))' "$1"; fi
}

# CPU time (s) used by the whole machine so far, steal excluded: user nice system irq softirq.
busy_seconds() { awk -v hz="$(getconf CLK_TCK)" '/^cpu / {printf "%.2f", ($2 + $3 + $4 + $7 + $8) / hz}' /proc/stat; }

# Runs a command once; prints "seconds peak_kb quiet|disturbed". A run counts as disturbed when the
# rest of the machine (other people's builds) used more than 0.1 s + 5 % of its wall time of CPU
# meanwhile: the machine's busy time from /proc/stat minus the run's own user + system time.
measure() { # label input command...
    local label=$1 input=$2; shift 2
    local tf; tf=$(mktemp)
    local b0; b0=$(busy_seconds)
    /usr/bin/time -f "%e %M %U %S" -o "$tf" "$@" > /dev/null
    local b1; b1=$(busy_seconds)
    local e kb u sy; read -r e kb u sy < <(tail -n 1 "$tf"); rm -f "$tf"
    local other; other=$(awk -v b0="$b0" -v b1="$b1" -v u="$u" -v s="$sy" 'BEGIN {o = b1 - b0 - u - s; printf "%.2f", o < 0 ? 0 : o}')
    local flag; flag=$(awk -v o="$other" -v e="$e" 'BEGIN {print (o > 0.1 + 0.05 * e) ? "disturbed" : "quiet"}')
    echo "$label $(basename "$input") wall $e s, peak $kb KB, cpu $u+$sy s, others ${other} s: $flag" | tee -a "$LOG" >&2
    echo "$e $kb $flag"
}

# The counts the tool reports and the baseline prints must be the same.
check_counts() { # input
    local tool base
    tool=$(mktemp); base=$(mktemp)
    "$BIN" import "$1" --dry-run --json > "$tool"
    "$PYTHON" "$ROOT/scripts/bench/baseline.py" "$1" > "$base"
    "$PYTHON" - "$tool" "$base" <<'EOF' | tee -a "$LOG" >&2
import json, sys
tool, base = (json.load(open(p)) for p in sys.argv[1:3])
diffs = [f"{section}.{k}: tool {tool[section][k]} baseline {base[section].get(k)}"
         for section in ("records", "planned", "skipped") for k in tool[section] if tool[section][k] != base[section].get(k)]
print("counts: " + ("identical (planned %d, skipped %d)" % (tool["planned"]["total"], sum(tool["skipped"].values()))
                    if not diffs else "DIFFER: " + "; ".join(diffs)))
EOF
    rm -f "$tool" "$base"
}

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
maxof() { printf '%s\n' "$@" | sort -g | tail -n 1; }

ROWS=()
for n in "${SIZES[@]}"; do
    forms=(folder)
    for z in $ZIP_SIZES; do [ "$z" = "$n" ] && forms+=(zip); done
    for form in "${forms[@]}"; do
        input=$(generate "$n" "$form")
        if [ "$CHECK" = 1 ]; then check_counts "$input"; fi
        # Alternate tool and python until each has REPS quiet runs (at most MAX_REPS pairs); the
        # figures come from the quiet runs, or from all runs (marked *) if too few were quiet.
        tool_s=(); tool_kb=(); py_s=(); py_kb=(); tool_all=(); py_all=(); pairs=0
        while [ "$pairs" -lt "$MAX_REPS" ] && { [ "${#tool_s[@]}" -lt "$REPS" ] || [ "${#py_s[@]}" -lt "$REPS" ]; }; do
            pairs=$((pairs + 1))
            read -r s kb flag < <(measure tool "$input" "$BIN" import "$input" --dry-run --json)
            tool_all+=("$s"); tool_kb+=("$kb")
            if [ "$flag" = quiet ]; then tool_s+=("$s"); fi
            read -r s kb flag < <(measure python "$input" "$PYTHON" "$ROOT/scripts/bench/baseline.py" "$input")
            py_all+=("$s"); py_kb+=("$kb")
            if [ "$flag" = quiet ]; then py_s+=("$s"); fi
        done
        quiet="${#tool_s[@]}/${#py_s[@]} of $pairs"
        mark=""
        if [ "${#tool_s[@]}" -lt "$REPS" ] || [ "${#py_s[@]}" -lt "$REPS" ]; then
            mark="*"; tool_s=("${tool_all[@]}"); py_s=("${py_all[@]}")
        fi
        ts=$(median "${tool_s[@]}"); ps=$(median "${py_s[@]}")
        tmin=$(printf '%s\n' "${tool_s[@]}" | sort -g | head -n 1); pmin=$(printf '%s\n' "${py_s[@]}" | sort -g | head -n 1)
        tm=$(awk -v k="$(maxof "${tool_kb[@]}")" 'BEGIN {printf "%.0f", k / 1024}')
        pm=$(awk -v k="$(maxof "${py_kb[@]}")" 'BEGIN {printf "%.0f", k / 1024}')
        ratio=$(awk -v t="$ts" -v p="$ps" 'BEGIN {printf "%.2f", t / p}')
        ratio_min=$(awk -v t="$tmin" -v p="$pmin" 'BEGIN {printf "%.2f", t / p}')
        ROWS+=("| $n | $form | $(file_count "$input") | $quiet$mark | $ts ($tmin) | $tm | $ps ($pmin) | $pm | $ratio | $ratio_min |")
    done
done

echo "# done $(date -u '+%H:%M:%S UTC'), load: $(uptime | sed 's/.*load average: //')" | tee -a "$LOG" >&2
{
    echo "| plays | input | files | quiet runs tool/python | tool median s (min) | tool peak MB | python median s (min) | python peak MB | ratio of medians | ratio of minima |"
    echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    printf '%s\n' "${ROWS[@]}"
} | tee -a "$LOG"
