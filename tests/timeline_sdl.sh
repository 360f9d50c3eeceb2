#!/usr/bin/env bash
# timeline_sdl.sh - the timeline bar in a real SDL window on Xvfb: a loop of
# 120 frames is recorded, then a click on the bar goes to the frame under
# it and a drag moves the position; the window's picture shows the
# position's white line where the mouse left it.
set -euo pipefail
BUILD=${BUILD:-build}
ROOT=$(pwd)
LOOPLIVE=$ROOT/$BUILD/looplive
APP=$ROOT/$BUILD/tests/host_app.so
for tool in Xvfb xvfb-run xauth xdotool import; do
    command -v $tool >/dev/null || { echo "timeline_sdl: $tool is missing (make test installs it)" >&2; exit 1; }
done
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
WORK=$(mktemp -d /tmp/ll-timeline-sdl-XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT
fail() {
    echo "timeline_sdl: FAIL: $*" >&2
    [ -f "$WORK/run.log" ] && sed 's/^/  run: /' "$WORK/run.log" >&2
    exit 1
}

# Frames 1..120 recorded, looping from 121 (2 s at 60 fps); then, in the
# 640x360 canvas, the bar's rows are y 360..368: a click at x 160 goes to
# frame 30 of 120; a drag from x 100 to x 480 leaves it at frame 90.
cat >"$WORK/session.sh" <<EOF
"$LOOPLIVE" run "$APP" --platform sdl --frames 100000 --keys 1:alt+l,121:alt+l >"$WORK/run.log" 2>&1 &
pid=\$!
wid=\$(xdotool search --sync --name '^host_app - looplive\$' | head -1)
sleep 3
xdotool mousemove --window "\$wid" 160 364 click 1
sleep 0.5
import -depth 8 -window "\$wid" "$WORK/click.ppm"
xdotool mousemove --window "\$wid" 100 364 mousedown 1
sleep 0.2
xdotool mousemove --window "\$wid" 300 364
sleep 0.2
xdotool mousemove --window "\$wid" 480 364
sleep 0.2
xdotool mouseup 1
sleep 0.5
import -depth 8 -window "\$wid" "$WORK/drag.ppm"
xdotool key alt+q
wait \$pid
# A canvas of cells (80x21, 6x9 pixels each): the bar is the row under it.
"$LOOPLIVE" run "$APP" --platform sdl --cells --frames 100000 --keys 1:alt+l,121:alt+l >"$WORK/run.log" 2>&1 &
pid=\$!
wid=\$(xdotool search --sync --name '^host_app - looplive\$' | head -1)
sleep 3
xdotool mousemove --window "\$wid" 120 193 click 1
sleep 0.5
import -depth 8 -window "\$wid" "$WORK/cells.ppm"
xdotool key alt+q
wait \$pid
EOF
timeout 60 xvfb-run -a -s "-screen 0 800x600x24" bash "$WORK/session.sh" || fail "the SDL run failed"

# The RGB of pixel (x, y) of a binary PPM (header: P6, width height, 255).
pixel() {
    local file=$1 x=$2 y=$3 w hdr
    w=$(head -n 2 "$file" | tail -n 1 | cut -d' ' -f1)
    hdr=$(head -n 3 "$file" | wc -c)
    od -An -tx1 -j $((hdr + (y * w + x) * 3)) -N3 "$file" | tr -d ' \n'
}
white_at() { [ "$(pixel "$1" "$2" "${3:-364}")" = ffffff ]; }

white_at "$WORK/click.ppm" 160 || white_at "$WORK/click.ppm" 161 ||
    fail "after the click the position is not at x 160: $(pixel "$WORK/click.ppm" 160 364)"
if white_at "$WORK/click.ppm" 400; then fail "a position line at x 400 after the click"; fi
white_at "$WORK/drag.ppm" 480 || white_at "$WORK/drag.ppm" 481 ||
    fail "after the drag the position is not at x 480: $(pixel "$WORK/drag.ppm" 480 364)"
if white_at "$WORK/drag.ppm" 160; then fail "the position stayed at x 160 after the drag"; fi
white_at "$WORK/cells.ppm" 120 193 || white_at "$WORK/cells.ppm" 121 193 ||
    fail "cells: after the click the position is not at x 120: $(pixel "$WORK/cells.ppm" 120 193)"
echo "timeline_sdl: ok (a click on the bar goes to the frame under it, a drag moves it; pixels and cells)"
