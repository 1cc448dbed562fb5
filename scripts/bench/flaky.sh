#!/bin/bash
# scripts/bench/flaky.sh CONCURRENCY [EXPORT]: one import into a flaky sandbox (limit 200/s, 2 % of
# answers lost, 3 % 5xx in bursts of 2, 1 % answered 8 s late) with --timeout 5, timed; prints the
# sandbox's counts. EXPORT defaults to exp/ (python3 scripts/bench/gen-export.py 20000 exp --seed 3).
# Files go to the current folder. TOOL_BIN picks the binary (default .build/debug/trakt2discovr).
set -u
here=$(cd "$(dirname "$0")/../.." && pwd)
B=${TOOL_BIN:-$here/.build/debug/trakt2discovr}
C=$1
EXPORT=${2:-exp}
rm -f s$C.sqlite*
$B sandbox --port 0 --token-out tok$C --quiet --rate-limit 200 --drop-rate 0.02 --fail-rate 0.03 --fail-burst 2 --slow-rate 0.01 --slow-delay 8 --seed 5 > sb$C.log 2>&1 &
SB=$!
sleep 1.5
URL=$(grep -o 'http://127.0.0.1:[0-9]*' sb$C.log | head -1)
start=$(date +%s.%N)
$B import "$EXPORT" --api-url $URL --token-file tok$C --state s$C.sqlite --timeout 5 --concurrency $C --no-progress > imp$C.out 2> imp$C.err
echo "concurrency $C: rc=$? $(python3 -c "import time;print(round(time.time()-$start,1))") s"
curl -s $URL/_sandbox/stats; echo
kill $SB
