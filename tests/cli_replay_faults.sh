#!/bin/bash
# cli_replay_faults.sh - `looplive replay` with applications that fail
# (tests/faults/replay_app.c): init returns -1, no update function (so no
# recording can start), a crash when a frame is run again (so the
# determinism check stops).
set -u
BUILD=${BUILD:-build}
LL=$BUILD/looplive
T=$(mktemp -d /tmp/looplive-replay-faults-XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0

. tests/lib/expect.sh

printf '3\n' >"$T/three.script"
APP=$BUILD/tests/replay
expect 1 "looplive: $APP""_init_fails.so: init failed: faultapp's init refused the block (it returned -1)" \
    $LL replay -q --module ${APP}_init_fails.so --script "$T/three.script" --output "$T/a.llrec"
expect 1 "looplive: cannot record: application faultapp: api version 2, input size 8, update missing" \
    $LL replay -q --module ${APP}_no_update.so --script "$T/three.script" --output "$T/b.llrec"
# Recording runs each frame once, so it works; the check runs each twice.
$LL replay -q --module ${APP}_rerun_crash.so --script "$T/three.script" --output "$T/c.llrec" ||
    { echo "FAIL: recording with the rerun_crash application"; fails=$((fails + 1)); }
expect 1 "looplive: determinism check stopped at frame 0: SIGSEGV (Segmentation fault) at address 0x10" \
    $LL replay --module ${APP}_rerun_crash.so --recording "$T/c.llrec" --determinism

# Pictures call render, under crash protection: a fault there is named.
$LL replay -q --module ${APP}_render_crash.so --script "$T/three.script" --output "$T/d.llrec" ||
    { echo "FAIL: recording with the render_crash application"; fails=$((fails + 1)); }
expect 1 "looplive: frame 0: render: SIGSEGV (Segmentation fault) at address 0x10" \
    $LL replay --module ${APP}_render_crash.so --recording "$T/d.llrec" --frames "$T/frames"

echo "cli_replay_faults: $fails failed"
[ $fails = 0 ]
