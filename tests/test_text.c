/* test_text.c - text on either canvas (looplive_text.h), ncurses' names over
 * it, the terminal's drawing of the richer cells, typed keys with Ctrl and
 * Shift, and ll_app's version 3 fields (tick rate, minimum canvas, quit). */
#include <criterion/criterion.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOOPLIVE_CURSES
#include "host/host.h"

/* A cell canvas of w x h with every array, on the heap (freed by the test). */
typedef struct cells {
    ll_canvas c;
    char text[64 * 16];
    uint8_t colors[64 * 16], backgrounds[64 * 16], attrs[64 * 16];
    uint32_t codepoints[64 * 16];
} cells;

static cells *cells_new(int w, int h)
{
    cells *k = calloc(1, sizeof *k);
    cr_assert(k && w * h <= 64 * 16);
    memset(k->text, ' ', sizeof k->text);
    k->c = (ll_canvas){.width = w,
                       .height = h,
                       .cells = k->text,
                       .colors = k->colors,
                       .backgrounds = k->backgrounds,
                       .attrs = k->attrs,
                       .codepoints = k->codepoints};
    return k;
}

/* The canvas as the text screenshot writes it: UTF-8 lines. */
static char *cells_text(const ll_canvas *c)
{
    char path[] = "/tmp/ll-text-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    close(fd);
    ll_error err;
    cr_assert_eq(host_write_cells(path, c, &err), 0, "%s", err.msg);
    FILE *f = fopen(path, "r");
    static char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    unlink(path);
    return buf;
}

Test(text_cells, print_box_fill_and_utf8_golden)
{
    cells *k = cells_new(12, 4);
    ll_text_style cyan = {.fg = 6}, hot = {.fg = 1, .bg = LL_COLOR_BLACK, .attr = LL_ATTR_BOLD};
    ll_text_box_draw(&k->c, 0, 0, 12, 4, cyan);
    cr_assert_eq(ll_text_print(&k->c, 1, 1, hot, "n=%d %s", 42, "\xc3\xa9t\xc3\xa9!!"), 11);
    ll_text_fill(&k->c, 1, 2, 3, 1, LL_TEXT_BLOCK, cyan);
    ll_text_write(&k->c, 5, 2, cyan, "a\nb");
    cr_assert_str_eq(cells_text(&k->c), "┌──────────┐\n"
                                        "│n=42 été!!│\n"
                                        "│███ a     │\n"
                                        "└────b─────┘\n");
    /* The ASCII stand-ins and the arrays behind them. */
    cr_assert_eq(k->text[0], '+');
    cr_assert_eq(k->text[1], '-');
    cr_assert_eq(k->text[12], '|');
    cr_assert_eq(k->codepoints[0], LL_TEXT_ULCORNER);
    size_t n = 12 + 1;
    cr_assert_eq(k->text[n], 'n');
    cr_assert_eq(k->codepoints[n], 0, "ASCII keeps no code point");
    cr_assert_eq(k->colors[n], 1);
    cr_assert_eq(k->backgrounds[n], LL_COLOR_BLACK);
    cr_assert_eq(k->attrs[n], LL_ATTR_BOLD);
    cr_assert_eq(k->codepoints[n + 5], 0xe9);
    /* Outside the canvas: nothing, and no write past it. */
    ll_text_put(&k->c, -1, 0, 'x', cyan);
    ll_text_put(&k->c, 12, 3, 'x', cyan);
    ll_text_print(&k->c, 10, 3, cyan, "long text");
    cr_assert_eq(k->text[12 * 4 - 1], 'o');
    free(k);
}

Test(text_cells, bad_utf8_is_one_question_mark_a_byte)
{
    cells *k = cells_new(8, 1);
    cr_assert_eq(ll_text_write(&k->c, 0, 0, (ll_text_style){0}, "a\xff\xe2\x94z\xc0\xaf"), 7);
    cr_assert_str_eq(cells_text(&k->c), "a???z?? \n");
    free(k);
}

Test(text_cells, size_in_cells_on_both_canvases)
{
    int cols, rows;
    uint32_t px[60 * 27];
    ll_canvas pixels = {.width = 60, .height = 27, .pixels = px};
    ll_text_size_get(&pixels, &cols, &rows);
    cr_assert(cols == 10 && rows == 3, "%dx%d", cols, rows);
    cells *k = cells_new(7, 2);
    ll_text_size_get(&k->c, &cols, &rows);
    cr_assert(cols == 7 && rows == 2);
    free(k);
}

