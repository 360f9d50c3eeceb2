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

# Pictures of the recording: render reads the heap in the block (a call
# that may not write it), the same pictures every time.
for d in a b; do
    "$BUILD/looplive" replay --module "$APP" --recording "$WORK/rec.llrec" --frames "$WORK/$d" \
        --every 40 >"$WORK/out" 2>&1 || fail "replay --frames: $(cat "$WORK/out")"
done
[ "$(ls "$WORK/a" | wc -l)" = 4 ] || fail "expected 4 pictures: $(ls "$WORK/a")"
diff -r "$WORK/a" "$WORK/b" >/dev/null || fail "the pictures differ between two replays"

# Under `looplive run`: the creatures drawn come from the heap in the block.
"$BUILD/looplive" run "$APP" --headless --frames 30 --canvas 40x4 --keys 5:space:10 \
    --screenshot-at 29 "$WORK/shot.txt" >"$WORK/out" 2>&1 || fail "run: $(cat "$WORK/out")"
grep -qE '[abcdef]' "$WORK/shot.txt" || fail "no creature drawn: $(cat "$WORK/shot.txt")"
# A heap that is full: malloc returns NULL and the host names the arena
# and what to do (here: the report's last error).
ROOT=$PWD
mkdir -p "$WORK/src"
cat >"$WORK/src/full.c" <<'C'
#define LL_COMPAT_HEAP_SIZE (64 << 10)
#include <looplive_compat.h>
#include <looplive_app.h>
#include <errno.h>
#include <stdlib.h>
static void update(ll_block *b, const void *in, uint64_t frame, double dt)
{
    (void)b, (void)in, (void)frame, (void)dt;
    if (malloc(100000) || errno != ENOMEM) abort();
}
static const ll_app app = {.api_version = LL_APP_API_VERSION, .layout_version = 1, .input_size = 1,
                           .block_size = 1 << 20, .name = "full", .update = update};
const ll_app *looplive_app(void) { return &app; }
C
. tests/lib/app_build.sh
eval "$(app_build_cmd full)" 2>"$WORK/cc.log" || fail "building the full-heap application: $(cat "$WORK/cc.log")"
out=$("$BUILD/looplive" run "$WORK/full.so" --headless --frames 2 2>&1)
grep -qF "last error: arena 'll.heap' is full: asked for 97.7 KiB, 56.0 KiB available of 64 KiB (try: a larger block_size in the ll_app, or #define LL_COMPAT_HEAP_SIZE before including looplive_compat.h)" <<<"$out" ||
    fail "a full heap: $out"

# The state's root kept at block->base beside malloc: the heap's arena
# table, put at the block's start by the first malloc, is overwritten by the
# state; the next malloc cannot make a heap, returns NULL, and the fault that
# follows says why in its report.
cat >"$WORK/src/root.c" <<'C'
#include <looplive_compat.h>
#include <looplive_app.h>
#include <stdlib.h>
typedef struct node { struct node *next; int x; } node;
typedef struct state { node *head; } state;
static void update(ll_block *b, const void *in, uint64_t frame, double dt)
{
    state *s = (state *)b->base;
    node *n = malloc(sizeof *n);
    n->x = (int)frame, n->next = s->head, s->head = n;
    (void)in, (void)dt;
}
static const ll_app app = {.api_version = LL_APP_API_VERSION, .layout_version = 1, .input_size = 1,
                           .block_size = 1 << 20, .name = "root", .update = update};
const ll_app *looplive_app(void) { return &app; }
C
eval "$(app_build_cmd root)" 2>"$WORK/cc.log" || fail "building the root application: $(cat "$WORK/cc.log")"
out=$("$BUILD/looplive" run "$WORK/root.so" --headless --frames 3 2>&1)
grep -qF "; before it in this call: cannot create the heap arena 'll.heap': the block has no arena table and its first bytes hold data (try: keep the state in an arena made by ll_arena_create, not at block->base)" <<<"$out" ||
    fail "state at block->base beside malloc: $out"
echo "compat_replay: ok"
