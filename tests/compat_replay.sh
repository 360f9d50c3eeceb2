#!/bin/bash
# compat_replay.sh - a classic C program (malloc'd lists, strdup, rand
# seeded from time, clock reads) built with -include looplive_compat.h: the
# library calls no malloc, rand or clock of the C library, records under
# `looplive replay --script`, replays to the same hashes and passes
# --determinism, and runs headless under `looplive run` with its heap in the
# block.
set -u
BUILD=${BUILD:-build}
APP=$BUILD/tests/compat/game.so
WORK=$(mktemp -d /tmp/ll-compat-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
fail() {
    echo "compat_replay: FAIL: $*" >&2
    exit 1
}
[ -f "$APP" ] || fail "$APP is not built (try: make build-tests)"

# The renames reached every reference: none is left to the C library's.
undefined=$(nm -D --undefined-only "$APP" | awk '{print $2}' | sed 's/@.*//' |
    grep -xE 'malloc|calloc|realloc|free|strdup|strndup|rand|srand|random|srandom|time|clock|clock_gettime|gettimeofday' || true)
[ -z "$undefined" ] || fail "the library still calls the C library's: $undefined"

printf '20\n10 space\n50\n5 space\n40\n' >"$WORK/script"
"$BUILD/looplive" replay --module "$APP" --script "$WORK/script" --output "$WORK/rec.llrec" -q \
    >"$WORK/out" 2>&1 || fail "recording: $(cat "$WORK/out")"
"$BUILD/looplive" replay --module "$APP" --recording "$WORK/rec.llrec" --hashes "$WORK/hashes" \
    2>"$WORK/err" || fail "replay: $(cat "$WORK/err")"
[ "$(wc -l <"$WORK/hashes")" = 125 ] || fail "expected 125 hashes, got $(wc -l <"$WORK/hashes")"
"$BUILD/looplive" replay --module "$APP" --recording "$WORK/rec.llrec" --check "$WORK/hashes" \
    >"$WORK/out" 2>&1 || fail "--check: $(cat "$WORK/out")"
"$BUILD/looplive" replay --module "$APP" --recording "$WORK/rec.llrec" --determinism -q \
    >"$WORK/out" 2>&1 || fail "--determinism: $(cat "$WORK/out")"
grep -q "each the same when run twice" "$WORK/out" || fail "--determinism said: $(cat "$WORK/out")"

# Under `looplive run`: the creatures drawn come from the heap in the block.
"$BUILD/looplive" run "$APP" --headless --frames 30 --canvas 40x4 --keys 5:space:10 \
    --screenshot-at 29 "$WORK/shot.txt" >"$WORK/out" 2>&1 || fail "run: $(cat "$WORK/out")"
grep -qE '[abcdef]' "$WORK/shot.txt" || fail "no creature drawn: $(cat "$WORK/shot.txt")"
echo "compat_replay: ok"
