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
expect 0 "alt+l          record / loop / stop" --help
expect 0 "alt+space      pause / resume" --help
expect 0 "Key names (--keys and replay scripts): one character, or space, enter, tab," --help
expect 0 "--watch DIR" -h
# The man page's synopsis has run's arguments in --help's order.
synopsis=$(sed -n '/^\.SH SYNOPSIS/,/^\.SH /p' docs/looplive.1 | grep -A2 '^\.B looplive run$' | tr '\n' ' ')
[ "$synopsis" = ".B looplive run .I LIBRARY .RI [ OPTIONS ] " ] || fail "man page synopsis of run: $synopsis"
expect 0 "usage: looplive run LIB [OPTIONS]" --help
expect 2 "looplive: no application library given (try: looplive run build/examples/bounce.so)"
expect 2 "looplive: unknown option '--bogus' (try: looplive run --help)" "$APP" --bogus
expect 2 "looplive: one library only: 'a.so' and 'b.so'" a.so b.so
# A host key from --keys that fails fails the headless run (a script in CI
# must not pass over a save that did not happen).
expect 1 "looplive: 1 host key from --keys failed; the last: no slot directory to save into" \
    "$APP" --headless --frames 5 --keys 2:alt+s
expect 2 "looplive: --fps 'fast' is not a whole number from 1 to 1000 (try: --fps 60)" "$APP" --fps fast
expect 2 "looplive: --fps '0' is not a whole number from 1 to 1000 (try: --fps 60)" "$APP" --fps 0
expect 2 "looplive: --fps '100000' is not a whole number from 1 to 1000 (try: --fps 60)" "$APP" --fps 100000
expect 2 "looplive: --fps needs a value (try: --fps 60)" "$APP" --fps
expect 2 "looplive: --scale needs a value (try: --scale 2)" "$APP" --scale
expect 2 "looplive: --frames '-3' is not a whole number from 1 to " "$APP" --frames -3
expect 2 "looplive: --frames needs a value (try: --frames 600)" "$APP" --headless --frames
expect 2 "looplive: --canvas '80' is not WIDTHxHEIGHT (try: --canvas 320x180)" "$APP" --canvas 80
expect 2 "looplive: --canvas 100000x100000: width and height go from 1 to 8192 (try: --canvas 1920x1080)" \
    "$APP" --canvas 100000x100000
expect 2 "looplive: --canvas 0x10: width and height go from 1 to 8192" "$APP" --canvas 0x10
expect 2 "looplive: --canvas needs a value (try: --canvas 320x180)" "$APP" --canvas
expect 2 "looplive: --size 0: a block needs at least one page (try: --size 64M, or no --size for the application's own block_size)" \
    "$APP" --size 0
expect 2 "looplive: --size 1K is below the page size 4 KiB (try: --size 4K)" "$APP" --size 1K
expect 2 "looplive: --base 0x1 is not a multiple of the page size 4 KiB (try: --base 0x1000, or --base auto)" \
    "$APP" --base 0x1
expect 2 "looplive: --base 0x100000000123 is not a multiple of the page size 4 KiB (try: --base 0x100000000000, or --base auto)" \
    "$APP" --base 0x100000000123
expect 2 "looplive: --base 'nowhere' is not auto, os or an address" "$APP" --base nowhere
expect 2 "looplive: --base needs auto, os or an address (try: --base auto)" "$APP" --base
expect 2 "looplive: --size: size 'big' has no digits" "$APP" --size big
expect 2 "looplive: --platform needs a value (try: looplive run --help)" "$APP" --platform
expect 2 "looplive: --keys needs a value (try: looplive run --help)" "$APP" --keys
# A prefix of an option that takes a value is an unknown option, not a missing value.
expect 2 "looplive: unknown option '--si' (try: looplive run --help)" "$APP" --si
expect 2 "looplive: --screenshot-at N needs a FILE after N (try: --screenshot-at 5 shot.ppm)" "$APP" --screenshot-at 5
expect 2 "looplive: --screenshot-at 2 /nonexistent/x.txt: there is no folder /nonexistent (try: mkdir -p /nonexistent)" \
    "$APP" --headless --frames 5 --screenshot-at 2 /nonexistent/x.txt