/* --- pixels ---------------------------------------------------------------- */

static uint32_t px_at(const ll_canvas *c, int x, int y)
{
    return c->pixels[y * c->width + x];
}

Test(text_pixels, a_letter_is_the_font_glyph_in_its_colours)
{
    static uint32_t px[12 * 9];
    ll_canvas c = {.width = 12, .height = 9, .pixels = px};
    ll_text_put(&c, 1, 0, 'A', (ll_text_style){.fg = 2, .bg = 4});
    const uint8_t *glyph = ll_text_glyph_get('A');
    cr_assert(glyph);
    uint32_t fg = ll_text_color_get(2, 0), bg = ll_text_color_get(4, 1);
    for (int row = 0; row < 9; row++)
        for (int col = 0; col < 6; col++) {
            int ink = row < 8 && col < 5 && (glyph[row] & (0x10 >> col));
            cr_assert_eq(px_at(&c, 6 + col, row), ink ? fg : bg, "pixel %d,%d", col, row);
        }
    cr_assert_eq(px_at(&c, 0, 0), 0, "the cell to the left is untouched");
    cr_assert_null(ll_text_glyph_get(0x2500));
}

Test(text_pixels, reverse_bold_underline_and_default_colours)
{
    static uint32_t px[6 * 9];
    ll_canvas c = {.width = 6, .height = 9, .pixels = px};
    ll_text_put(&c, 0, 0, ' ', (ll_text_style){.fg = 3, .attr = LL_ATTR_REVERSE});
    cr_assert_eq(px_at(&c, 0, 0), ll_text_color_get(3, 0), "reverse: the cell is the fg");
    ll_text_put(&c, 0, 0, '_', (ll_text_style){.fg = 1, .attr = LL_ATTR_BOLD});
    cr_assert_eq(px_at(&c, 0, 6), ll_text_color_get(9, 0), "bold brightens red");
    ll_text_put(&c, 0, 0, ' ', (ll_text_style){.attr = LL_ATTR_UNDERLINE});
    cr_assert_eq(px_at(&c, 3, 8), ll_text_color_get(0, 0), "underline: the last row");
    cr_assert_eq(px_at(&c, 3, 7), 0xff000000, "default background: black");
    cr_assert_eq(ll_text_color_get(0, 0), 0xffc0c0c0);
    cr_assert_eq(ll_text_color_get(LL_COLOR_BLACK, 0), 0xff000000);
    cr_assert_eq(ll_text_color_get(15, 0), 0xffffffff);
}

Test(text_pixels, line_drawing_is_lines_through_the_middle)
{
    static uint32_t px[18 * 9];
    ll_canvas c = {.width = 18, .height = 9, .pixels = px};
    ll_text_style s = {.fg = 15};
    ll_text_put(&c, 0, 0, LL_TEXT_ULCORNER, s);
    ll_text_put(&c, 1, 0, LL_TEXT_HLINE, s);
    ll_text_put(&c, 2, 0, LL_TEXT_BLOCK, s);
    uint32_t w = 0xffffffff, k = 0xff000000;
    /* The corner: right from the middle, and down from it. */
    cr_assert_eq(px_at(&c, 1, 4), k);
    cr_assert_eq(px_at(&c, 2, 4), w);
    cr_assert_eq(px_at(&c, 5, 4), w);
    cr_assert_eq(px_at(&c, 2, 3), k);
    cr_assert_eq(px_at(&c, 2, 8), w);
    /* The line joins it across the whole cell; the block fills its cell. */
    for (int x = 6; x < 12; x++) cr_assert_eq(px_at(&c, x, 4), w);
    cr_assert_eq(px_at(&c, 8, 0), k);
    for (int y = 0; y < 9; y++) cr_assert_eq(px_at(&c, 12, y), w);
}

/* --- the terminal ------------------------------------------------------------ */

