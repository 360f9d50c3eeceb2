#!/usr/bin/env bash
# capture_sdl.sh - what a window shows and what a headless capture writes
# are the same pixels, on Xvfb: the SDL window's picture (read back from
# the window) at frame 60 is byte for byte the PNG a headless run writes
# for the same frame, for a pixel application (pong) and for a text
# application drawn in cells with the host's font (bounce, --cells); alt+p
# typed into the window (XTEST) saves the picture, and alt+v a clip.
set -euo pipefail
BUILD=${BUILD:-build}
ROOT=$(pwd)
LOOPLIVE=$ROOT/$BUILD/looplive
for tool in Xvfb xvfb-run xauth; do
    command -v $tool >/dev/null || { echo "capture_sdl: $tool is missing (make test installs it)" >&2; exit 1; }
done
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
WORK=$(mktemp -d /tmp/ll-capture-sdl-XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT
mkdir "$WORK/cap" "$WORK/typed"
fail() {
    echo "capture_sdl: FAIL: $*" >&2
    for f in "$WORK"/*.log; do [ -f "$f" ] && sed "s|^|  $(basename "$f"): |" "$f" >&2; done
    exit 1
}

PONG=(run "$ROOT/$BUILD/examples/pong.so" --platform sdl)
BOUNCE=(run "$ROOT/$BUILD/examples/bounce.so" --canvas 80x22)
cat >"$WORK/session.sh" <<EOF
set -e
"$LOOPLIVE" ${PONG[*]} --frames 70 --screenshot-at 60 "$WORK/pong_window.png" \
    --keys 60:alt+p --capture "$WORK/cap" >"$WORK/pong.log" 2>&1
"$LOOPLIVE" ${BOUNCE[*]} --platform sdl --cells --frames 70 --screenshot-at 60 "$WORK/bounce_window.png" \
    >"$WORK/bounce.log" 2>&1
# Typed: alt+p, then alt+v twice, in a window that runs until alt+q.
"$LOOPLIVE" ${BOUNCE[*]} --platform sdl --cells --frames 3000 --capture "$WORK/typed" >"$WORK/typed.log" 2>&1 &
pid=\$!
wid=\$(xdotool search --sync --name '^bounce - looplive\$' | head -1)
xdotool windowfocus --sync "\$wid" 2>/dev/null || xdotool mousemove --window "\$wid" 20 20
sleep 0.3
xdotool key alt+p
sleep 0.3
xdotool key alt+v
sleep 0.5
xdotool key alt+v
sleep 0.3
xdotool key alt+q
wait \$pid
EOF
timeout 120 xvfb-run -a -s "-screen 0 800x600x24" bash "$WORK/session.sh" || fail "the SDL runs failed"

# The same frames headless: no display, no SDL.
env -u DISPLAY LOOPLIVE_SDL_LIB=/nonexistent "$LOOPLIVE" ${PONG[*]} --headless --frames 61 \
    --screenshot-at 60 "$WORK/pong_headless.png" >"$WORK/pong_headless.log" || fail "headless pong"
env -u DISPLAY LOOPLIVE_SDL_LIB=/nonexistent "$LOOPLIVE" ${BOUNCE[*]} --headless --frames 61 \
    --screenshot-at 60 "$WORK/bounce_headless.png" >"$WORK/bounce_headless.log" || fail "headless bounce"

file "$WORK/pong_window.png" | grep -q "PNG image data, 640 x 360" || fail "pong window: $(file "$WORK/pong_window.png")"
file "$WORK/bounce_window.png" | grep -q "PNG image data, 480 x 198" || fail "bounce window: $(file "$WORK/bounce_window.png")"
cmp -s "$WORK/pong_window.png" "$WORK/pong_headless.png" || fail "pong: the window differs from the headless picture"
cmp -s "$WORK/bounce_window.png" "$WORK/bounce_headless.png" || fail "bounce: the window differs from the headless picture"
cmp -s "$WORK/cap/frame-000060-v1.png" "$WORK/pong_window.png" || fail "alt+p in the window is not the frame's picture"

shots=$(ls "$WORK/typed")
echo "$shots" | grep -Eq '^frame-[0-9]{6}-v1\.png$' || fail "typed alt+p saved no picture: $shots"
echo "$shots" | grep -Eq '^frame-[0-9]{6}-v1\.mp4$' || fail "typed alt+v saved no clip: $shots"
echo "capture_sdl: ok (window = headless for pixels and cells, alt+p and alt+v typed)"
