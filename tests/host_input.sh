#!/usr/bin/env bash
# host_input.sh - the one input model, as a user meets it: the README's
# "Your own application" compiled exactly as printed and driven headless
# with arrow keys; `run --keys` and `replay --script` giving the same frames
# for the same keys; in a real terminal (tmux), every key a press (ten
# presses 100 ms apart are ten, for the host's keys and the application's),
# the host's keys on Alt so that plain keys reach the application, and
# --no-overlay giving the canvas every row; --slots checked at start.
set -euo pipefail
BUILD=${BUILD:-build}
ROOT=$(pwd)
LOOPLIVE=$ROOT/$BUILD/looplive
APP=$ROOT/$BUILD/tests/host_app.so
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
WORK=$(mktemp -d /tmp/ll-host-input-XXXXXX)
SOCK=ll-host-input-$$
cleanup() {
    for sock in "$SOCK" "$SOCK-rows"; do tmux -L "$sock" kill-server 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
fail() {
    echo "host_input: FAIL: $*" >&2
    exit 1
}

# --- the README's own application, as printed ----------------------------
# The first indented block after the heading: the C file, then the command.
awk '/^## Your own application/ { on = 1; next }
     on && /^    / { print substr($0, 5); seen = 1; next }
     on && /^$/ { print ""; next }
     on && seen { exit }' README.md >"$WORK/block"
grep -v '^cc ' "$WORK/block" >"$WORK/mine.c"
cmd=$(grep '^cc ' "$WORK/block") || fail "no cc command under 'Your own application' in README.md"
grep -q 'looplive_app' "$WORK/mine.c" || fail "no application code under 'Your own application'"
# Its command, run from the repository with the files in $WORK: the build
# as printed, then the run headless with the right arrow held 10 frames.
build=${cmd%% && *}
run=${cmd#* && }
(cd "$WORK" && ln -s "$ROOT/include" include && mkdir build && ln -s "$LOOPLIVE" build/looplive)
(cd "$WORK" && sh -c "$build") || fail "the README's application does not build: $build"
out=$(cd "$WORK" && sh -c "$run --headless --frames 30 --keys 0:right:10") || fail "$run: $out"
grep -Eq '^  \| {10}@$' <<<"$out" || fail "the @ did not move 10 cells right: $out"
out=$(cd "$WORK" && sh -c "$run --headless --frames 40 --keys 0:right:10,20:left:3,30:right")
grep -Eq '^  \| {8}@$' <<<"$out" || fail "right 10, left 3, right 1 is not 8: $out"
# The same file and command as C++ (c++ -x c++ for cc): it builds, and
# runs the same.
mkdir "$WORK/cxx"
cp "$WORK/mine.c" "$WORK/cxx/"
(cd "$WORK/cxx" && ln -s "$ROOT/include" include && ln -s ../build build)
cxx_build="c++ -x c++ ${build#cc }"
(cd "$WORK/cxx" && sh -c "$cxx_build") || fail "the README's application does not build as C++: $cxx_build"
out=$(cd "$WORK/cxx" && sh -c "$run --headless --frames 30 --keys 0:right:10") || fail "C++: $run: $out"
grep -Eq '^  \| {10}@$' <<<"$out" || fail "built as C++, the @ did not move 10 cells right: $out"

# --- a host of your own, linked as the README says ------------------------
# Its link line for liblooplive.a (after "cc -rdynamic ..."), with the
# library from this build: a host that makes a loop and saves a state.
libs=$(grep -o 'cc -rdynamic \.\.\. [^`]*' README.md | head -n 1 | sed 's/^cc -rdynamic \.\.\. //')
[ -n "$libs" ] || fail "no 'cc -rdynamic ... -llooplive' link line in README.md"
cat >"$WORK/host.c" <<'HOST'
#include <looplive.h>
int main(void)
{
    ll_error err;
    ll_block block;
    if (ll_block_reserve(&block, &err, .size = 1 << 20)) return 1;
    ll_loop *loop = ll_loop_create(&block, &err, .app = 0);
    if (loop) ll_loop_destroy(loop);
    ll_block_release(&block);
    return 0;
}
HOST
mkdir "$WORK/static" && ln -s "$ROOT/$BUILD/liblooplive.a" "$WORK/static/"
. tests/lib/san.sh
# shellcheck disable=SC2086 # the libraries and flags are words
cc -rdynamic $SAN_FLAGS -I"$ROOT/include" -o "$WORK/host" "$WORK/host.c" -L"$WORK/static" $libs \
    2>"$WORK/link.err" || fail "the README's link line '$libs' fails: $(head -n 3 "$WORK/link.err")"

# --- --keys and --script: the same keys, the same frames -----------------
# bounce moves with keys held (right, left) and launches on a press (space,
# up). The script makes a recording; the host records the same keys under
# --keys and saves the slot; the two recordings hash the same, frame for
# frame.
BOUNCE=$ROOT/$BUILD/examples/bounce.so
printf '20\n30 right\n1 space\n10\n15 left up\n24\n' >"$WORK/keys.script"
"$LOOPLIVE" replay --module "$BOUNCE" --script "$WORK/keys.script" --output "$WORK/script.llrec" \
    >"$WORK/script.hashes" || fail "replay --script"
mkdir "$WORK/slots"
"$LOOPLIVE" run "$BOUNCE" --headless --frames 101 --slots "$WORK/slots" \
    --keys 0:alt+l,20:right:30,50:space,61:left:15,61:up:15,100:alt+s >"$WORK/run.out" ||
    fail "run --keys: $(cat "$WORK/run.out")"
grep -q "saved slot 1 to $WORK/slots/slot1.llrec (100 frames)" "$WORK/run.out" ||
    fail "the save is not confirmed: $(cat "$WORK/run.out")"
"$LOOPLIVE" replay --module "$BOUNCE" --recording "$WORK/slots/slot1.llrec" >"$WORK/keys.hashes" ||
    fail "replay of the host's recording"
[ "$(wc -l <"$WORK/script.hashes")" = 100 ] || fail "the script ran $(wc -l <"$WORK/script.hashes") frames"
cmp -s "$WORK/script.hashes" "$WORK/keys.hashes" ||
    fail "--keys and --script differ: $(diff "$WORK/script.hashes" "$WORK/keys.hashes" | head -3)"
# The moves did something: the state changes over the run.
[ "$(cut -d' ' -f2 "$WORK/script.hashes" | sort -u | wc -l)" -gt 50 ] || fail "the keys changed nothing"

# --- --slots and --keys refused at start ---------------------------------
out=$("$LOOPLIVE" run "$APP" --headless --slots /nonexistent 2>&1) && fail "--slots /nonexistent ran"
grep -qF "looplive: cannot run $APP: --slots /nonexistent: No such file or directory (try: mkdir -p /nonexistent)" <<<"$out" ||
    fail "--slots /nonexistent: $out"
out=$("$LOOPLIVE" run "$APP" --headless --keys 10:up:x 2>&1) && fail "--keys 10:up:x ran"
grep -qF "expected FRAME:KEY or FRAME:KEY:FRAMES at '10:up:x'" <<<"$out" || fail "--keys 10:up:x: $out"
out=$("$LOOPLIVE" replay --module "$BOUNCE" --script <(printf '10 right\n3 rihgt\n') \
    --output "$WORK/x.llrec" 2>&1) && fail "a script with a misspelt key ran"
grep -qF ":2: 'rihgt' is not a key name (try: one character, or space, enter," <<<"$out" ||
    fail "misspelt key in a script: $out"

# --- a real terminal -------------------------------------------------------
command -v tmux >/dev/null || fail "tmux is missing (make test installs it)"
pane() { tmux -L "$SOCK" capture-pane -p -t t; }
. tests/lib/tmux.sh
counter() { pane | sed -nE 's/^one counter=([0-9]+) .*/\1/p' | head -1; }
seen() { pane | sed -nE 's/^one counter=.* seen=([0-9]+).*/\1/p' | head -1; }

tmux -L "$SOCK" new-session -d -s t -x 80 -y 24 "$LOOPLIVE run $APP; sleep 30"
wait_for ' fps \| frame [0-9]+ \| LIVE 1 ' 10 || fail "no status line"
wait_for 'alt\+\? keys  alt\+l record/loop' 2 || fail "the hint does not show the Alt keys"
# Pause, then ten steps 100 ms apart: ten frames (a terminal repeats a key,
# it never sends a key-up; the presses must not be merged).
tmux -L "$SOCK" send-keys -t t M-Space
wait_for 'PAUSED' 5 || fail "alt+space did not pause"
sleep 0.3
c0=$(counter)
for i in $(seq 10); do
    tmux -L "$SOCK" send-keys -t t M-.
    sleep 0.1
done
sleep 0.5
c1=$(counter)
[ $((c1 - c0)) = 10 ] || fail "ten alt+. 100 ms apart stepped $((c1 - c0)) frames ($c0 -> $c1)"
# The application's keys: plain letters, ten presses 100 ms apart, ten seen;
# l and s are the application's too (the host's are alt+l, alt+s).
tmux -L "$SOCK" send-keys -t t M-Space
wait_for '\| LIVE 1 \| ' 5 || fail "alt+space did not resume"
s0=$(seen)
for i in $(seq 5); do
    tmux -L "$SOCK" send-keys -t t l
    sleep 0.1
    tmux -L "$SOCK" send-keys -t t s
    sleep 0.1
done
sleep 0.5
s1=$(seen)
[ $((s1 - s0)) = 10 ] || fail "ten letters 100 ms apart reached the application $((s1 - s0)) times"
wait_for '\| LIVE 1 \| ' 1 || fail "l or s acted on the loop"
tmux -L "$SOCK" send-keys -t t M-q
wait_for '^$' 5
tmux -L "$SOCK" kill-server 2>/dev/null || true

# --no-overlay --canvas 80x24 in an 80x24 terminal: all 24 rows are the
# application's. (A server of its own: a new one on a dying socket fails.)
SOCK=$SOCK-rows
tmux -L "$SOCK" new-session -d -s t -x 80 -y 24 \
    "$LOOPLIVE run $APP --no-overlay --canvas 80x24 --frames 20 --screenshot-at 10 $WORK/cells.txt; sleep 30"
for i in $(seq 100); do [ -s "$WORK/cells.txt" ] && break; sleep 0.1; done
[ "$(wc -l <"$WORK/cells.txt")" = 24 ] || fail "the canvas has $(wc -l <"$WORK/cells.txt") rows, not 24"
tmux -L "$SOCK" kill-server 2>/dev/null || true

echo "host_input: ok (README application built as printed, as C and as C++, and moved by arrow keys, a host linked as printed, --keys = --script, every press counted in a terminal, Alt host keys, --no-overlay rows, --slots checked)"