expect 2 "looplive: --screenshot-at 20 x.txt: the run stops after frame 5 (try: --screenshot-at 5 x.txt, or --frames 20)" \
    "$APP" --headless --frames 5 --screenshot-at 20 x.txt
expect 2 "looplive: --screenshot-at 601 x.txt: the run stops after frame 600" "$APP" --headless --screenshot-at 601 x.txt
expect 2 "looplive: --screenshot-at '0' is not a whole number from 1 to" "$APP" --screenshot-at 0 x.txt
# A picture that cannot be written when its frame comes fails the run.
W=$(mktemp -d /tmp/ll-host-cli-XXXXXX)
mkdir "$W/adir"
expect 1 "looplive: --screenshot-at 2 $W/adir: no picture was written (cannot write screenshot $W/adir: Is a directory) (try: " \
    "$APP" --headless --frames 5 --screenshot-at 2 "$W/adir"
expect 0 "frames 5," "$APP" --headless --frames 5 --screenshot-at 2 "$W/shot.txt"
[ -s "$W/shot.txt" ] || fail "no screenshot written"
rm -rf "$W"
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

# --build makes a library that is not there yet before the run; a first
# build that fails, or makes no library, stops with what to do.
W=$(mktemp -d /tmp/ll-host-cli-XXXXXX)
mkdir "$W/src" && cp tests/host_app.c "$W/src/app.c"
out=$("$LOOPLIVE" run "$W/app.so" --headless --frames 3 --watch "$W/src" \
    --build "cc -std=gnu11 -shared -fPIC -Iinclude -o $W/app.so $W/src/app.c" 2>&1)
grep -q "is not there yet: building it with: cc " <<<"$out" && grep -q "^frames 3," <<<"$out" ||
    fail "--build did not make the missing library: $out"
expect 1 "looplive: cannot run $W/none.so: the first build failed (exit 3) (try: fix what it says above, or run: exit 3)" \
    "$W/none.so" --headless --frames 3 --watch "$W/src" --build "exit 3"
expect 1 "looplive: cannot run $W/none.so: the build succeeded but made no $W/none.so" \
    "$W/none.so" --headless --frames 3 --watch "$W/src" --build "true"
rm -rf "$W"

# A library named without a directory is the file in the current one.
out=$(cd "$BUILD/tests" && "$OLDPWD/$LOOPLIVE" run host_app.so --headless --frames 3 2>&1)
grep -q "^frames 3," <<<"$out" || fail "run host_app.so from its directory: $out"

# A push that does not fit in an application's arena, with no .err: the
# library prints nothing, the host shows it (here: the report's last error).
ROOT=$PWD WORK=$(mktemp -d /tmp/ll-host-cli-XXXXXX)
mkdir -p "$WORK/src"
cat >"$WORK/src/full.c" <<'C'
#include <looplive.h>
static int init(ll_block *b)
{
    return ll_arena_create(b, "tiny", 4096, NULL) ? 0 : -1;
}
static void update(ll_block *b, const void *in, uint64_t frame, double dt)
{
    (void)in, (void)frame, (void)dt;
    ll_arena_push(ll_block_arena_find(b, "tiny"), 8192);
}
static const ll_app app = {.api_version = LL_APP_API_VERSION, .layout_version = 1, .input_size = 1,
                           .block_size = 1 << 20, .name = "full", .init = init, .update = update};
const ll_app *looplive_app(void) { return &app; }
C
. tests/lib/app_build.sh
if eval "$(app_build_cmd full)" 2>"$WORK/cc.log"; then
    out=$("$LOOPLIVE" run "$WORK/full.so" --headless --frames 2 2>&1)
    grep -qF "last error: arena 'tiny' is full: asked for 8 KiB, 4 KiB available of 4 KiB (try: a larger capacity in ll_arena_create" <<<"$out" ||
        fail "an arena that is full: $out"
else
    fail "building the full-arena application: $(cat "$WORK/cc.log")"
fi
rm -rf "$WORK"

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
