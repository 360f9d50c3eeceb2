#!/usr/bin/env bash
# host_sdl.sh - the SDL2 demo (examples/pong) in a real X window on Xvfb.
# The window's picture after N frames (read back from the window) matches
# the expected picture (the same frame drawn headless); a colour changed in
# a copy of the source is rebuilt and reloaded while a recorded loop plays,
# and the later picture matches the new build's; a crash injected in update
# is rolled back and the run goes on. Works on a copy of the example: the
# repository is never modified.
set -euo pipefail
BUILD=${BUILD:-build}
ROOT=$(pwd)
LOOPLIVE=$ROOT/$BUILD/looplive
for tool in Xvfb xvfb-run xauth; do
    command -v $tool >/dev/null || { echo "host_sdl: $tool is missing (make test installs it)" >&2; exit 1; }
done
# SDL and X11 keep allocations until exit; an ASan build would report them.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

WORK=$(mktemp -d /tmp/ll-host-sdl-XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT
cp -r examples/pong "$WORK/src"
. tests/lib/app_build.sh
BUILD_CMD=$(app_build_cmd pong)
sh -c "$BUILD_CMD"
cp "$WORK/pong.so" "$WORK/pong_old.so"

fail() {
    echo "host_sdl: FAIL: $*" >&2
    [ -f "$WORK/run.log" ] && sed 's/^/  run: /' "$WORK/run.log" >&2
    exit 1
}
has_rgb() { LC_ALL=C grep -qaP "$1" "$2"; }

# x at frame 20 faults in update (rolled back: that frame changes nothing);
# then frames 30..89 are recorded and play in a loop from frame 90 on.
KEYS="20:x,30:alt+l,90:alt+l"
cat >"$WORK/session.sh" <<EOF
set -e
cd "$ROOT"
"$LOOPLIVE" run "$WORK/pong.so" --platform sdl --frames 420 --keys $KEYS \\
    --screenshot-at 60 "$WORK/window_60.ppm" --screenshot-at 400 "$WORK/window_400.ppm" \\
    --watch "$WORK/src" --build "$BUILD_CMD" >"$WORK/run.log" 2>&1 &
pid=\$!
# Once the first picture is taken, change the paddle colour in the copy.
for i in \$(seq 1 200); do [ -s "$WORK/window_60.ppm" ] && break; sleep 0.05; done
sed -i 's/#define PADDLE_COLOR 0xff40c0ff/#define PADDLE_COLOR 0xffff4040/' "$WORK/src/pong.c"
# A capture of the X screen itself, once the new build shows.
for i in \$(seq 1 300); do [ -s "$WORK/window_400.ppm" ] && break; sleep 0.05; done
if command -v import >/dev/null; then import -depth 8 -window root "$WORK/screen.ppm" || true; fi
wait \$pid
EOF
xvfb-run -a -s "-screen 0 800x600x24" bash "$WORK/session.sh" || fail "the SDL run failed"
grep -q 'PADDLE_COLOR 0xffff4040' "$WORK/src/pong.c" || fail "could not edit the colour"
[ -s "$WORK/window_60.ppm" ] || fail "no picture at frame 60"
[ -s "$WORK/window_400.ppm" ] || fail "no picture at frame 400"

# The expected pictures: the same frames drawn headless by the old and by
# the new build, with the same keys (the crash rolled back there too).
"$LOOPLIVE" run "$WORK/pong_old.so" --platform sdl --headless --frames 61 --keys $KEYS \
    --screenshot-at 60 "$WORK/expect_60.ppm" >"$WORK/headless_old.log" || fail "headless run (old)"
"$LOOPLIVE" run "$WORK/pong.so" --platform sdl --headless --frames 401 --keys $KEYS \
    --screenshot-at 400 "$WORK/expect_400.ppm" >"$WORK/headless_new.log" || fail "headless run (new)"
grep -q 'crashes rolled back 1' "$WORK/headless_new.log" || fail "the crash was not rolled back"
# Frame 20's fault has left the overlay by frame 401; the report's last error keeps it.
grep -q '^last error: SIGSEGV (Segmentation fault) at address 0x0 in pong_crash+' "$WORK/headless_new.log" ||
    fail "the fault is not named: $(grep status "$WORK/headless_new.log")"

cmp -s "$WORK/window_60.ppm" "$WORK/expect_60.ppm" || fail "the window at frame 60 differs from the expected picture"
cmp -s "$WORK/window_400.ppm" "$WORK/expect_400.ppm" || fail "the window at frame 400 differs from the new build's picture"
has_rgb '\x40\xc0\xff' "$WORK/window_60.ppm" || fail "no paddle in the old colour at frame 60"
has_rgb '\xff\x40\x40' "$WORK/window_400.ppm" || fail "no paddle in the new colour at frame 400"
if has_rgb '\x40\xc0\xff' "$WORK/window_400.ppm"; then fail "the old colour is still shown at frame 400"; fi
# The ball and the field are the same colours in both.
has_rgb '\xff\xd0\x20' "$WORK/window_400.ppm" || fail "no ball at frame 400"
if [ -s "$WORK/screen.ppm" ]; then
    has_rgb '\xff\x40\x40' "$WORK/screen.ppm" || fail "the X screen does not show the new colour"
fi

# Sound: pong's looplive_audio() beeps when the ball hits a wall (about
# frame 70); SDL's disk driver writes what the device would play.
cat >"$WORK/audio.sh" <<EOF
SDL_AUDIODRIVER=disk SDL_DISKAUDIOFILE="$WORK/audio.raw" \
    "$LOOPLIVE" run "$WORK/pong.so" --platform sdl --audio --frames 120 >"$WORK/audio.log" 2>&1
EOF
timeout 60 xvfb-run -a -s "-screen 0 800x600x24" bash "$WORK/audio.sh" || fail "the --audio run failed: $(cat "$WORK/audio.log")"
[ -s "$WORK/audio.raw" ] || fail "no sound written"
# (Into a file first: grep -q would end od early, and pipefail would count it.)
od -An -td2 -w4 -v "$WORK/audio.raw" >"$WORK/audio.txt"
grep -Eq '^ +3000 +3000$' "$WORK/audio.txt" || fail "no beep in the sound"
grep -Eq '^ +0 +0$' "$WORK/audio.txt" || fail "no silence around the beep"

# Real keyboard input through the X server (XTEST): alt+? shows the keys
# over the picture, alt+q quits long before the frame limit; the window is
# named after the application.
cat >"$WORK/keys.sh" <<EOF
"$LOOPLIVE" run "$WORK/pong.so" --platform sdl --frames 3000 >"$WORK/keys.log" 2>&1 &
pid=\$!
wid=\$(xdotool search --sync --name '^pong - looplive\$' | head -1)
xdotool windowfocus --sync "\$wid" 2>/dev/null || xdotool mousemove --window "\$wid" 20 20
sleep 0.5
xdotool key alt+question
sleep 0.5
import -depth 8 -window root "$WORK/help.ppm"
xdotool key alt+q
wait \$pid
# The mouse: the test application draws a green square under it while the
# left button is held.
"$LOOPLIVE" run "$ROOT/$BUILD/tests/host_app.so" --platform sdl --frames 3000 >"$WORK/mouse.log" 2>&1 &
pid=\$!
wid=\$(xdotool search --sync --name '^host_app - looplive\$' | head -1)
xdotool mousemove --window "\$wid" 300 250
sleep 0.3
import -depth 8 -window root "$WORK/nomouse.ppm"
xdotool mousedown 1
sleep 0.5
import -depth 8 -window root "$WORK/mouse.ppm"
xdotool mouseup 1
xdotool key alt+q
start=\$SECONDS
wait \$pid
echo "exit \$? after \$((SECONDS - start)) s" >"$WORK/keys.exit"
EOF
if command -v xdotool >/dev/null && command -v import >/dev/null; then
    timeout 60 xvfb-run -a -s "-screen 0 800x600x24" bash "$WORK/keys.sh" || fail "the keyboard run failed"
    grep -Eq '^exit 0 after [0-2] s$' "$WORK/keys.exit" || fail "alt+q did not quit: $(cat "$WORK/keys.exit")"
    has_rgb '\xff\xff\x80' "$WORK/help.ppm" || fail "alt+? did not show the keys"
    has_rgb '\x00\xff\x00' "$WORK/mouse.ppm" || fail "the mouse button did not reach the application"
    if has_rgb '\x00\xff\x00' "$WORK/nomouse.ppm"; then fail "green before the button was pressed"; fi
else
    echo "host_sdl: xdotool or import missing: keyboard check skipped (make test installs them)"
fi
# --scale 2 on a 1024x768 screen: 640x360 would make a 1280x778 window;
# the scale comes down so that the window fits, and the run says so.
cat >"$WORK/fit.sh" <<EOF
"$LOOPLIVE" run "$WORK/pong.so" --platform sdl --scale 2 --frames 3000 >"$WORK/fit.log" 2>&1 &
pid=\$!
wid=\$(xdotool search --sync --name '^pong - looplive\$' | head -1)
sleep 0.3
xdotool getwindowgeometry "\$wid" >"$WORK/fit.geometry"
xdotool key alt+q
wait \$pid
EOF
if command -v xdotool >/dev/null; then
    timeout 60 xvfb-run -a -s "-screen 0 1024x768x24" bash "$WORK/fit.sh" || fail "the --scale 2 run failed"
    grep -q 'Geometry: 640x389' "$WORK/fit.geometry" || fail "window not fitted: $(cat "$WORK/fit.geometry")"
    grep -q "looplive: --scale 2 makes a 1280x778 window, more than the 1024x768 screen: scale 1" "$WORK/fit.log" ||
        fail "no word of the scale: $(cat "$WORK/fit.log")"
fi

# --audio with no sound device: silence and a warning, not an exit.
cat >"$WORK/nosound.sh" <<EOF
SDL_AUDIODRIVER=none "$LOOPLIVE" run "$WORK/pong.so" --platform sdl --audio --frames 10 >"$WORK/nosound.log" 2>&1
EOF
timeout 60 xvfb-run -a -s "-screen 0 800x600x24" bash "$WORK/nosound.sh" ||
    fail "--audio without a device ended the run: $(cat "$WORK/nosound.log")"
grep -q "looplive: warning: no sound: cannot open an audio device: " "$WORK/nosound.log" ||
    fail "no warning without a sound device: $(cat "$WORK/nosound.log")"
# Headless, --audio runs the sound code and needs no device.
"$LOOPLIVE" run "$WORK/pong.so" --platform sdl --headless --audio --frames 10 >"$WORK/headless_audio.log" 2>&1 ||
    fail "--audio --headless --platform sdl: $(cat "$WORK/headless_audio.log")"

echo "host_sdl: ok (window matches at frames 60 and 400, reload of a colour into a loop, crash rolled back, sound, keyboard, mouse, window title, scale fitted to the screen, no sound device)"
