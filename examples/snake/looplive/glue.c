/* glue.c - snake under `looplive run`: main.c's loop as the ll_app entry points. */
#include <ncurses.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../snake.h"

static int init(ll_block *block)
{
    srand((unsigned)time(NULL));
    screen_init();
    game_start();
    return 0;
}

/* The input is the frame's typed keys (ll_text_keys): recorded, so replays are exact. */
static void update(ll_block *block, const void *keys, uint64_t frame, double dt)
{
    ll_curses_keys_set(keys); /* what getch returns */
    for (int ch; (ch = getch()) != ERR;) handle_key(ch);
    game_step();
}

static void render(const ll_block *block, ll_canvas *canvas)
{
    screen_draw();
}

static const char *quit_message(const ll_block *block)
{
    static char msg[64];
    snprintf(msg, sizeof msg, "snake: score %d, best %d", score, best);
    return quit ? msg : NULL;
}

// clang-format off
static const ll_app app = {.api_version = LL_APP_API_VERSION, .name = "snake", .layout_version = 1,
    .block_size = 64 << 20, .input_size = sizeof(ll_text_keys), .translate = ll_text_keys_translate,
    .init = init, .update = update, .render = render, .quit = quit_message,
    .tick_hz = 1000 / TICK_MS, .min_width = BOARD_W + 2, .min_height = BOARD_H + 4};
// clang-format on
const ll_app *looplive_app(void)
{
    return &app;
}
