#!/bin/bash
# scripts/bench/verify.sh [PLAYS] [RATE]: the time `verify` takes to read back an import of about
# PLAYS plays (default 20000) from a sandbox that allows RATE history requests a second (default 40),
# against the goal (entries / 50) / RATE seconds (issue #20). The import runs unthrottled; the rate
# limit is set for the verify only (POST /_sandbox/rate-limit). Release build by default:
# TOOL_BIN picks the binary. Files go to a temporary folder.
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
B=${TOOL_BIN:-$here/.build/release/trakt2discovr}
N=${1:-20000}
R=${2:-40}
work=$(mktemp -d)
trap 'kill $SB 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"
python3 "$here/scripts/bench/gen-export.py" "$N" exp --seed 3 > /dev/null
$B sandbox --port 0 --token-out tok --quiet > sb.log 2>&1 &
SB=$!
for _ in $(seq 100); do grep -q 'listening on' sb.log 2>/dev/null && break; sleep 0.1; done
URL=$(grep -o 'http://127.0.0.1:[0-9]*' sb.log | head -1)
$B import exp --api-url "$URL" --token-file tok --state s.sqlite --rate 100000 --concurrency 16 --no-progress > imp.out 2> imp.err
curl -s -X POST "$URL/_sandbox/rate-limit?perSecond=$R" > /dev/null
start=$(date +%s.%N)
set +e
$B verify --api-url "$URL" --token-file tok --state s.sqlite --json --no-progress > verify.json 2> verify.err
rc=$?
set -e
end=$(date +%s.%N)
python3 - "$start" "$end" "$rc" "$R" <<'PY'
import json, sys
start, end, rc, rate = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
v = json.load(open("verify.json"))
entries, pages = v["entriesRead"], v["pages"]
goal = entries / 50 / rate
took = end - start
print(f"verify rc={rc}: checked {v['checked']}, present {v['present']}, missing {len(v['missing'])}, "
      f"duplicated {len(v['duplicated'])}, unexpected {v['unexpected']}; {entries} entries in {pages} pages")
print(f"time {took:.2f} s, (entries/50)/R = {goal:.2f} s, ratio {took / goal:.3f} (goal <= 1.2)")
PY
echo "sandbox: $(curl -s "$URL/_sandbox/stats" | python3 -c 'import json,sys; s=json.load(sys.stdin); print("reads", s["reads"], "reads 429", s["readsRateLimited"])')"
