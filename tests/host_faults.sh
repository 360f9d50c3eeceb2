#!/usr/bin/env bash
# host_faults.sh - crash protection through `looplive run`, with an
# application that faults on demand (tests/faults/fault_app.c) and makes its
# arenas after the host opened the module (the host's order):
# - headless: a guard page hit, a call to 0x10, a stack overflow and abort()
#   in a protected call are rolled back and named;
# - a double free that leaves glibc's heap lock taken ends the run in one
#   line (no hang: every run has a 10 s timeout), naming the rescue file,
#   and --resume starts from the last good frame;
# - in a real terminal (tmux): the same double free gives the terminal
#   back; a guard hit outside a protected call (--unprotected) names the
#   arena, gives the terminal back and dies of SIGSEGV.
set -uo pipefail
BUILD=${BUILD:-build}
ROOT=$(pwd)
LL=$ROOT/$BUILD/looplive
APP=$ROOT/$BUILD/tests/fault_app.so
T=$(mktemp -d /tmp/ll-host-faults-XXXXXX)
FIRST=ll-host-faults-$$
SOCK=$FIRST
cleanup() {
    for n in 1 2; do tmux -L "$FIRST-$n" kill-server 2>/dev/null || true; done
    rm -rf "$T"
}
trap cleanup EXIT
fails=0
fail() {
    echo "host_faults: FAIL: $*" >&2
    fails=$((fails + 1))
}
# A sanitizer would report these faults itself before the rollback.
case "${ASAN_OPTIONS:-}${BUILD}" in *asan*) echo "host_faults: skipped under ASan"; exit 0 ;; esac

# run KEY: 30 headless frames with KEY pressed at frame 10.
run() { timeout 10 "$LL" run "$APP" --headless --frames 30 --keys "10:$1" >"$T/out" 2>"$T/err"; }
rolled_back() {
    local key=$1 want=$2
    run "$key"
    local rc=$?
    [ $rc = 0 ] || fail "key $key: exit $rc: $(cat "$T/err")"
    grep -q "crashes rolled back 1" "$T/out" || fail "key $key: no rollback: $(cat "$T/out")"
    grep -Eq -- "$want" "$T/out" || fail "key $key: want /$want/ in: $(grep error: "$T/out")"
    grep -q "counter=29" "$T/out" || fail "key $key: the faulting frame was not undone"
}
rolled_back g "error: SIGSEGV at address 0x[0-9a-f]+ \(guard page hit at 0x[0-9a-f]+: ran past the end of arena 'particles' \(0x[0-9a-f]+-0x[0-9a-f]+\)\) in fault\+0x"
rolled_back n "error: SIGSEGV at address 0x10 in 0x10 \(no code loaded there\), called from fault\+0x"
rolled_back o "error: SIGSEGV at address 0x[0-9a-f]+ \(stack overflow\) in recurse\+0x"
rolled_back a "error: SIGABRT in .*\(libc[^)]*\), called from fault\+0x"

# The double free: one line on stderr, the last good frame saved.
mkdir -p "$T/slots"
timeout 10 "$LL" run "$APP" --headless --frames 60 --keys 20:d --slots "$T/slots" >"$T/out" 2>"$T/err"
rc=$?
[ $rc = 1 ] || fail "double free: exit $rc (want 1; 124 is a hang)"
line=$(grep '^looplive: ' "$T/err")
[ "$(grep -c '^looplive: ' "$T/err")" = 1 ] || fail "double free: not one line: $(cat "$T/err")"
for want in "looplive: cannot continue: SIGABRT (Aborted) in " \
    "called from double_free+0x" "inside libc.so.6" "cannot safely continue" \
    "the last good frame's state is saved to $T/slots/rescue.llsnap (try: looplive run $APP --resume $T/slots/rescue.llsnap)"; do
    grep -qF -- "$want" <<<"$line" || fail "double free: want '$want' in: $line"
done
[ -s "$T/out" ] && fail "double free: stdout is written after the fault: $(cat "$T/out")"
[ -f "$T/slots/rescue.llsnap" ] || fail "double free: no rescue file"

