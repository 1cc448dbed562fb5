#!/usr/bin/env bash
# Fuzzes the export reader with libFuzzer: bytes go through the ZIP reader or the JSON parser, the
# classification and decoding of every record kind, planning, the report and every request body, and
# the harness checks the accounting invariants (Sources/ReaderFuzzing). See docs/fuzzing.md.
#
#   scripts/fuzz.sh                      # long run: 3,000,000 inputs (about 30 minutes on one core)
#   scripts/fuzz.sh --runs 20000 --asan  # short run with AddressSanitizer (what CI does)
#   scripts/fuzz.sh --seconds 600 --jobs 2
#   scripts/fuzz.sh --target server      # the second target: everything read from a server (headers,
#                                        # session/device-code answers, JWTs, history pages, error bodies)
#
# Options: --runs N, --seconds S (whichever ends first), --asan (AddressSanitizer too: about 7x
# slower, also finds memory errors in unsafe code), --jobs J (parallel fuzzing processes),
# --out DIR (corpus and crash inputs; default fuzz-out/, kept between runs, not in git),
# --seed N (libFuzzer's random seed, for a repeatable run; default: a new one each run),
# --target reader|server (which harness; default reader; the server one keeps its corpus in DIR/server-corpus).
# Exit status: 0 when nothing was found; 1 when an input crashed, hung, leaked or ran out of memory
# (its file is printed: replay it with `swift run trakt2discovr-fuzz FILE`, fix, then copy it into
# fuzz/regressions/ so the tests keep it fixed).
set -euo pipefail
cd "$(dirname "$0")/.."

runs=3000000
seconds=0
asan=0
jobs=1
out=fuzz-out
seed=0
target=reader
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs="$2"; shift 2 ;;
        --seconds) seconds="$2"; shift 2 ;;
        --asan) asan=1; shift ;;
        --jobs) jobs="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        --seed) seed="$2"; shift 2 ;;
        --target) target="$2"; shift 2 ;;
        -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "fuzz.sh: unknown option $1 (see --help)" >&2; exit 64 ;;
    esac
done

product=trakt2discovr-fuzz
seeds=fuzz/seeds
regressions=fuzz/regressions
dict=(-dict=fuzz/trakt.dict)
corpus=corpus
case "$target" in
    reader) ;;
    server) product=trakt2discovr-server-fuzz; seeds=fuzz/server-seeds; regressions=fuzz/server-regressions; dict=(); corpus=server-corpus ;;
    *) echo "fuzz.sh: --target must be reader or server" >&2; exit 64 ;;
esac

sanitizers=fuzzer
build=.build-fuzz
if [ "$asan" = 1 ]; then sanitizers=fuzzer,address; build=.build-fuzz-asan; fi

echo "fuzz: building $product with -sanitize=$sanitizers in $build"
swift build --build-path "$build" -c release --product "$product" \
    -Xswiftc "-sanitize=$sanitizers" -Xswiftc -DFUZZING
binary="$build/release/$product"

mkdir -p "$out/$corpus" "$out/crashes"
# Seeds: the samples and small extracts of real exports (or server answers), and every input that once crashed.
cp -n "$seeds"/* "$out/$corpus/"
if compgen -G "$regressions/*" > /dev/null; then cp -n "$regressions"/* "$out/$corpus/"; rm -f "$out/$corpus/README.md"; fi
before=$(ls "$out/crashes" | wc -l)

args=(
    "$out/$corpus"
    "${dict[@]}"
    -max_len=16384          # the harness's interesting inputs are small; real pages are read by the tests
    -timeout=10             # an input that takes 10 s is a hang
    -rss_limit_mb=2048
    -malloc_limit_mb=1024   # one allocation over 1 GiB is an unbounded allocation
    -runs="$runs"
    -artifact_prefix="$out/crashes/"
    -print_final_stats=1
)
if [ "$seed" != 0 ]; then args+=(-seed="$seed"); fi
if [ "$seconds" != 0 ]; then args+=(-max_total_time="$seconds"); fi
if [ "$jobs" != 1 ]; then args+=(-jobs="$jobs" -workers="$jobs"); fi

echo "fuzz: $binary ${args[*]}"
status=0
# The Swift runtime's backtracer would take the crash signal before libFuzzer can save the input.
SWIFT_BACKTRACE=enable=no LSAN_OPTIONS="suppressions=$PWD/fuzz/lsan.supp:print_suppressions=0" "$binary" "${args[@]}" || status=$?

after=$(ls "$out/crashes" | wc -l)
if [ "$status" != 0 ] || [ "$after" != "$before" ]; then
    echo "fuzz: FOUND a failing input (status $status); new files in $out/crashes:" >&2
    ls -t "$out/crashes" | head -n $((after - before + 1)) >&2
    echo "replay: swift run $product $out/crashes/<file>; once fixed, copy it to $regressions/" >&2
    exit 1
fi
echo "fuzz: no crash, hang, leak or runaway allocation (corpus: $(ls "$out/$corpus" | wc -l) inputs in $out/$corpus)"