Test(text_term, background_attributes_and_utf8_reach_the_terminal)
{
    cells *k = cells_new(3, 1);
    ll_text_put(&k->c, 0, 0, 'a', (ll_text_style){.fg = 1});
    ll_text_put(
        &k->c, 1, 0, LL_TEXT_VLINE,
        (ll_text_style){.fg = LL_COLOR_BLACK, .bg = 11, .attr = LL_ATTR_BOLD | LL_ATTR_REVERSE});
    ll_text_put(&k->c, 2, 0, 'b', (ll_text_style){.fg = 1, .attr = LL_ATTR_UNDERLINE});
    char out[512];
    size_t n = host_term_render(&k->c, NULL, NULL, 80, 24, out, sizeof out);
    out[n] = 0;
    cr_assert_str_eq(out, "\x1b[1;1H\x1b[31ma\x1b[0;1;7;30;103m\xe2\x94\x82\x1b[0;4;31;49mb", "%s",
                     out);
    free(k);
}

Test(text_term, control_bytes_and_modifiers_are_keys)
{
    int keys[16];
    const unsigned char in[] = "\x01\x1a\x1b\x03\x1b[1;2A\x1b[1;5D\x1b[1;7C\x00";
    int n = host_term_parse_keys(in, sizeof in - 1, keys, 16);
    int want[] = {LL_KEY_CTRL | 'a',
                  LL_KEY_CTRL | 'z',
                  LL_KEY_ALT | LL_KEY_CTRL | 'c',
                  LL_KEY_SHIFT | LL_KEY_UP,
                  LL_KEY_CTRL | LL_KEY_LEFT,
                  LL_KEY_ALT | LL_KEY_CTRL | LL_KEY_RIGHT,
                  LL_KEY_CTRL | ' '};
    cr_assert_eq(n, 7, "got %d keys", n);
    for (int i = 0; i < n; i++) cr_assert_eq(keys[i], want[i], "key %d: %#x", i, keys[i]);
}

/* --- ncurses' names ------------------------------------------------------------- */

Test(text_curses, an_ncurses_screen_draws_on_the_canvas)
{
    cells *k = cells_new(16, 5);
    initscr();
    start_color();
    init_pair(1, COLOR_RED, COLOR_BLACK);
    init_pair(2, COLOR_BLACK, COLOR_WHITE);
    WINDOW *win = newwin(3, 6, 2, 1);
    ll_app_call_set(&(ll_app_call){.canvas = &k->c});
    int rows, cols;
    getmaxyx(stdscr, rows, cols);
    cr_assert(rows == 5 && cols == 16);
    erase();
    attron(COLOR_PAIR(1) | A_BOLD);
    mvprintw(0, 0, "score %d", 7);
    attroff(COLOR_PAIR(1) | A_BOLD);
    addstr("!");
    box(win, 0, 0);
    mvwaddch(win, 1, 1, '@' | A_REVERSE | COLOR_PAIR(2));
    mvwprintw(win, 1, 2, "%s", "abcdef"); /* cut at the window's edge, wraps */
    mvhline(0, 10, ACS_HLINE, 3);
    ll_app_call_set(NULL);
    mvprintw(0, 0, "gone"); /* no canvas: nowhere */
    cr_assert_str_eq(cells_text(&k->c), "score 7!  ───   \n"
                                        "                \n"
                                        " ┌────┐         \n"
                                        " │@abcd         \n"
                                        " ef───┘         \n");
    cr_assert_eq(k->colors[0], 1);
    cr_assert_eq(k->backgrounds[0], LL_COLOR_BLACK);
    cr_assert_eq(k->attrs[0], LL_ATTR_BOLD);
    cr_assert_eq(k->attrs[7], 0, "attroff");
    size_t at = 3 * 16 + 2;
    cr_assert_eq(k->colors[at], LL_COLOR_BLACK);
    cr_assert_eq(k->backgrounds[at], 7);
    cr_assert_eq(k->attrs[at], LL_ATTR_REVERSE);
    delwin(win);
    free(k);
}

Test(text_curses, getch_reads_the_recorded_keys_in_order)
{
    ll_platform_input p = {.typed = {'a', LL_KEY_LEFT, 'a'}, .typed_count = 3};
    ll_text_keys keys;
    ll_text_keys_translate(&p, &keys);
    ll_curses_keys_set(&keys);
    cr_assert_eq(getch(), 'a');
    cr_assert_eq(getch(), KEY_LEFT);
    cr_assert_eq(getch(), 'a');
    cr_assert_eq(getch(), ERR);
    cr_assert_eq(ll_text_key_get(&keys), 'a', "the input's copy is not consumed");
    p.typed_count = 99; /* more than it holds: cut to 16 */
    ll_text_keys_take(&p, &keys);
    cr_assert_eq(keys.count, 16);
}