# --resume: the state of frame 20 (counter 20) goes on, in a new process
# where the build loads at another address: the state's code pointer
# (step) is re-pointed through the code map the rescue file carries.
timeout 10 "$LL" run "$APP" --headless --frames 5 --resume "$T/slots/rescue.llsnap" >"$T/out" 2>"$T/err"
rc=$?
[ $rc = 0 ] || fail "--resume: exit $rc: $(cat "$T/err")"
grep -q "counter=25" "$T/out" || fail "--resume: want counter=25 in: $(cat "$T/out")"
timeout 10 "$LL" run "$APP" --headless --frames 5 --resume "$T/none.llsnap" >"$T/out" 2>"$T/err"
rc=$?
[ $rc = 1 ] || fail "--resume of a missing file: exit $rc"
grep -qF "looplive: cannot run $APP: cannot resume from $T/none.llsnap: " "$T/err" ||
    fail "--resume of a missing file: $(cat "$T/err")"
timeout 10 "$LL" run "$APP" --headless --resume >"$T/out" 2>"$T/err"
[ $? = 2 ] && grep -qF -- "--resume needs a value" "$T/err" || fail "--resume without FILE: $(cat "$T/err")"
"$LL" run --help >"$T/help" && grep -qF -- "--resume FILE" "$T/help" || fail "--help does not list --resume"
grep -qF 'resume " FILE' "$ROOT/docs/looplive.1" || fail "the man page does not list --resume"

# abort() in the first call into the build, before the block exists (no
# state to save, no C library probe yet): one line, exit 1.
timeout 10 "$LL" run "$ROOT/$BUILD/tests/fault_app_abort_in_table.so" --headless --frames 5 \
    >"$T/out" 2>"$T/err"
rc=$?
[ $rc = 1 ] || fail "abort in looplive_app: exit $rc"
grep -qF "looplive: cannot run $ROOT/$BUILD/tests/fault_app_abort_in_table.so: SIGABRT (Aborted) in " "$T/err" &&
    grep -qF "called from looplive_app+0x" "$T/err" && grep -qF "cannot safely continue" "$T/err" ||
    fail "abort in looplive_app: $(cat "$T/err")"

# looplive replay: the same fault while a script is recorded ends in one
# line too, without a hang.
printf '5\n1 d\n3\n' >"$T/script"
timeout 10 "$LL" replay --module "$APP" --script "$T/script" --output "$T/s.llrec" \
    --base 0x300000000000 >"$T/out" 2>"$T/err"
rc=$?
[ $rc = 1 ] || fail "replay double free: exit $rc (want 1; 124 is a hang)"
grep -qF "looplive: replay: SIGABRT (Aborted) in " "$T/err" &&
    grep -qF "cannot safely continue" "$T/err" || fail "replay double free: $(cat "$T/err")"

# In a terminal: the terminal comes back whatever kills the run.
command -v tmux >/dev/null || { echo "host_faults: tmux is missing (make test installs it)" >&2; exit 1; }
pane() { tmux -L "$SOCK" capture-pane -p -J -t t 2>/dev/null; }
. tests/lib/tmux.sh
sessions=0
in_terminal() { # ARGS...: run looplive in a tmux server of its own, report status and modes
    sessions=$((sessions + 1))
    SOCK=$FIRST-$sessions # a new server on a dying socket fails
    tmux -L "$SOCK" new-session -d -s t -x 200 -y 30 \
        "bash -c '$LL run $APP $*; echo EXIT=\$?; stty -a | tr \" \" \"\\n\" | grep -x -- \"-\\?icanon\\|-\\?echo\"; sleep 30'"
    wait_for ' fps \| frame [0-9]+ \| LIVE 1 ' 10 || fail "$*: no status line"
}
restored() {
    wait_for '^icanon$' 3 || fail "$1: terminal left without icanon"
    wait_for '^echo$' 2 || fail "$1: terminal left without echo"
}

in_terminal --slots "$T/slots"
tmux -L "$SOCK" send-keys -t t d
wait_for 'EXIT=1' 10 || fail "double free in a terminal: no exit 1 (a hang?)"
wait_for 'looplive: cannot continue: SIGABRT' 2 || fail "double free in a terminal: no message"
restored "double free"

in_terminal --unprotected
tmux -L "$SOCK" send-keys -t t g
wait_for 'EXIT=139' 10 || fail "guard hit outside a protected call: not SIGSEGV"
wait_for "looplive: guard page hit at 0x[0-9a-f]+: ran past the end of arena 'particles'" 2 ||
    fail "guard hit outside a protected call: the arena is not named"
restored "guard hit outside a protected call"

[ $fails = 0 ] || exit 1
echo "host_faults: ok (guard hit, call to 0x10, stack overflow, abort rolled back; double free ends in one line with a rescue file; --resume; terminal restored)"
