#!/bin/bash
# loop_memory.sh - the leak of issue 11 as a user meets it: `looplive run`
# with a slot holding a recording while the game runs live. The peak RSS
# (GNU time) must not grow with the number of frames: 60,000 frames may
# hold at most 16 MiB more than 10,000 (the old merge held about 400 MiB
# more).
set -u
BUILD=${BUILD:-build}
LL=$BUILD/looplive
BOUNCE=$BUILD/examples/bounce.so
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "loop_memory.sh: skipped: no $TIME (apt-get install time)"; exit 0; }

# Peak RSS in KiB of `looplive run` over $1 frames: slot 1 records frames
# 10-70, plays from 70, goes back to live at 80 and stays held.
peak_kib() {
    local out
    # Under AddressSanitizer freed memory sits in its quarantine (256 MiB by
    # default), which would read as growth: keep it small.
    out=$(ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1" \
        "$TIME" -f 'maxrss %M' "$LL" run "$BOUNCE" --headless --no-overlay --frames "$1" \
        --keys 10:alt+l,70:alt+l,80:alt+l 2>&1 >/dev/null) || { echo "FAIL: run --frames $1: $out" >&2; return 1; }
    echo "$out" | sed -n 's/^maxrss \([0-9]*\)$/\1/p' | tail -n 1
}

short=$(peak_kib 10000) || exit 1
long=$(peak_kib 60000) || exit 1
echo "peak RSS: $short KiB after 10,000 frames, $long KiB after 60,000"
if [ -z "$short" ] || [ -z "$long" ] || [ "$long" -gt $((short + 16384)) ]; then
    echo "FAIL: peak RSS grew from ${short:-?} KiB (10,000 frames) to ${long:-?} KiB (60,000)"
    exit 1
fi
