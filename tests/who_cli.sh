#!/bin/bash
# who_cli.sh - `looplive replay --who-wrote` names the function and source
# line of a planted write (hardware breakpoints, and the page tracking that
# stands in where the kernel refuses them), says when there is no line, and
# refuses bad targets and frames in one line; `looplive replay --dir` checks
# a regression set and names the recording whose hashes are stale.
set -u
BUILD=${BUILD:-build}
LL=$BUILD/looplive
APP=$BUILD/tests/who/app.so
NOG=$BUILD/tests/who/app_nog.so
BOUNCE=$BUILD/examples/bounce.so
DEMO=examples/bounce/demo.llrec
T=$(mktemp -d /tmp/looplive-who-XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0

. tests/lib/expect.sh

# The planted write: frame 120, plant_score, the line marked PLANTED.
LINE=$(grep -n 'PLANTED \*/' tests/who/app.c | cut -d: -f1)
printf '200\n' >"$T/s"
$LL replay --module $APP --script "$T/s" --output "$T/w.llrec" -q || { echo "FAIL: recording"; fails=$((fails + 1)); }

for how in auto page; do
    if [ $how = page ]; then export LOOPLIVE_WATCH=page; else unset LOOPLIVE_WATCH; fi
    expect 0 "last changed by frame 120, 07 00 00 00 -> 2a 00 00 00" \
        $LL replay --module $APP --recording "$T/w.llrec" --who-wrote world+0x10:4 --frame 150
    expect 0 "write 1: plant_score (tests/who/app.c:$LINE) in " \
        $LL replay --module $APP --recording "$T/w.llrec" --who-wrote world+0x10:4 --frame 150
    grep -q "in .*/$APP: 07 00 00 00 -> 2a 00 00 00$" "$T/out" || { echo "FAIL ($how): object or bytes"; cat "$T/out"; fails=$((fails + 1)); }
    # Only the planted write: the frame's other writes to the same page are
    # not the range's (page tracking must tell them apart).
    grep -q "wrote them 1 time" "$T/out" || { echo "FAIL ($how): not exactly one write"; cat "$T/out"; fails=$((fails + 1)); }
done
# The forced fallback says so in one line, and which mechanism ran.
grep -q "watched by page" "$T/out" || { echo "FAIL: LOOPLIVE_WATCH=page did not track the page"; fails=$((fails + 1)); }
expect 0 "note: LOOPLIVE_WATCH=page asks for page tracking; watching the page instead" \
    $LL replay --module $APP --recording "$T/w.llrec" --who-wrote world+0x10:4 --frame 150
[ "$(wc -l <"$T/err")" = 1 ] || { echo "FAIL: the fallback note is not one line"; cat "$T/err"; fails=$((fails + 1)); }
unset LOOPLIVE_WATCH

# Where the kernel refuses breakpoints (here seccomp, as a container's
# profile does): one line says why, and page tracking answers the same.
expect 0 "write 1: plant_score (tests/who/app.c:$LINE) in " \
    $BUILD/tests/who/noperf $LL replay --module $APP --recording "$T/w.llrec" --who-wrote world+0x10:4 --frame 150
grep -q "watched by page" "$T/out" || { echo "FAIL: no page tracking under seccomp"; cat "$T/out"; fails=$((fails + 1)); }
grep -q "^looplive: note: the kernel refused a hardware write breakpoint: perf_event_open: Permission denied (perf_event_paranoid [-0-9]*); watching the page instead" "$T/err" ||
    { echo "FAIL: the refusal is not said in one line"; cat "$T/err"; fails=$((fails + 1)); }
[ "$(wc -l <"$T/err")" = 1 ] || { echo "FAIL: the refusal is not one line"; cat "$T/err"; fails=$((fails + 1)); }

# Breakpoints where the kernel gives them; else the fallback names why.
$LL replay --module $APP --recording "$T/w.llrec" --who-wrote world+0x10:4 --frame 150 >"$T/out" 2>"$T/err"
if grep -q "watched by page" "$T/out"; then
    grep -q "the kernel refused a hardware write breakpoint: perf_event_open: " "$T/err" ||
        { echo "FAIL: fallback without a reason"; cat "$T/err"; fails=$((fails + 1)); }
fi

# Before the planted frame the value was never changed by a frame; after
# it, the last change is still frame 120 (a value unchanged since stays
# so); a counter written every frame was changed by the frame asked.
expect 0 "no frame from 0 to 100 changed them" \
    $LL replay --module $APP --recording "$T/w.llrec" --who-wrote world+0x10:4 --frame 100
expect 0 "last changed by frame 120" \
    $LL replay --module $APP --recording "$T/w.llrec" --who-wrote world+16:4
expect 0 "last changed by frame 77" \
    $LL replay --module $APP --recording "$T/w.llrec" --who-wrote world+8:4 --frame 77
# An 8-byte value, a 2-byte piece of it, and the same bytes by address and
# from the block's base.
expect 0 "last changed by frame 149" \
    $LL replay --module $APP --recording "$T/w.llrec" --who-wrote world+0x14:2 --frame 170
$LL replay --module $APP --recording "$T/w.llrec" --who-wrote world+0x10:4 --frame 150 >"$T/o1"
ADDR=$(sed -n 's/^4 bytes at \(0x[0-9a-f]*\) .*/\1/p' "$T/o1")
expect 0 "plant_score (tests/who/app.c:$LINE)" \
    $LL replay --module $APP --recording "$T/w.llrec" --who-wrote "$ADDR:4" --frame 150
OFF=$(sed -n 's/^4 bytes at 0x[0-9a-f]* (block+\(0x[0-9a-f]*\)).*/\1/p' "$T/o1")
expect 0 "last changed by frame 120" \
    $LL replay --module $APP --recording "$T/w.llrec" --who-wrote "block+$OFF:4" --frame 150

# Without -g: the function and offset, and why there is no line.
expect 0 "write 1: plant_score+0x" \
    $LL replay --module $NOG --recording "$T/w.llrec" --who-wrote world+0x10:4 --frame 150
expect 0 "no source line: no DWARF line for it (try: build it with -g)" \
    $LL replay --module $NOG --recording "$T/w.llrec" --who-wrote world+0x10:4 --frame 150

# Bad targets, offsets and frames: one line each.
W="$LL replay --module $APP --recording $T/w.llrec"
expect 1 "--who-wrote nosuch+0x10: the recording's block has no arena \"nosuch\" (arenas: \"world\") (try: one of them, or block+OFFSET)" \
    $W --who-wrote nosuch+0x10
expect 1 "--who-wrote world+0x10000: offset 0x10000 is past the end of arena \"world\" (0x10000 bytes) (try: an offset below 0x10000)" \
    $W --who-wrote world+0x10000
expect 1 "--who-wrote block+0x100000: offset 0x100000 is past the block's 0x100000 bytes" \
    $W --who-wrote block+0x100000
expect 1 "--who-wrote 0x10: 0x10 is outside the recording's block" $W --who-wrote 0x10
expect 2 "bad --who-wrote 'world+zz': offset 'zz' is not a number (try: world+0x10:4)" $W --who-wrote world+zz
expect 2 "bad --who-wrote 'world+0:x': length 'x' is not a number" $W --who-wrote world+0:x
expect 2 "bad --who-wrote 'world+0:65': length 65 (try: 1 to 64 bytes)" $W --who-wrote world+0:65
expect 2 "bad --who-wrote 'world+0:0': length 0 (try: 1 to 64 bytes)" $W --who-wrote world+0:0
expect 2 "bad --who-wrote 'nowhere': address 'nowhere' is not a number" $W --who-wrote nowhere
expect 2 "bad --who-wrote: longer than 255 characters" $W --who-wrote "$(printf 'w%.0s' $(seq 300))+0"
expect 1 "--frame 200: $T/w.llrec has 200 frames (try: --frame 0 to 199)" $W --who-wrote world+0x10 --frame 200
expect 2 "bad --frame 'x': not a frame number (try: --frame 0)" $W --who-wrote world+0x10 --frame x
expect 2 "bad --frame '-1': not a frame number" $W --who-wrote world+0x10 --frame -1
expect 2 "--frame goes with --who-wrote TARGET" $W --frame 3
expect 2 "--who-wrote goes with --recording FILE alone" $W --who-wrote world+0 --determinism
expect 2 "--who-wrote needs --recording FILE" $LL replay --module $APP --who-wrote world+0

# --dir: three recordings, one with stale hashes: exit 1 naming it.
mkdir "$T/set"
for n in a b c; do cp $DEMO "$T/set/$n.llrec"; cp examples/bounce/demo.hashes "$T/set/$n.hashes"; done
expect 0 "3 recordings: all match" $LL replay --module $BOUNCE --dir "$T/set" --jobs 2
grep -q "^b.llrec: 600 frames match $T/set/b.hashes$" "$T/out" || { echo "FAIL: --dir line"; cat "$T/out"; fails=$((fails + 1)); }
sed -i '211s/ .*/ 0123456789abcdef/' "$T/set/b.hashes"
expect 1 "b.llrec: FAILED: frame 210 differs: hash" $LL replay --module $BOUNCE --dir "$T/set" --jobs 3
expect 1 "3 recordings: 2 match, 1 differ or fail: b.llrec" $LL replay --module $BOUNCE --dir "$T/set" --jobs 1
[ "$(grep -c 'frames match' "$T/out")" = 2 ] || { echo "FAIL: --dir did not check the others"; cat "$T/out"; fails=$((fails + 1)); }
# Bad input.
rm "$T/set/c.hashes"
expect 1 "$T/set/c.llrec has no hashes to check against: $T/set/c.hashes: No such file or directory (try: looplive replay --module LIB --recording $T/set/c.llrec --hashes $T/set/c.hashes)" \
    $LL replay --module $BOUNCE --dir "$T/set"
mkdir "$T/empty"
expect 1 "no recordings in $T/empty: no NAME.llrec files" $LL replay --module $BOUNCE --dir "$T/empty"
expect 1 "cannot read --dir $T/none: No such file or directory" $LL replay --module $BOUNCE --dir "$T/none"
expect 2 "bad --jobs '0': want 1 to 64" $LL replay --module $BOUNCE --dir "$T/set" --jobs 0
expect 2 "--jobs goes with --dir DIR" $LL replay --module $BOUNCE --recording $DEMO --jobs 2
expect 2 "--dir DIR checks every recording in DIR against its hashes: it takes no other mode" \
    $LL replay --module $BOUNCE --dir "$T/set" --recording $DEMO

[ $fails = 0 ] && echo "who_cli: all passed"
exit $fails
