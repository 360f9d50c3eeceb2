#!/bin/bash
# forward_cli.sh - code pointers in saved state, through the commands: a
# slot saved by `looplive run` with behaviour pointers in its state is
# loaded by new processes (`looplive replay`), replayed to the same hashes
# with --check, re-pointed by name to another build, and refused, naming
# the symbol and the block offset, by a build that lacks the function; a
# layout change is refused or migrated.
set -u
BUILD=${BUILD:-build}
LL=$BUILD/looplive
B=$BUILD/tests/behave
T=$(mktemp -d /tmp/looplive-forward-cli-XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0

. tests/lib/expect.sh

# Record 20 frames, loop them, save slot 1.
expect 0 "LOOP 1" $LL run ${B}_v1.so --headless --slots "$T" --frames 40 --keys 5:alt+l,25:alt+l,30:alt+s
[ -s "$T/slot1.llrec" ] || { echo "FAIL: no slot file"; fails=$((fails + 1)); }

# Two new processes: the hashes of one are the check of the other.
$LL replay --module ${B}_v1.so --recording "$T/slot1.llrec" >"$T/h" ||
    { echo "FAIL: replay of the slot"; fails=$((fails + 1)); }
expect 0 "20 frames match" $LL replay --module ${B}_v1.so --recording "$T/slot1.llrec" --check "$T/h"
expect 0 "20 frames, each the same when run twice" \
    $LL replay --module ${B}_v1.so --recording "$T/slot1.llrec" --determinism
# Another build of the same layout: the pointers follow the names.
$LL replay -q --module ${B}_v2.so --recording "$T/slot1.llrec" ||
    { echo "FAIL: another build of the same layout"; fails=$((fails + 1)); }
# A build without hop(): refused, naming it and where the state holds it.
expect 1 "cannot re-point the saved state's code pointers to '" \
    $LL replay -q --module ${B}_nohop.so --recording "$T/slot1.llrec"
expect 1 "2 words point where this build has nothing to match: offset 0x28: function 'hop'+0x0, which the build in use lacks; offset 0x48: function 'hop'+0x0" \
    $LL replay -q --module ${B}_nohop.so --recording "$T/slot1.llrec"
# Another layout: refused with both versions and the ways out, or migrated.
expect 1 "recording has layout version 1, the application behave has 2 (try: record it again with this build, or give its ll_app a migrate function)" \
    $LL replay -q --module ${B}_layout2.so --recording "$T/slot1.llrec"
$LL replay -q --module ${B}_migrate.so --recording "$T/slot1.llrec" ||
    { echo "FAIL: a build that migrates the layout"; fails=$((fails + 1)); }
echo "forward_cli: $fails failed"
[ $fails = 0 ]
