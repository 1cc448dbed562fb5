#!/usr/bin/env bash
# Output equality of two builds (issue #11: a change to reading or planning must not change a byte):
# runs `import PATH --dry-run --json --items-out I --skipped-out S` with both binaries, on the samples,
# the real-world files (../shared/realworld) and the bench exports that exist, with the default
# options and the other planning options, and compares the report, the items and the skipped CSV.
#
#   scripts/bench/compare-outputs.sh OLD_BIN NEW_BIN [path...]     default paths: see below
#
# Prints one line per case and "identical: N of N"; exits 1 on the first difference.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OLD=$1; NEW=$2; shift 2
if [ $# -gt 0 ]; then
    PATHS=("$@")
else
    PATHS=("$ROOT/samples/official/trakt-export-sample.zip" "$ROOT/samples/legacy" "$ROOT/samples/raw"
           "$ROOT/samples/traktexport/traktexport-sample.json")
    REALWORLD=${REALWORLD:-$ROOT/../shared/realworld}
    [ -d "$REALWORLD" ] || REALWORLD=/work/shared/realworld
    for p in "$REALWORLD"/*; do [ "$(basename "$p")" = README.md ] || PATHS+=("$p"); done
    for p in "$ROOT"/bench-out/export-*; do [ -d "$p" ] && PATHS+=("$p"); done
fi
OPTIONS=("" "--unknown-dates skip" "--unknown-dates keep --latest-only" "--no-playback --media-id-form short")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
n=0; same=0
for p in "${PATHS[@]}"; do
    for opt in "${OPTIONS[@]}"; do
        n=$((n + 1))
        rm -f "$tmp"/*
        for side in old new; do
            bin=$OLD; [ $side = new ] && bin=$NEW
            # shellcheck disable=SC2086
            "$bin" import "$p" --dry-run --json $opt --items-out "$tmp/$side.items" --skipped-out "$tmp/$side.csv" > "$tmp/$side.json" 2> "$tmp/$side.err" || echo "exit $?" >> "$tmp/$side.json"
        done
        for f in json items csv err; do
            [ -e "$tmp/old.$f" ] || [ -e "$tmp/new.$f" ] || continue
            if ! cmp -s "$tmp/old.$f" "$tmp/new.$f"; then
                echo "DIFFERENT ($f): $p $opt"; diff "$tmp/old.$f" "$tmp/new.$f" | head -5; exit 1
            fi
        done
        same=$((same + 1))
        echo "same: $(basename "$p") $opt ($(cat "$tmp/new.items" 2>/dev/null | wc -l) items, $(($(cat "$tmp/new.csv" 2>/dev/null | wc -l) - 1)) skipped)"
    done
done
echo "identical: $same of $n"
