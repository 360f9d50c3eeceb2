#!/usr/bin/env bash
# host_tmux.sh - the terminal demo (examples/bounce) in a real terminal
# (tmux): keys record a loop and play it, a constant changed in a copy of
# the source is rebuilt and reloaded into the running loop, a crash injected
# in update is rolled back and named, and Ctrl-C gives the terminal back.
# Works on a copy of the example in a temporary directory: the repository
# is never modified.
set -euo pipefail
BUILD=${BUILD:-build}
ROOT=$(pwd)
LOOPLIVE=$ROOT/$BUILD/looplive
command -v tmux >/dev/null || { echo "host_tmux: tmux is missing (make test installs it)" >&2; exit 1; }
# Leak reports from an ASan build would land in the pane, not in the test.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

WORK=$(mktemp -d /tmp/ll-host-tmux-XXXXXX)
SOCK=ll-host-tmux-$$
FIRST=$SOCK
cleanup() {
    for sock in "$SOCK" "$FIRST-SEGV" "$FIRST-TERM" "$FIRST-TSTP"; do tmux -L "$sock" kill-server 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
cp -r examples/bounce "$WORK/src"
. tests/lib/app_build.sh
# The build runs in the source folder and echoes its command first, as make
# does: that line holds -Werror, and the status line must show the
# compiler's own error instead.
CC_CMD=$(app_build_cmd bounce | sed "s|$WORK/src/bounce.c|bounce.c|")
printf 'cd %s/src\necho "%s"\n%s\n' "$WORK" "$CC_CMD" "$CC_CMD" >"$WORK/build.sh"
BUILD_CMD="sh $WORK/build.sh"
sh -c "$BUILD_CMD" >/dev/null

fail() {
    echo "host_tmux: FAIL: $*" >&2
    echo "--- pane:" >&2
    tmux -L "$SOCK" capture-pane -p -t t >&2 2>/dev/null || true
    exit 1
}
pane() { tmux -L "$SOCK" capture-pane -p -t t; }
status_line() { pane | grep ' fps | ' | tail -1; }
. tests/lib/tmux.sh
# The paddle is the only thing drawn with '=' but the timeline bar, a line
# of bar characters alone.
paddle_width() { pane | grep -v ' fps | ' | grep -Ev '^[-=#!|]+$' | tr -cd '=' | wc -c; }
frame_of() { status_line | sed -E 's/.*\| frame ([0-9]+) \|.*/\1/'; }

# 120 columns: the status line's error (the fault with the version it
# rolled back to, the compiler's first error) is longer than 80.
tmux -L "$SOCK" new-session -d -s t -x 120 -y 24 \
    "bash -c 'trap \"echo INT\" INT; $LOOPLIVE run $WORK/bounce.so --watch $WORK/src --build \"$BUILD_CMD\"; echo EXIT=\$?; stty -a | tr \" \" \"\\n\" | grep -x -- \"-\\?icanon\\|-\\?echo\"; sleep 30'"

wait_for ' fps \| frame [0-9]+ \| LIVE 1 ' 10 || fail "no status line"
[ "$(paddle_width)" = 9 ] || fail "paddle is $(paddle_width) cells wide, expected 9"

# Record about a second, then loop it (the host's keys are Alt+key: M-l).
tmux -L "$SOCK" send-keys -t t M-l
wait_for '\| REC 1 [0-9]+ ' 5 || fail "alt+l did not start recording"
sleep 1
tmux -L "$SOCK" send-keys -t t M-l
wait_for '\| LOOP 1 [0-9]+/[0-9]+ ' 5 || fail "alt+l again did not start the loop"
len=$(status_line | sed -E 's/.*LOOP 1 [0-9]+\/([0-9]+) .*/\1/')
[ "$len" -ge 30 ] || fail "loop of $len frames, expected about 60"

# Wider paddle in the copy of the source: rebuilt, reloaded, and the
# running loop shows it.
sed -i 's/#define BOUNCE_PADDLE         5/#define BOUNCE_PADDLE         10/' "$WORK/src/bounce.h"
grep -q 'BOUNCE_PADDLE         10' "$WORK/src/bounce.h" || fail "could not edit the constant"
wait_for '\| reloads 1( |$)' 20 || fail "no reload after the edit"
wait_for '\| LOOP 1 [0-9]+/[0-9]+ ' 2 || fail "the loop stopped at the reload"
sleep 0.3
[ "$(paddle_width)" = 19 ] || fail "paddle is $(paddle_width) cells wide after the reload, expected 19"

# Each ball keeps its behaviour, fall(), as a function pointer in the state;
# the loop's start state holds the first build's address. Freeze fall() in
# the source: every ball of the loop, those restored at each wrap included,
# runs the new code (the old build forwards to the new one).
# The balls and the paddle; not the trail, whose older part comes back with
# the start state at each wrap (blanked, not removed: a removed dot would
# shift a ball right of it on the same row).
picture() { pane | grep -v ' fps | ' | grep -Ev '^[-=#!|]+$' | sed '/^ *error:\|? keys/d' | tr '.' ' ' | sed 's/ *$//'; }
pic1=$(picture); sleep 0.3; pic2=$(picture)
[ "$pic1" != "$pic2" ] || fail "the balls do not move"
cp "$WORK/src/bounce.c" "$WORK/bounce.c.moving"
sed -i 's/^    b->vy += BOUNCE_GRAVITY;$/    return; \/* frozen *\//' "$WORK/src/bounce.c"
grep -q 'return; /\* frozen' "$WORK/src/bounce.c" || fail "could not freeze fall()"
wait_for '\| reloads 2( |$)' 20 || fail "no reload after freezing fall()"
# Past the loop's wrap, back to the start state, and both pictures within
# one pass (a wrap between them moves the balls back): by the loop's
# position, not by a time, which a loaded machine stretches.
loop_pos() { status_line | sed -nE 's/.*LOOP 1 ([0-9]+)\/[0-9]+ .*/\1/p'; }
wrapped=0 last=$(loop_pos)
for _ in $(seq 100); do
    pos=$(loop_pos)
    [ -n "$pos" ] && [ -n "$last" ] && [ "$pos" -lt "$last" ] && { wrapped=1; break; }
    last=$pos
    sleep 0.1
done
[ $wrapped = 1 ] || fail "the loop did not wrap after freezing fall()"
wait_for '\| LOOP 1 ([2-9]|1[0-9]|2[0-5])/[0-9]+ ' 10 || fail "the loop is not early in a pass"
pic1=$(picture); sleep 0.3; pic2=$(picture)
[ "$pic1" = "$pic2" ] || fail "the balls still move: a pointer ran the old fall(): $(diff <(echo "$pic1") <(echo "$pic2") | head -8 | tr '\n' '~'); $(status_line)"
cp "$WORK/bounce.c.moving" "$WORK/src/bounce.c"
wait_for '\| reloads 3( |$)' 20 || fail "no reload after unfreezing fall()"

# A build that faults in update (cr.h's case): the fault is caught, the
# code rolled back to the last good build, the block to its state before
# the frame, and the loop plays on with the wide paddle.
cp "$WORK/src/bounce.c" "$WORK/bounce.c.good"
sed -i 's/^    const bounce_input \*in = input;$/&\n    bounce_crash();/' "$WORK/src/bounce.c"
grep -q '^    bounce_crash();$' "$WORK/src/bounce.c" || fail "could not plant the fault"
wait_for 'error: SIGSEGV at address 0x0 in bounce_crash\+0x[0-9a-f]+ \(bounce.so version 5\); rolled back to version 4' 20 ||
    fail "the fault in the new build is not named with the version it rolled back to"
status_line | grep -Eq '\| reloads 3( |$)' || fail "a build that faulted counts as a reload"
p1=$(status_line | sed -E 's/.*LOOP 1 ([0-9]+)\/.*/\1/')
sleep 0.3
p2=$(status_line | sed -E 's/.*LOOP 1 ([0-9]+)\/.*/\1/')
[ "$p1" != "$p2" ] || fail "the loop stopped after the fault ($p1 -> $p2)"
[ "$(paddle_width)" = 19 ] || fail "not the last good code after the rollback"
cp "$WORK/bounce.c.good" "$WORK/src/bounce.c"
wait_for '\| reloads 4( |$)' 20 || fail "no reload after removing the fault"

# A build error shows in the status line; the loop goes on.
echo 'this is not C' >>"$WORK/src/bounce.c"
wait_for 'error: build failed \(exit 1\): bounce\.c:[0-9]+:[0-9]+: error: ' 20 ||
    fail "the compiler's first error is not shown"
wait_for '\| LOOP 1 ' 2 || fail "the loop stopped at a build error"
# alt+? shows where the whole output is; the file holds the echoed command too.
tmux -L "$SOCK" send-keys -t t 'M-?'
wait_for "last build's output: /proc/[0-9]+/fd/[0-9]+" 5 || fail "alt+? does not name the build log"
log=$(pane | sed -n "s|.*last build's output: \(/proc/[0-9]*/fd/[0-9]*\).*|\1|p" | head -1)
grep -q -- '-Werror' "$log" && grep -q 'bounce.c:[0-9]*:[0-9]*: error: ' "$log" ||
    fail "the build log $log does not hold the whole output"
tmux -L "$SOCK" send-keys -t t 'M-?'
sed -i '$d' "$WORK/src/bounce.c"
wait_for '\| reloads 5( |$)' 20 || fail "no reload after fixing the build"
status_line >/dev/null
pane | grep -q 'error: build failed' && fail "the build error stays after a good build"

# Crash injection (x, debug build) while live: rolled back, named, and the
# frames go on.
tmux -L "$SOCK" send-keys -t t M-l
wait_for '\| LIVE 1 ' 5 || fail "alt+l did not stop the loop"
tmux -L "$SOCK" send-keys -t t x
wait_for 'error: SIGSEGV at address 0x0 in bounce_crash\+0x' 5 || fail "the crash is not named"
f1=$(frame_of)
sleep 0.5
f2=$(frame_of)
[ "$f2" -gt "$f1" ] || fail "frames stopped after the crash ($f1 -> $f2)"

# Ctrl-C: the process ends by SIGINT and the terminal is restored.
tmux -L "$SOCK" send-keys -t t C-c
wait_for 'EXIT=130' 5 || fail "Ctrl-C did not end looplive with status 130"
wait_for '^icanon$' 2 || fail "terminal left without icanon"
wait_for '^echo$' 2 || fail "terminal left without echo"

# A fault in the host itself (SIGSEGV from outside: not in module code) and
# SIGTERM: the process dies of the signal, and the terminal is restored.
tmux -L "$SOCK" kill-server 2>/dev/null || true
for sig in SEGV TERM; do
    SOCK=$FIRST-$sig # a server of its own: a new one on a dying socket fails
    tmux -L "$SOCK" new-session -d -s t -x 80 -y 24 \
        "bash -c '$LOOPLIVE run $WORK/bounce.so; echo EXIT=\$?; stty -a | tr \" \" \"\\n\" | grep -x -- \"-\\?icanon\\|-\\?echo\"; sleep 30'"
    wait_for ' fps \| frame [0-9]+ ' 10 || fail "SIG$sig: no status line"
    shell=$(tmux -L "$SOCK" display -p -t t '#{pane_pid}')
    pid=$(pgrep -P "$shell" -x looplive) || fail "SIG$sig: no looplive process"
    kill -"$sig" "$pid"
    # 128 + the signal; under AddressSanitizer a SIGSEGV ends in its report
    # and exit status 1 instead.
    want=$([ $sig = SEGV ] && echo '(139|1)' || echo 143)
    wait_for "EXIT=$want\$" 5 || fail "SIG$sig did not end looplive with status $want"
    wait_for '^icanon$' 2 || fail "SIG$sig: terminal left without icanon"
    wait_for '^echo$' 2 || fail "SIG$sig: terminal left without echo"
done

# Ctrl-Z in an interactive shell: the terminal is given back while stopped,
# taken again on fg, and the keys work after it.
SOCK=$FIRST-TSTP
tmux -L "$SOCK" new-session -d -s t -x 80 -y 24 "bash --norc --noprofile -i"
sleep 0.3
tmux -L "$SOCK" send-keys -t t "$LOOPLIVE run $WORK/bounce.so" Enter
wait_for ' fps \| frame [0-9]+ ' 10 || fail "Ctrl-Z: no status line"
tmux -L "$SOCK" send-keys -t t C-z
wait_for 'Stopped' 5 || fail "Ctrl-Z did not stop looplive"
tmux -L "$SOCK" send-keys -t t "stty -a | tr ' ' '\n' | grep -x -- '-\?icanon'" Enter
wait_for '^icanon$' 5 || fail "Ctrl-Z: terminal left without icanon while stopped"
tmux -L "$SOCK" send-keys -t t fg Enter
wait_for ' fps \| frame [0-9]+ ' 5 || fail "fg did not bring the picture back"
tmux -L "$SOCK" send-keys -t t M-q
for i in $(seq 50); do pane | grep -q ' fps | ' || break; sleep 0.1; done
tmux -L "$SOCK" send-keys -t t "echo EXIT=\$?" Enter
wait_for '^EXIT=0$' 5 || fail "alt+q after fg did not quit"
tmux -L "$SOCK" kill-server
echo "host_tmux: ok (record, loop, reload into the loop, behaviour pointers forward, faulting build rolled back, build error, crash key, Ctrl-C, SIGSEGV, SIGTERM, Ctrl-Z)"
