# Sourced by the benchmark scripts: start_sandbox BIN DIR [sandbox flags...] starts
# `BIN sandbox --port 0 --quiet --token-out DIR/tok ...` in the background, waits (up to 10 s) until it
# prints its URL and has written the token, and sets SANDBOX_PID and SANDBOX_URL.
start_sandbox() {
    local bin=$1 dir=$2
    shift 2
    "$bin" sandbox --port 0 --quiet --token-out "$dir/tok" "$@" > "$dir/sandbox.out" 2>&1 &
    SANDBOX_PID=$!
    SANDBOX_URL=""
    for _ in $(seq 100); do
        SANDBOX_URL=$(grep -o 'http://[0-9.:]*' "$dir/sandbox.out" | head -n 1 || true)
        [ -n "$SANDBOX_URL" ] && [ -s "$dir/tok" ] && return 0
        sleep 0.1
    done
}
