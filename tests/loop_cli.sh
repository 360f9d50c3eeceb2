#!/bin/bash
# loop_cli.sh - `looplive replay`: help, usage errors, printing, --check,
# --determinism, the --script generator, and every bad recording.
set -u
BUILD=${BUILD:-build}
LL=$BUILD/looplive
BOUNCE=$BUILD/examples/bounce.so
DEMO=examples/bounce/demo.llrec
T=$(mktemp -d /tmp/looplive-loop-cli-XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0

. tests/lib/expect.sh

expect 0 "usage: looplive replay --module LIB --recording FILE" $LL replay --help
expect 2 "replay needs --module LIB" $LL replay --recording $DEMO
expect 2 "replay needs one of --recording FILE or --script SCRIPT" $LL replay --module $BOUNCE
expect 2 "--script needs --output FILE" $LL replay --module $BOUNCE --script x
expect 2 "--check and --determinism do not go together" \
    $LL replay --module $BOUNCE --recording $DEMO --check x --determinism
expect 2 "unknown option '--bogus'" $LL replay --bogus
expect 2 "--module needs a value" $LL replay --module
expect 2 "unexpected argument 'extra'" $LL replay --module $BOUNCE --recording $DEMO extra
expect 2 "bad --fps '0'" $LL replay --module $BOUNCE --script x --output y --fps 0
expect 2 "bad --base '12Q': not auto or an address (try: --base auto)" $LL replay --module $BOUNCE --script x --output y --base 12Q
expect 2 "--hashes FILE writes hashes; --check, --determinism and --quiet write none" \
    $LL replay --module $BOUNCE --recording $DEMO --check x --hashes y

# Printing: one "FRAME HASH" line per frame, the same as the committed file.
$LL replay --module $BOUNCE --recording $DEMO >"$T/hashes" || { echo "FAIL: replay"; fails=$((fails + 1)); }
cmp -s "$T/hashes" examples/bounce/demo.hashes || { echo "FAIL: hashes differ from demo.hashes"; fails=$((fails + 1)); }
$LL replay --quiet --module $BOUNCE --recording $DEMO >"$T/out" || { echo "FAIL: --quiet"; fails=$((fails + 1)); }
[ -s "$T/out" ] && { echo "FAIL: --quiet printed"; fails=$((fails + 1)); }

# --check names the first differing frame, and says how to regenerate the
# hashes after a change to the code.
sed '123s/ .*/ 0123456789abcdef/' examples/bounce/demo.hashes >"$T/bad.hashes"
expect 1 "frame 122 differs: hash" $LL replay --module $BOUNCE --recording $DEMO --check "$T/bad.hashes"
expect 1 "(try: after a change to the code, regenerate them: looplive replay --module $BOUNCE --recording $DEMO --hashes $T/bad.hashes; else look for nondeterminism with --determinism)" \
    $LL replay --module $BOUNCE --recording $DEMO --check "$T/bad.hashes"
# ... and that command makes hashes the check accepts.
$LL replay --module $BOUNCE --recording $DEMO --hashes "$T/bad.hashes" >"$T/out" || { echo "FAIL: --hashes"; fails=$((fails + 1)); }
[ -s "$T/out" ] && { echo "FAIL: --hashes FILE also printed hashes"; fails=$((fails + 1)); }
cmp -s "$T/bad.hashes" examples/bounce/demo.hashes || { echo "FAIL: --hashes wrote other hashes"; fails=$((fails + 1)); }
expect 1 "cannot write hashes to /nonexistent/dir/h: No such file or directory" \
    $LL replay --module $BOUNCE --recording $DEMO --hashes /nonexistent/dir/h
expect 1 "cannot write hashes to /dev/full: No space left on device (try: a disk with room)" \
    $LL replay --module $BOUNCE --recording $DEMO --hashes /dev/full

# An application that prints: its output goes to standard error, the
# hashes stay clean on standard output (and in --hashes FILE).
printf '5 right\n5\n' >"$T/p.script"
$LL replay --module $BUILD/tests/loop/app_prints.so --script "$T/p.script" --output "$T/p.llrec" \
    --hashes "$T/p.live" 2>/dev/null || { echo "FAIL: recording app_prints"; fails=$((fails + 1)); }
$LL replay --module $BUILD/tests/loop/app_prints.so --recording "$T/p.llrec" >"$T/p.hashes" 2>"$T/p.err"
grep -q '^app_prints: frame 3$' "$T/p.err" || { echo "FAIL: the application's printf is lost"; fails=$((fails + 1)); }
cmp -s "$T/p.hashes" "$T/p.live" || { echo "FAIL: the application's printf is in the hashes"; head -3 "$T/p.hashes"; fails=$((fails + 1)); }
expect 0 "10 frames match $T/p.hashes" \
    $LL replay --module $BUILD/tests/loop/app_prints.so --recording "$T/p.llrec" --check "$T/p.hashes"

# A scripted recording uses looplive run's base, so run loads it as a slot.
mkdir -p "$T/slots"
$LL replay -q --module $BOUNCE --script examples/bounce/demo.script --output "$T/slots/slot2.llrec" \
    || { echo "FAIL: --script with the default base"; fails=$((fails + 1)); }
expect 0 "| LOOP 2 " $LL run $BOUNCE --headless --frames 10 --slots "$T/slots" --keys 3:alt+2
head -100 examples/bounce/demo.hashes >"$T/short.hashes"
expect 1 "frame 100: $T/short.hashes ends after 100 frames (try: write it again" \
    $LL replay --module $BOUNCE --recording $DEMO --check "$T/short.hashes"
{ cat examples/bounce/demo.hashes; echo "600 0123456789abcdef"; } >"$T/long.hashes"
expect 1 "$T/long.hashes has 601 frames, the recording 600 (try: write it again" \
    $LL replay --module $BOUNCE --recording $DEMO --check "$T/long.hashes"
echo "garbage" >"$T/garbage.hashes"
expect 1 "$T/garbage.hashes:1: expected \"0 HASH\"" \
    $LL replay --module $BOUNCE --recording $DEMO --check "$T/garbage.hashes"
# A line longer than 255 bytes is one line: a long comment is skipped whole,
# a long bad line is one error on its own line number.
{ printf '#%0300d\n' 0; cat examples/bounce/demo.hashes; } >"$T/comment.hashes"
expect 0 "" $LL replay --quiet --module $BOUNCE --recording $DEMO --check "$T/comment.hashes"
{ head -2 examples/bounce/demo.hashes; printf '2 abcdef%300sx\n' ''; } >"$T/longline.hashes"
expect 1 "$T/longline.hashes:3: expected \"2 HASH\"" \
    $LL replay --module $BOUNCE --recording $DEMO --check "$T/longline.hashes"
expect 1 "cannot open $T/none.hashes: No such file or directory (try: " $LL replay --module $BOUNCE --recording $DEMO --check "$T/none.hashes"

# The generator reproduces the committed run: the same hashes live, and its
# recording replays to them. (Not the same bytes: each ball's behaviour
# pointer holds the address the build was loaded at in that process; the
# hash counts it as symbol + offset, and a load re-points it.)
$LL replay --module $BOUNCE --base 0x200000000000 --script examples/bounce/demo.script --output "$T/demo.llrec" >"$T/live.hashes"
cmp -s "$T/live.hashes" examples/bounce/demo.hashes || { echo "FAIL: live hashes differ"; fails=$((fails + 1)); }
$LL replay -q --module $BOUNCE --recording "$T/demo.llrec" --check examples/bounce/demo.hashes >/dev/null ||
    { echo "FAIL: the regenerated recording does not replay to demo.hashes"; fails=$((fails + 1)); }
printf '10 right\n2 bogus-key\n' >"$T/bad.script"
expect 1 "$T/bad.script:2: 'bogus-key' is not a key name (try: one character, or space, enter," \
    $LL replay --module $BOUNCE --script "$T/bad.script" --output "$T/x.llrec"
printf '3\n' >"$T/three.script"
expect 1 "cannot save: cannot create '/nonexistent/dir/x.llrec.tmp." \
    $LL replay -q --module $BOUNCE --script "$T/three.script" --output /nonexistent/dir/x.llrec
expect 1 "cannot replay: block at 0x7ffffffff000 of 1 MiB" \
    $LL replay -q --module $BOUNCE --script "$T/three.script" --output "$T/x.llrec" --base 0x7ffffffff000
expect 1 "cannot open $T/none.script: No such file or directory (try: " $LL replay --module $BOUNCE --script "$T/none.script" --output "$T/x.llrec"

# --determinism: the demo is deterministic; state outside the block is not.
expect 0 "600 frames, each the same when run twice" $LL replay --module $BOUNCE --recording $DEMO --determinism
printf '20\n' >"$T/nd.script"
$LL replay --quiet --module $BUILD/tests/loop/app_nondet.so --script "$T/nd.script" --output "$T/nd.llrec" \
    || { echo "FAIL: recording the nondeterministic app"; fails=$((fails + 1)); }
expect 1 "runs differ at frame 0, byte 0x" \
    $LL replay --module $BUILD/tests/loop/app_nondet.so --recording "$T/nd.llrec" --determinism
grep -qF 'in arena "scratch" at +0x64: 0x01 then 0x02' "$T/err" || { echo "FAIL: arena not named"; cat "$T/err"; fails=$((fails + 1)); }
# A stack address kept in the block is named as one; a byte of stack read
# before it was written: the second run of a frame sees another stack.
for kind in stack_address stack_uninit; do
    $LL replay --quiet --module $BUILD/tests/loop/app_$kind.so --script "$T/nd.script" --output "$T/$kind.llrec" \
        || { echo "FAIL: recording app_$kind"; fails=$((fails + 1)); }
done
expect 1 "determinism check stopped at frame 0: state +0x200 holds 0x" \
    $LL replay --module $BUILD/tests/loop/app_stack_address.so --recording "$T/stack_address.llrec" --determinism
grep -qF 'which points into a stack: keep no address of a local in the state' "$T/err" \
    || { echo "FAIL: stack address not named"; cat "$T/err"; fails=$((fails + 1)); }
expect 1 "runs differ at frame 0, byte 0x" \
    $LL replay --module $BUILD/tests/loop/app_stack_uninit.so --recording "$T/stack_uninit.llrec" --determinism
# A port that keeps the C library's malloc: its state is refused when
# recorded, naming the word (it used to replay to a bare SIGSEGV).
expect 1 "cannot record: state +0x3040 (arena 'state' +0x40) holds 0x" \
    $LL replay --quiet --module $BUILD/tests/loop/heap_heap.so --script "$T/nd.script" --output "$T/heap.llrec"
grep -qF 'which points into the C heap ([heap]): allocate it from the block' "$T/err" \
    || { echo "FAIL: heap pointer not named"; cat "$T/err"; fails=$((fails + 1)); }
[ -e "$T/heap.llrec" ] && { echo "FAIL: a recording was written"; fails=$((fails + 1)); }

# Bad recordings: one line, exit 1.
size=$(stat -c %s $DEMO)
head -c $((size - 10)) $DEMO >"$T/trunc.llrec"
expect 1 "truncated or extended recording" $LL replay --module $BOUNCE --recording "$T/trunc.llrec"
cp $DEMO "$T/corrupt.llrec"
printf '\x55' | dd of="$T/corrupt.llrec" bs=1 seek=200 conv=notrunc status=none
expect 1 "corrupted recording: checksum" $LL replay --module $BOUNCE --recording "$T/corrupt.llrec"
expect 1 "cannot open recording $T/none.llrec: No such file or directory (try: check the path)" $LL replay --module $BOUNCE --recording "$T/none.llrec"
printf 'hello world' >"$T/text.llrec"
mkdir "$T/dir.llrec"
expect 1 "$T/dir.llrec: not a looplive recording: it is not a regular file (try: " $LL replay --module $BOUNCE --recording "$T/dir.llrec"
expect 1 "$T/text.llrec: not a looplive recording (no LLREC magic; try: a file saved by the s key of looplive run" \
    $LL replay --module $BOUNCE --recording "$T/text.llrec"
head -c 11 $DEMO >"$T/short.llrec"
expect 1 "$T/short.llrec: truncated recording: 11 bytes, shorter than its 128-byte header (try: copy the file again)" \
    $LL replay --module $BOUNCE --recording "$T/short.llrec"
expect 1 "recording was made by the application bounce, this is testapp (try: play it with bounce's library)" \
    $LL replay --module $BUILD/tests/loop/app_v1.so --recording $DEMO
expect 1 "host_app_v99.so: looplive_app() returned no table of api version 1 to 3 (try: rebuild" \
    $LL replay --module $BUILD/tests/host_app_v99.so --recording $DEMO
expect 1 "cannot load $T/none.so" $LL replay --module "$T/none.so" --recording $DEMO
[ "$(wc -l <"$T/err")" = 1 ] || { echo "FAIL: error is not one line"; cat "$T/err"; fails=$((fails + 1)); }

# The complete application in include/looplive_app.h compiles, records and
# replays deterministically (the documentation stays true).
awk '/A complete application/,/Rules that make recordings replay/' include/looplive_app.h \
    | sed -n 's/^ \*     //p' >"$T/counter.c"
if ${CC:-cc} -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -shared -fPIC -Iinclude \
    -o "$T/counter.so" "$T/counter.c"; then
    printf '5 right\n3\n2 left r\n' >"$T/counter.script"
    $LL replay -q --module "$T/counter.so" --script "$T/counter.script" --output "$T/counter.llrec" \
        || { echo "FAIL: recording the header's example"; fails=$((fails + 1)); }
    expect 0 "10 frames, each the same when run twice" \
        $LL replay --module "$T/counter.so" --recording "$T/counter.llrec" --determinism
else
    echo "FAIL: the header's example does not compile"; fails=$((fails + 1))
fi

echo "loop_cli: $fails failed"
[ $fails = 0 ]
