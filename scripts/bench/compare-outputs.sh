#!/usr/bin/env bash
# Output equality of two builds (issue #11: a change to reading or planning must not change a byte):
# runs `import PATH --dry-run --report R --items-out I --skipped-out S` (the human summary on stdout) with both binaries, on the samples,
# the real-world files (../shared/realworld) and the bench exports that exist, with the default
# options and the other planning options, and compares the summary (with its most-skipped titles),
# the report, the items and the skipped CSV.
#
#   scripts/bench/compare-outputs.sh OLD_BIN NEW_BIN [path...]     default paths: see below
#   HISTORY_ONLY=1 scripts/bench/compare-outputs.sh OLD_BIN NEW_BIN   history outputs only (issue #19)
#
# With HISTORY_ONLY=1 (a NEW_BIN that reads ratings, favorites and watchlist against an OLD_BIN that
# did not), the items, the skipped CSV and stderr must still be byte-identical, and the report and the
# summary are compared through scripts/bench/history-view.py: without the report's `lists` key and the
# summary's lists lines, with the files that are (or were, as `ignored`) ratings and lists reduced to
# their names, and the `read` line without its used/ignored split.
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
            # The same output paths for both (the summary names them), moved aside after each run.
            # shellcheck disable=SC2086
            "$bin" import "$p" --dry-run --report "$tmp/out.report" $opt --items-out "$tmp/out.items" --skipped-out "$tmp/out.csv" > "$tmp/$side.json" 2> "$tmp/$side.err" || echo "exit $?" >> "$tmp/$side.json"
            for f in report items csv; do if [ -e "$tmp/out.$f" ]; then mv "$tmp/out.$f" "$tmp/$side.$f"; fi; done
        done
        if [ "${HISTORY_ONLY:-0}" = 1 ]; then
            for side in old new; do
                [ -e "$tmp/$side.json" ] && python3 "$ROOT/scripts/bench/history-view.py" summary "$tmp/$side.json" > "$tmp/$side.json.h" && mv "$tmp/$side.json.h" "$tmp/$side.json"
                [ -e "$tmp/$side.report" ] && python3 "$ROOT/scripts/bench/history-view.py" report "$tmp/$side.report" > "$tmp/$side.report.h" && mv "$tmp/$side.report.h" "$tmp/$side.report"
            done
        fi
        for f in json report items csv err; do
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
