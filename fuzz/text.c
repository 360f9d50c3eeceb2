/* text.c - text an application draws (looplive_text.h), fed raw bytes:
 * UTF-8 written on a canvas of cells and on one of pixels at offsets that
 * reach past every edge, ncurses' printw through a window, and the bytes
 * as a key name. Nothing may be written outside either canvas: each sits
 * between guard bytes that must come back unchanged. */
#define LOOPLIVE_CURSES /* before looplive.h (in fuzz.h) includes looplive_text.h */
#include "fuzz.h"

enum { W = 13, H = 5, GUARD = 64 };

static uint8_t cells_mem[GUARD + W * H + GUARD], colors_mem[GUARD + W * H + GUARD];
static uint8_t bg_mem[GUARD + W * H + GUARD], attr_mem[GUARD + W * H + GUARD];
static uint32_t cp_mem[GUARD + W * H + GUARD];
static uint32_t px_mem[GUARD + W * 6 * H * 9 + GUARD];

static void guards_set(void)
{
    memset(cells_mem, 0xa5, sizeof cells_mem), memset(colors_mem, 0xa5, sizeof colors_mem);
    memset(bg_mem, 0xa5, sizeof bg_mem), memset(attr_mem, 0xa5, sizeof attr_mem);
    memset(cp_mem, 0xa5, sizeof cp_mem), memset(px_mem, 0xa5, sizeof px_mem);
}

/* The first and last guard bytes of mem (size bytes) are untouched. */
static void guard_check(const void *mem, size_t size, size_t guard)
{
    const uint8_t *m = mem;
    for (size_t i = 0; i < guard; i++)
        if (m[i] != 0xa5 || m[size - 1 - i] != 0xa5) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[512];
    size_t n = size < sizeof text - 1 ? size : sizeof text - 1;
    memcpy(text, data, n);
    text[n] = 0;
    int x = n ? (int)(int8_t)data[0] % 20 : 0, y = n > 1 ? (int)(int8_t)data[1] % 8 : 0;
    guards_set();
    ll_canvas cells = {.width = W,
                       .height = H,
                       .cells = (char *)cells_mem + GUARD,
                       .colors = colors_mem + GUARD,
                       .backgrounds = bg_mem + GUARD,
                       .attrs = attr_mem + GUARD,
                       .codepoints = cp_mem + GUARD};
    ll_canvas pixels = {.width = W * 6, .height = H * 9, .pixels = px_mem + GUARD};
    ll_text_style style = {
        .fg = n > 2 ? data[2] : 0, .bg = n > 3 ? data[3] : 0, .attr = n > 4 ? data[4] : 0};
    ll_text_write(&cells, x, y, style, text);
    ll_text_write(&pixels, x, y, style, text);
    ll_text_box_draw(&cells, x, y, y + 3, x + 2, style);
    ll_text_fill(&pixels, y, x, 4, 3, n ? (uint32_t)data[0] << 8 : 0, style);
    /* ncurses' names: a window partly off the canvas, printw's text. */
    ll_app_call_set(&(ll_app_call){.canvas = &cells});
    WINDOW *win = newwin(3, 6, y, x);
    if (win) {
        mvwprintw(win, 1, 1, "%s", text);
        box(win, 0, 0);
        delwin(win);
    }
    ll_app_call_set(NULL);
    guard_check(cells_mem, sizeof cells_mem, GUARD);
    guard_check(colors_mem, sizeof colors_mem, GUARD);
    guard_check(bg_mem, sizeof bg_mem, GUARD);
    guard_check(attr_mem, sizeof attr_mem, GUARD);
    guard_check(cp_mem, sizeof cp_mem, 4 * GUARD);
    guard_check(px_mem, sizeof px_mem, 4 * GUARD);
    char name[64];
    int key = ll_key_parse(text, n);
    if (key >= 0 && ll_key_parse(ll_key_format(key, name, sizeof name), strlen(name)) < 0) abort();
    return 0;
}