Test(text_curses, the_state_in_use_is_the_programs_global)
{
    /* This file's LOOPLIVE_CURSES constructor made its global the state. */
    cr_assert_eq(ll_curses_state_use(&ll_curses_app_state_), &ll_curses_app_state_);
    init_pair(9, COLOR_RED, COLOR_BLUE);
    cr_assert_eq(ll_curses_app_state_.pairs[9][0], COLOR_RED);
    cr_assert_eq(ll_curses_app_state_.pairs[9][1], COLOR_BLUE);
    cr_assert_eq(stdscr, &ll_curses_app_state_.screen);
    ll_curses_state copy = ll_curses_app_state_; /* what a restored block brings */
    ll_curses_state *own = ll_curses_state_use(NULL);
    cr_assert_neq(own, &ll_curses_app_state_, "NULL: the library's own");
    cr_assert_eq(own->pairs[9][0], 0, "the library's own was not written");
    cr_assert_eq(ll_curses_state_use(&copy), &copy);
    cr_assert_eq(stdscr, &copy.screen);
    cr_assert_eq(copy.pairs[9][1], COLOR_BLUE);
    ll_curses_state_use(&ll_curses_app_state_);
}

/* --- the application's run: typed keys, tick rate, minimum canvas, quit ---- */

static const char *fixture(const char *name)
{
    static char path[PATH_MAX];
    char exe[PATH_MAX] = {0};
    cr_assert(readlink("/proc/self/exe", exe, sizeof exe - 1) > 0);
    snprintf(path, sizeof path, "%s/%s", dirname(exe), name);
    return path;
}

static const char *row(const ll_host *h, int y)
{
    static char line[128];
    const ll_canvas *c = ll_host_canvas_get(h);
    snprintf(line, sizeof line, "%.*s", c->width, c->cells + (size_t)y * (size_t)c->width);
    return line;
}

static double target_fps(const ll_host *h)
{
    ll_host_status s;
    ll_host_status_get(h, &s);
    return s.target_fps;
}

Test(text_app, typed_keys_repeat_one_a_frame_and_are_all_read)
{
    ll_error err = {0};
    ll_host *h = ll_host_open(fixture("text_app.so"), &err, .headless = 1);
    cr_assert(h, "%s", err.msg);
    /* An autorepeat: the same key three times, with another between. */
    ll_host_press(h, 'x');
    ll_host_press(h, 'y');
    ll_host_press(h, 'x');
    ll_host_press(h, LL_KEY_CTRL | 'x');
    ll_host_press(h, 'x');
    ll_host_frame_run(h);
    const ll_platform_input *in = ll_host_input_get(h);
    cr_assert_eq(in->typed_count, 2, "x and y, then x waits: %u", in->typed_count);
    cr_assert(in->typed[0] == 'x' && in->typed[1] == 'y');
    ll_host_frame_run(h);
    cr_assert_eq(in->typed_count, 2);
    cr_assert(in->typed[0] == 'x' && in->typed[1] == (LL_KEY_CTRL | 'x'));
    cr_assert(in->pressed[24] && !in->pressed['y'], "ctrl+x is pressed[] of its control code");
    ll_host_frame_run(h);
    cr_assert_eq(in->typed_count, 1);
    cr_assert(strstr(row(h, 1), "keys 5"), "%s", row(h, 1));
    ll_host_close(h);
}

