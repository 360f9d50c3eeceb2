#!/usr/bin/env bash
# host_cli.sh - `looplive run`: help, usage errors (exit 2, each message
# checked), failures (exit 1), a headless run's report, and `make run`
# without a terminal.
set -uo pipefail
BUILD=${BUILD:-build}
LOOPLIVE=$BUILD/looplive
APP=$BUILD/tests/host_app.so
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
failures=0

fail() {
    echo "host_cli: FAIL: $*" >&2
    failures=$((failures + 1))
}

# expect STATUS TEXT ARGS...: runs looplive run ARGS, checks the exit
# status and that TEXT appears in its output.
expect() {
    local want=$1 text=$2
    shift 2
    local out status
    out=$("$LOOPLIVE" run "$@" 2>&1 </dev/null)
    status=$?
    [ "$status" = "$want" ] || fail "run $*: exit $status, expected $want: $out"
    grep -qF -- "$text" <<<"$out" || fail "run $*: no '$text' in: $out"
}

expect 0 "usage: looplive run LIB [OPTIONS]" --help
expect 0 "alt+l      record / loop / stop" --help
expect 0 "alt+space  pause / resume" --help
expect 0 "Key names (--keys and replay scripts): one character, or space, enter, tab," --help
expect 0 "--watch DIR" -h
expect 2 "looplive: no application library given (try: looplive run build/examples/bounce.so)"
expect 2 "looplive: unknown option '--bogus' (try: looplive run --help)" "$APP" --bogus
expect 2 "looplive: one library only: 'a.so' and 'b.so'" a.so b.so
expect 2 "looplive: --fps 'fast' is not a number from 0 to 1000" "$APP" --fps fast
expect 2 "looplive: --fps must be at least 1" "$APP" --fps 0
expect 2 "looplive: --frames '-3' is not a number" "$APP" --frames -3
expect 2 "looplive: --canvas '80' is not WIDTHxHEIGHT (try: --canvas 320x180)" "$APP" --canvas 80
expect 2 "looplive: --base 'nowhere' is not auto, os or an address" "$APP" --base nowhere
expect 2 "looplive: --base needs auto, os or an address (try: --base auto)" "$APP" --base
expect 2 "looplive: --size: size 'big' has no digits" "$APP" --size big
expect 2 "looplive: --platform needs a value (try: looplive run --help)" "$APP" --platform
expect 2 "looplive: --keys needs a value (try: looplive run --help)" "$APP" --keys
# A prefix of an option that takes a value is an unknown option, not a missing value.
expect 2 "looplive: unknown option '--si' (try: looplive run --help)" "$APP" --si
expect 2 "looplive: --screenshot-at N needs a FILE after N" "$APP" --screenshot-at 5
expect 2 "looplive: at most 4 --screenshot-at per run" "$APP" --screenshot-at 1 a --screenshot-at 2 b \
    --screenshot-at 3 c --screenshot-at 4 d --screenshot-at 5 e
expect 1 "looplive: cannot run /nonexistent.so: cannot load /nonexistent.so" /nonexistent.so --headless
expect 1 "the terminal platform needs a terminal on stdin and stdout (try: --headless" "$APP"
expect 1 "unknown platform 'vga'" "$APP" --platform vga --headless

# A headless run: report, a recorded loop, a crash rolled back, the canvas.
out=$("$LOOPLIVE" run "$APP" --headless --frames 50 --keys 5:c,10:alt+l,20:alt+l --base os 2>&1)
status=$?
[ $status = 0 ] || fail "headless run: exit $status: $out"
grep -q "^frames 50, application frame .*crashes rolled back 1" <<<"$out" || fail "no report: $out"
grep -q "^status: .* LOOP 1 [0-9]*/10 " <<<"$out" || fail "no loop in the report: $out"
grep -q "error: SIGSEGV at address 0x0 in host_app_crash+" <<<"$out" || fail "fault not named: $out"
grep -q "^  |one counter=" <<<"$out" || fail "no last frame: $out"
grep -q "^host time per frame: " <<<"$out" || fail "no timing: $out"

# A library named without a directory is the file in the current one.
out=$(cd "$BUILD/tests" && "$OLDPWD/$LOOPLIVE" run host_app.so --headless --frames 3 2>&1)
grep -q "^frames 3," <<<"$out" || fail "run host_app.so from its directory: $out"

# `make run` without a terminal: a short headless run of bounce.
if [ "$BUILD" = build ] && [ -x "$BUILD/examples/bounce.so" -o -f "$BUILD/examples/bounce.so" ]; then
    out=$(make --no-print-directory run </dev/null 2>&1)
    status=$?
    [ $status = 0 ] || fail "make run: exit $status: $out"
    grep -q "no terminal: a 240-frame headless run of bounce" <<<"$out" || fail "make run: $out"
    grep -q "^status: .* LOOP 1 " <<<"$out" || fail "make run did not loop: $out"
fi

[ $failures = 0 ] && echo "host_cli: ok"
exit $((failures > 0))
