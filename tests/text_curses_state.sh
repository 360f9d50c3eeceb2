#!/bin/bash
# text_curses_state.sh - what an ncurses program sets up once in init
# (init_pair) is state: a replay in another process, which starts from the
# recorded state and calls no init, draws the same colours as the run did
# (issue 15: `looplive replay --frames` drew every pair as pair 0).
set -u
BUILD=${BUILD:-build}
WORK=$(mktemp -d /tmp/ll-curses-state-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
fail() {
    echo "text_curses_state: FAIL: $*" >&2
    exit 1
}
cat >"$WORK/app.c" <<'C'
#define LOOPLIVE_CURSES
#include <looplive_text.h>
static int init(ll_block *b)
{
    (void)b;
    initscr();
    start_color();
    init_pair(1, COLOR_RED, COLOR_BLUE);
    return 0;
}
static void render(const ll_block *b, ll_canvas *c)
{
    (void)b, (void)c;
    erase();
    attron(COLOR_PAIR(1) | A_BOLD);
    mvprintw(1, 1, "colour");
    attroff(COLOR_PAIR(1) | A_BOLD);
}
static void update(ll_block *b, const void *in, uint64_t frame, double dt)
{
    (void)b, (void)in, (void)frame, (void)dt;
}
static const ll_app app = {.api_version = LL_APP_API_VERSION, .name = "pairs", .layout_version = 1,
                           .block_size = 1 << 20, .input_size = 1, .init = init,
                           .update = update, .render = render};
const ll_app *looplive_app(void)
{
    return &app;
}
C
cc -std=gnu11 -Wall -Wextra -Werror -shared -fPIC -Iinclude -o "$WORK/app.so" "$WORK/app.c" \
    2>"$WORK/err" || fail "building: $(head -3 "$WORK/err")"
mkdir -p "$WORK/golden"
"$BUILD/looplive" run "$WORK/app.so" --headless --frames 3 --canvas 20x4 \
    --screenshot-at 2 "$WORK/golden/frame-000002.png" >"$WORK/out" 2>&1 ||
    fail "run: $(tail -3 "$WORK/out")"
printf '3\n' >"$WORK/script"
"$BUILD/looplive" replay --module "$WORK/app.so" --script "$WORK/script" \
    --output "$WORK/rec.llrec" -q >"$WORK/out" 2>&1 || fail "recording: $(cat "$WORK/out")"
"$BUILD/looplive" replay --module "$WORK/app.so" --recording "$WORK/rec.llrec" --canvas 20x4 \
    --check-frames "$WORK/golden" >"$WORK/out" 2>&1 ||
    fail "the replay's picture is not the run's: $(tail -2 "$WORK/out")"
echo "text_curses_state: ok"