Test(text_app, tick_rate_minimum_canvas_and_quit_message)
{
    ll_error err = {0};
    ll_host *h = ll_host_open(fixture("text_app.so"), &err, .headless = 1);
    cr_assert(h, "%s", err.msg);
    cr_assert_eq(target_fps(h), 30, "the application's tick_hz");
    ll_host_press(h, 'a');
    ll_host_press(h, 'q');
    cr_assert_eq(ll_host_frame_run(h), 0, "the run ends on the frame that asked");
    ll_host_status s;
    ll_host_status_get(h, &s);
    cr_assert(s.quit_asked);
    cr_assert_str_eq(s.quit, "bye after 2 keys");
    ll_host_close(h);
    /* --fps wins over tick_hz. */
    h = ll_host_open(fixture("text_app.so"), &err, .headless = 1, .fps = 50);
    cr_assert(h, "%s", err.msg);
    cr_assert_eq(target_fps(h), 50);
    ll_host_close(h);
    /* A canvas smaller than the application's minimum is refused. */
    cr_assert_null(
        ll_host_open(fixture("text_app.so"), &err, .headless = 1, .width = 19, .height = 5));
    cr_assert(strstr(err.msg, "needs a canvas of at least 20x5 cells, this one is 19x5 (try: "
                              "--canvas 20x5)"),
              "%s", err.msg);
}

Test(text_app, a_version_2_table_still_loads_and_runs_at_60)
{
    ll_error err = {0};
    ll_host *h =
        ll_host_open(fixture("text_app_v2.so"), &err, .headless = 1, .width = 10, .height = 3);
    cr_assert(h, "%s", err.msg);
    cr_assert_eq(target_fps(h), 60);
    ll_host_press(h, 'q');
    cr_assert_eq(ll_host_frame_run(h), 1, "no quit in a version 2 table");
    ll_host_close(h);
}

/* The same calls on a cell canvas, turned into pixels the way the window
 * and every picture are made (ll_canvas_pixels_render), and on a pixel
 * canvas directly: the same picture, pixel for pixel. */
static void draw_scene(ll_canvas *c)
{
    ll_text_box_draw(c, 0, 0, 9, 4, (ll_text_style){.fg = 6, .bg = 4});
    ll_text_print(c, 1, 1, (ll_text_style){.fg = 3, .attr = LL_ATTR_BOLD}, "%s", "hi\xc2\xb7!");
    ll_text_put(c, 5, 1, LL_TEXT_CKBOARD, (ll_text_style){.fg = 2, .bg = LL_COLOR_BLACK});
    ll_text_write(c, 1, 2, (ll_text_style){.fg = 1, .attr = LL_ATTR_REVERSE | LL_ATTR_UNDERLINE},
                  "g\xe2\x96\x88y");
}

Test(text_pixels, a_cell_canvas_renders_as_the_same_calls_draw_on_pixels)
{
    cells *k = cells_new(10, 4);
    draw_scene(&k->c);
    int w, h;
    ll_canvas_pixels_size_get(&k->c, &w, &h);
    cr_assert(w == 60 && h == 36);
    uint32_t *from_cells = calloc((size_t)w * (size_t)h, 4),
             *direct = calloc((size_t)w * (size_t)h, 4);
    ll_canvas_pixels_render(&k->c, from_cells);
    ll_canvas pixels = {.width = w, .height = h, .pixels = direct};
    for (int i = 0; i < w * h; i++) direct[i] = 0xff000000;
    draw_scene(&pixels);
    for (int i = 0; i < w * h; i++)
        cr_assert_eq(from_cells[i], direct[i], "pixel %d,%d: %08x from cells, %08x drawn", i % w,
                     i / w, from_cells[i], direct[i]);
    free(from_cells), free(direct), free(k);
}

Test(text_cells, a_canvas_of_cells_is_made_cleared_and_freed)
{
    ll_canvas c;
    ll_error err;
    cr_assert_eq(ll_canvas_cells_alloc(&c, 7, 3, &err), 0, "%s", err.msg);
    cr_assert(c.cells && c.colors && c.backgrounds && c.attrs && c.codepoints && !c.pixels);
    cr_assert(c.width == 7 && c.height == 3);
    cr_assert_eq(c.cells[20], ' ');
    ll_text_print(&c, 0, 0, (ll_text_style){.fg = 2, .bg = 3, .attr = 1}, "\xe2\x94\x80x");
    ll_canvas_clear(&c);
    for (int i = 0; i < 21; i++)
        cr_assert(c.cells[i] == ' ' && !c.colors[i] && !c.backgrounds[i] && !c.attrs[i] &&
                  !c.codepoints[i]);
    ll_canvas_free(&c);
    cr_assert(!c.cells && !c.codepoints && c.width == 0);
    ll_canvas_free(&c); /* again: nothing left to free */
}
