#!/bin/bash
# timeline_cli.sh - `looplive replay --seek`: a bounce recording of 3000
# frames made from a script, replayed whole, then reached frame by frame
# through the timeline (at keyframes, between them, past the ones made so
# far, backwards): every line is the full replay's line; and the errors.
set -u
BUILD=${BUILD:-build}
LL=$BUILD/looplive
BOUNCE=$BUILD/examples/bounce.so
T=$(mktemp -d /tmp/looplive-timeline-cli-XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0

. tests/lib/expect.sh

for i in $(seq 1 25); do printf '40 right\n1 space\n50\n15 left\n14 up\n'; done >"$T/long.script"
$LL replay --quiet --module $BOUNCE --script "$T/long.script" --output "$T/long.llrec" ||
    { echo "FAIL: making the recording"; exit 1; }
$LL replay --module $BOUNCE --recording "$T/long.llrec" >"$T/all" || { echo "FAIL: replay"; exit 1; }
[ "$(wc -l <"$T/all")" = 3000 ] || { echo "FAIL: $(wc -l <"$T/all") frames, not 3000"; exit 1; }

# At a keyframe (59: the state before 60), between, the last frame, then
# backwards and past the keyframes made so far.
frames="59,60,61,1000,2999,0,1,119,2500,2400,1777,2999,3"
$LL replay --module $BOUNCE --recording "$T/long.llrec" --seek $frames >"$T/seek" ||
    { echo "FAIL: --seek"; fails=$((fails + 1)); }
for f in ${frames//,/ }; do sed -n "$((f + 1))p" "$T/all"; done >"$T/want"
cmp -s "$T/seek" "$T/want" || {
    echo "FAIL: --seek lines differ from the full replay's"
    diff "$T/want" "$T/seek" | head
    fails=$((fails + 1))
}

expect 2 "bad --seek 'x': want frame numbers, e.g. --seek 100,5000" \
    $LL replay --module $BOUNCE --recording "$T/long.llrec" --seek x
expect 2 "--seek goes with --recording alone (try: without --check, --determinism, --script and the capture options)" \
    $LL replay --module $BOUNCE --recording "$T/long.llrec" --seek 3 --determinism
expect 1 "cannot seek to frame 3000: $T/long.llrec has 3000 frames (try: 0 to 2999)" \
    $LL replay --module $BOUNCE --recording "$T/long.llrec" --seek 5,3000

[ $fails = 0 ] && echo "timeline_cli: ok (--seek at, between and past keyframes equals the full replay; errors)"
exit $((fails > 0))
