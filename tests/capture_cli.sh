#!/bin/bash
# capture_cli.sh - pictures and clips as a user makes them: `looplive
# replay --frames/--video/--check-frames` on the demo recordings (the
# golden frames shipped in examples/*/golden must match), alt+p and alt+v
# through `looplive run --keys` headless, --screenshot-at FILE.png, and
# every bad input: a folder that cannot be written (under a regular file:
# fails for root too), an unknown extension, no ffmpeg, ffmpeg failing, a
# golden image of another size, of another picture, or not a PNG.
set -u
BUILD=${BUILD:-build}
LL=$(pwd)/$BUILD/looplive
PONG=$BUILD/examples/pong.so
BOUNCE=$BUILD/examples/bounce.so
T=$(mktemp -d /tmp/looplive-capture-XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0
. tests/lib/expect.sh
no() {
    echo "FAIL: $*"
    fails=$((fails + 1))
}
PONG_REC=(--module $PONG --recording examples/pong/demo.llrec --platform sdl)
BOUNCE_REC=(--module $BOUNCE --recording examples/bounce/demo.llrec)
frames_of() { ffprobe -v error -count_frames -select_streams v:0 -show_entries \
    stream=nb_read_frames,width,height -of csv=p=0 "$1"; }

# --- the golden frames shipped with the demos ---
expect 0 "3 frames match examples/pong/golden" $LL replay "${PONG_REC[@]}" --check-frames examples/pong/golden
expect 0 "3 frames match examples/bounce/golden" $LL replay "${BOUNCE_REC[@]}" --check-frames examples/bounce/golden
[ -z "$(git status --porcelain examples 2>/dev/null)" ] || no "checking golden frames wrote into examples/"
# The README's pictures are frame 300 as the command makes it.
mkdir "$T/readme_pong" "$T/readme_bounce"
cp docs/img/pong.png "$T/readme_pong/frame-000300.png"
cp docs/img/bounce.png "$T/readme_bounce/frame-000300.png"
expect 0 "1 frame matches" $LL replay "${PONG_REC[@]}" --check-frames "$T/readme_pong" --from 300 --to 300
expect 0 "1 frame matches" $LL replay "${BOUNCE_REC[@]}" --check-frames "$T/readme_bounce" --from 300 --to 300

# --- --frames with --every, --from, --to: exactly the frames chosen ---
expect 0 "4 frames written to $T/f" $LL replay "${PONG_REC[@]}" --frames "$T/f" --from 10 --to 40 --every 10
[ "$(ls "$T/f" | tr '\n' ' ')" = "frame-000010.png frame-000020.png frame-000030.png frame-000040.png " ] ||
    no "--frames wrote: $(ls "$T/f")"
file "$T/f/frame-000010.png" | grep -q "PNG image data, 640 x 360" || no "not a 640x360 PNG: $(file "$T/f/frame-000010.png")"
# Text applications: cells drawn with the font, 6x9 pixels a cell.
expect 0 "1 frame written to $T/b" $LL replay "${BOUNCE_REC[@]}" --frames "$T/b" --from 5 --to 5
file "$T/b/frame-000005.png" | grep -q "PNG image data, 480 x 189" || no "bounce: $(file "$T/b/frame-000005.png")"
# Hashes are printed only when asked for with pictures.
! grep -qE '^[0-9]+ [0-9a-f]{16}$' "$T/out" || no "hashes printed with --frames: $(head -2 "$T/out")"
expect 0 "600 frames written" $LL replay "${BOUNCE_REC[@]}" --frames "$T/b2" --hashes "$T/h"
cmp -s "$T/h" examples/bounce/demo.hashes || no "--hashes with --frames differs from demo.hashes"

# --- the same frame headless, replayed and by alt+p: the same picture ---
# (run counts frames from 1: its frame N is replay's frame N-1.)
mkdir -p "$T/cap"
expect 0 "saved picture $T/cap/frame-000040-v1.png" \
    $LL run $BOUNCE --headless --frames 60 --keys 40:alt+p --capture "$T/cap" --screenshot-at 40 "$T/shot40.png"
cmp -s "$T/cap/frame-000040-v1.png" "$T/shot40.png" || no "alt+p and --screenshot-at 40 differ"
# A host's picture can be a golden frame for replay: the same size by default.
[ "$(file -b "$T/cap/frame-000040-v1.png" | cut -d, -f2)" = "$(file -b "$T/b/frame-000005.png" | cut -d, -f2)" ] ||
    no "alt+p and replay pictures differ in size: $(file -b "$T/cap/frame-000040-v1.png") / $(file -b "$T/b/frame-000005.png")"
expect 0 "saved picture $T/cap/frame-000030-v1.png" \
    $LL run $PONG --platform sdl --headless --frames 60 --keys 30:alt+p --slots "$T/cap"
file "$T/cap/frame-000030-v1.png" | grep -q "640 x 360" || no "pong alt+p: $(file "$T/cap/frame-000030-v1.png")"
# --screenshot-at keeps PPM for .ppm.
$LL run $PONG --platform sdl --headless --frames 3 --screenshot-at 2 "$T/s.ppm" >/dev/null || no "ppm shot"
head -c 2 "$T/s.ppm" | grep -q P6 || no "--screenshot-at .ppm is not PPM"

# --- alt+v: a clip of what is on screen ---
expect 0 "saved clip $T/cap/frame-000010-v1.mp4 (30 frames)" \
    $LL run $PONG --platform sdl --headless --frames 60 --keys 10:alt+v,40:alt+v --capture "$T/cap"
[ "$(frames_of "$T/cap/frame-000010-v1.mp4")" = "640,360,30" ] || no "alt+v clip: $(frames_of "$T/cap/frame-000010-v1.mp4")"
# A clip still being made when the run ends is finished by the close.
$LL run $BOUNCE --headless --frames 30 --keys 10:alt+v --capture "$T/cap" >/dev/null || no "open clip at exit"
[ "$(frames_of "$T/cap/frame-000010-v1.mp4" 2>/dev/null)" != "" ] || no "no clip after a run that ended recording"

# --- --video: mp4, webm, gif at the recording's fps, --scale ---
expect 0 "600 frames written to $T/p.mp4" $LL replay "${PONG_REC[@]}" --video "$T/p.mp4"
[ "$(frames_of "$T/p.mp4")" = "640,360,600" ] || no "mp4: $(frames_of "$T/p.mp4")"
ffprobe -v error -show_entries stream=r_frame_rate -of csv=p=0 "$T/p.mp4" | grep -q '^60/1' || no "mp4 not at 60 fps"
expect 0 "10 frames written to $T/b.webm" $LL replay "${BOUNCE_REC[@]}" --video "$T/b.webm" --to 9 --scale 2
[ "$(frames_of "$T/b.webm")" = "960,378,10" ] || no "webm: $(frames_of "$T/b.webm")"
expect 0 "20 frames written to $T/p.gif" $LL replay "${PONG_REC[@]}" --video "$T/p.gif" --every 30
file "$T/p.gif" | grep -q "GIF image data" || no "gif: $(file "$T/p.gif")"

# --- golden frames that differ ---
mkdir "$T/g"
cp examples/pong/golden/frame-000300.png "$T/g/frame-000060.png"
expect 1 "frame 60 differs from $T/g/frame-000060.png: " $LL replay "${PONG_REC[@]}" --check-frames "$T/g"
grep -qE "pixels in x [0-9]+-[0-9]+, y [0-9]+-[0-9]+, diff in $T/g/frame-000060.diff.png" "$T/err" || no "no count/box: $(cat "$T/err")"
file "$T/g/frame-000060.diff.png" | grep -q "640 x 360" || no "no diff image"
# Beside the written frame when there is one.
expect 1 "diff in $T/w/frame-000060.diff.png" $LL replay "${PONG_REC[@]}" --check-frames "$T/g" --frames "$T/w"
# --tolerance: a copy 2 levels brighter passes at 2, not at 1.
rm -f "$T"/g/*
convert examples/pong/golden/frame-000060.png -channel RGB -fx 'u+2/255' "PNG24:$T/g/frame-000060.png"
expect 1 "frame 60 differs" $LL replay "${PONG_REC[@]}" --check-frames "$T/g" --tolerance 1
expect 0 "1 frame matches $T/g" $LL replay "${PONG_REC[@]}" --check-frames "$T/g" --tolerance 2
# Another size, not a PNG, none at all, no folder.
cp examples/bounce/golden/frame-000060.png "$T/g/frame-000060.png"
expect 1 "frame 60 is 640x360, $T/g/frame-000060.png is 480x189 (try: the --platform and --canvas" \
    $LL replay "${PONG_REC[@]}" --check-frames "$T/g"
echo "not a png" >"$T/g/frame-000060.png"
expect 1 "cannot check frame 60: cannot read picture $T/g/frame-000060.png" $LL replay "${PONG_REC[@]}" --check-frames "$T/g"
rm -f "$T"/g/*
expect 1 "no golden frame in $T/g for the frames replayed (try: write them with --frames $T/g)" \
    $LL replay "${PONG_REC[@]}" --check-frames "$T/g"
expect 1 "--check-frames $T/nothere: no such folder" $LL replay "${PONG_REC[@]}" --check-frames "$T/nothere"
# --from past the recording's end: refused, nothing written (was: "0 frames
# written", exit 0; a clip or golden check blamed the frames or the folder).
expect 1 "--from 600: examples/pong/demo.llrec has 600 frames (try: --from 0 to 599)" \
    $LL replay "${PONG_REC[@]}" --frames "$T/late" --from 600
[ ! -e "$T/late" ] || no "--from past the end made $T/late"
expect 1 "--from 700: examples/pong/demo.llrec has 600 frames" $LL replay "${PONG_REC[@]}" --video "$T/late.mp4" --from 700
expect 1 "--from 650: examples/pong/demo.llrec has 600 frames" \
    $LL replay "${PONG_REC[@]}" --check-frames examples/pong/golden --from 650

# --- folders that cannot be written: under a regular file, for root too ---
: >"$T/file"
expect 1 "--frames $T/file/f: cannot make the folder: Not a directory" $LL replay "${PONG_REC[@]}" --frames "$T/file/f"
expect 1 "--frames $T/file: not a folder" $LL replay "${PONG_REC[@]}" --frames "$T/file"
expect 1 "cannot write video $T/file/p.mp4: $T/file is not a folder that can be written" \
    $LL replay "${PONG_REC[@]}" --video "$T/file/p.mp4"
expect 1 "--capture $T/file: not a directory" $LL run $PONG --headless --frames 2 --capture "$T/file"
expect 1 "no folder to save the picture into (try: --capture DIR)" $LL run $PONG --headless --frames 5 --keys 2:alt+p
expect 1 "no folder to save the clip into (try: --capture DIR)" $LL run $PONG --headless --frames 5 --keys 2:alt+v

# --- clips: unknown extension, no ffmpeg, ffmpeg failing ---
expect 1 "cannot write video $T/p.avi: unknown kind of file (try: a name ending in .mp4, .webm or .gif)" \
    $LL replay "${PONG_REC[@]}" --video "$T/p.avi"
expect 1 "cannot write video $T/q.mp4: ffmpeg is not on PATH (try: apt-get install ffmpeg)" \
    env PATH=/nonexistent $LL replay "${PONG_REC[@]}" --video "$T/q.mp4"
expect 1 "ffmpeg is not on PATH" env PATH=/nonexistent $LL run $PONG --headless --frames 5 --keys 2:alt+v --capture "$T/cap"
mkdir "$T/fake"
printf '#!/bin/sh\necho "Unknown encoder libx264" >&2\nexit 1\n' >"$T/fake/ffmpeg"
chmod +x "$T/fake/ffmpeg"
echo old >"$T/kept.mp4"
expect 1 "cannot write video $T/kept.mp4: ffmpeg stopped: Unknown encoder libx264" \
    env PATH="$T/fake:$PATH" $LL replay "${PONG_REC[@]}" --video "$T/kept.mp4"
[ "$(cat "$T/kept.mp4")" = old ] || no "a failed clip overwrote the file that was there"
ls "$T" | grep -q 'tmp-' && no "a failed clip left a temporary file: $(ls "$T")"

# --- bad usage ---
expect 2 "--every '0' is not a whole number from 1 to" $LL replay "${PONG_REC[@]}" --frames "$T/f" --every 0
expect 2 "--from 9 is after --to 3" $LL replay "${PONG_REC[@]}" --frames "$T/f" --from 9 --to 3
expect 2 "--scale '0' is not a whole number from 1 to 16" $LL replay "${PONG_REC[@]}" --video "$T/x.mp4" --scale 0
expect 2 "--tolerance '256' is not a whole number from 0 to 255" $LL replay "${PONG_REC[@]}" --check-frames "$T/g" --tolerance 256
expect 2 "unknown platform 'x11' (try: --platform terminal or sdl)" $LL replay "${PONG_REC[@]}" --platform x11
expect 2 "--canvas '12' is not WIDTHxHEIGHT" $LL replay "${PONG_REC[@]}" --canvas 12
expect 2 "--frames, --video and --check-frames go with --recording, not with --script" \
    $LL replay --module $PONG --script examples/pong/demo.script --output "$T/x.llrec" --frames "$T/f"
expect 2 "not with --determinism" $LL replay "${PONG_REC[@]}" --determinism --video "$T/x.mp4"

echo "capture_cli: $fails failed"
[ $fails = 0 ]
