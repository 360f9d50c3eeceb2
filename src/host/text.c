/* text.c - text on either canvas (looplive_text.h): cells with colours,
 * attributes and code points on a cell canvas, the host's font on a pixel
 * canvas; the frame's typed keys; and ncurses' names over both. */
#include "host/host.h"
#include "base/base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- colours --------------------------------------------------------------- */

/* The ANSI colours as a terminal of the xterm kind shows them. */
static const uint32_t text_palette[16] = {
    0xff000000, 0xffcd0000, 0xff00cd00, 0xffcdcd00, 0xff0000ee, 0xffcd00cd, 0xff00cdcd, 0xffe5e5e5,
    0xff7f7f7f, 0xffff0000, 0xff00ff00, 0xffffff00, 0xff5c5cff, 0xffff00ff, 0xff00ffff, 0xffffffff,
};

uint32_t ll_text_color_get(int color, int background)
{
    if (color <= 0 || color > LL_COLOR_BLACK) return background ? 0xff000000 : 0xffc0c0c0;
    return color == LL_COLOR_BLACK ? 0xff000000 : text_palette[color];
}

/* --- one cell on pixels ------------------------------------------------------ */

/* The arms of a line-drawing character: bit 0 up, 1 down, 2 left, 3 right. */
static int line_arms(uint32_t ch)
{
    switch (ch) {
    case LL_TEXT_HLINE:
        return 4 | 8;
    case LL_TEXT_VLINE:
        return 1 | 2;
    case LL_TEXT_ULCORNER:
        return 2 | 8;
    case LL_TEXT_URCORNER:
        return 2 | 4;
    case LL_TEXT_LLCORNER:
        return 1 | 8;
    case LL_TEXT_LRCORNER:
        return 1 | 4;
    case LL_TEXT_LTEE:
        return 1 | 2 | 8;
    case LL_TEXT_RTEE:
        return 1 | 2 | 4;
    case LL_TEXT_TTEE:
        return 2 | 4 | 8;
    case LL_TEXT_BTEE:
        return 1 | 4 | 8;
    case LL_TEXT_PLUS:
        return 15;
    default:
        return 0;
    }
}

/* Whether pixel (col, row) of a cell is ink for ch (col 0-5, row 0-8). */
static int cell_ink(uint32_t ch, int col, int row)
{
    int arms = line_arms(ch), cx = 2, cy = 4;
    if (arms)
        return (col == cx && (((arms & 1) && row <= cy) || ((arms & 2) && row >= cy))) ||
               (row == cy && (((arms & 4) && col <= cx) || ((arms & 8) && col >= cx)));
    if (ch == LL_TEXT_BLOCK) return 1;
    if (ch == LL_TEXT_CKBOARD) return (col + row) % 2 == 0;
    if (ch == LL_TEXT_DIAMOND) return abs(col - cx) + abs(row - cy) <= 2;
    if (ch == LL_TEXT_BULLET) return col >= 1 && col <= 3 && row >= 3 && row <= 5;
    const uint8_t *glyph = ll_text_glyph_get(ch);
    if (!glyph) glyph = ll_text_glyph_get(ch == 0 ? ' ' : '?');
    return col < 5 && row < 8 && (glyph[row] & (0x10 >> col));
}

void host_text_cell_draw(uint32_t *pixels, int width, int height, int px, int py, uint32_t ch,
                         ll_text_style style)
{
    int fg_index = style.fg;
    /* Bold brightens the eight dim colours, as most terminals do. */
    if ((style.attr & LL_ATTR_BOLD) && fg_index >= 1 && fg_index <= 7) fg_index += 8;
    uint32_t fg = ll_text_color_get(fg_index, 0), bg = ll_text_color_get(style.bg, 1);
    if (style.attr & LL_ATTR_REVERSE) {
        uint32_t t = fg;
        fg = bg, bg = t;
    }
    for (int row = 0; row < LL_TEXT_CELL_H; row++) {
        int y = py + row;
        if (y < 0 || y >= height) continue;
        for (int col = 0; col < LL_TEXT_CELL_W; col++) {
            int x = px + col;
            if (x < 0 || x >= width) continue;
            int ink = cell_ink(ch, col, row) ||
                      ((style.attr & LL_ATTR_UNDERLINE) && row == LL_TEXT_CELL_H - 1);
            pixels[(size_t)y * (size_t)width + (size_t)x] = ink ? fg : bg;
        }
    }
}

/* --- cells ------------------------------------------------------------------ */

void ll_text_size_get(const ll_canvas *c, int *cols, int *rows)
{
    int pixels = c->pixels && !c->cells;
    *cols = pixels ? c->width / LL_TEXT_CELL_W : c->width;
    *rows = pixels ? c->height / LL_TEXT_CELL_H : c->height;
}

/* What cells[] holds for a character beyond ASCII: a terminal's own
 * fallback for line drawing, so a text screenshot still reads. */
static char ascii_stand_in(uint32_t ch)
{
    int arms = line_arms(ch);
    if (arms == (4 | 8)) return '-';
    if (arms == (1 | 2)) return '|';
    if (arms) return '+';
    if (ch == LL_TEXT_BLOCK || ch == LL_TEXT_CKBOARD) return '#';
    if (ch == LL_TEXT_DIAMOND) return '*';
    if (ch == LL_TEXT_BULLET) return '.';
    return ch >= 32 && ch < 127 ? (char)ch : '?';
}

void ll_text_put(ll_canvas *c, int x, int y, uint32_t ch, ll_text_style style)
{
    int cols, rows;
    ll_text_size_get(c, &cols, &rows);
    if (x < 0 || y < 0 || x >= cols || y >= rows) return;
    if (ch < 32 || ch == 127) ch = ' ';
    if (c->cells) {
        size_t i = (size_t)y * (size_t)c->width + (size_t)x;
        c->cells[i] = ascii_stand_in(ch);
        if (c->colors) c->colors[i] = style.fg;
        if (c->backgrounds) c->backgrounds[i] = style.bg;
        if (c->attrs) c->attrs[i] = style.attr;
        if (c->codepoints) c->codepoints[i] = ch < 128 ? 0 : ch;
    } else if (c->pixels) {
        host_text_cell_draw(c->pixels, c->width, c->height, x * LL_TEXT_CELL_W, y * LL_TEXT_CELL_H,
                            ch, style);
    }
}

uint32_t host_utf8_next(const char **s)
{
    const unsigned char *p = (const unsigned char *)*s;
    int len = p[0] < 0x80             ? 1
              : (p[0] & 0xe0) == 0xc0 ? 2
              : (p[0] & 0xf0) == 0xe0 ? 3
              : (p[0] & 0xf8) == 0xf0 ? 4
                                      : 0;
    uint32_t ch = len == 1 ? p[0] : len == 2 ? p[0] & 0x1f : len == 3 ? p[0] & 0x0f : p[0] & 0x07;
    for (int i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80) len = 0;
        if (!len) break;
        ch = ch << 6 | (p[i] & 0x3f);
    }
    /* Not UTF-8 (a stray byte, a cut sequence, an overlong form): one '?'. */
    if (!len || (len == 2 && ch < 0x80) || (len == 3 && ch < 0x800) || (len == 4 && ch < 0x10000) ||
        ch > 0x10ffff || (ch >= 0xd800 && ch <= 0xdfff)) {
        *s += 1;
        return '?';
    }
    *s += len;
    return ch;
}

int ll_text_write(ll_canvas *c, int x, int y, ll_text_style style, const char *utf8)
{
    int col = x;
    while (*utf8) {
        if (*utf8 == '\n') {
            utf8++, y++, col = x;
            continue;
        }
        ll_text_put(c, col++, y, host_utf8_next(&utf8), style);
    }
    return col;
}

int ll_text_print_v(ll_canvas *c, int x, int y, ll_text_style style, const char *fmt, va_list args)
{
    char text[1024];
    vsnprintf(text, sizeof text, fmt, args);
    return ll_text_write(c, x, y, style, text);
}

int ll_text_print(ll_canvas *c, int x, int y, ll_text_style style, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    int col = ll_text_print_v(c, x, y, style, fmt, args);
    va_end(args);
    return col;
}

void ll_text_fill(ll_canvas *c, int x, int y, int w, int h, uint32_t ch, ll_text_style style)
{
    for (int row = y; row < y + h; row++)
        for (int col = x; col < x + w; col++) ll_text_put(c, col, row, ch, style);
}

void ll_text_box_draw(ll_canvas *c, int x, int y, int w, int h, ll_text_style style)
{
    if (w < 2 || h < 2) return;
    ll_text_fill(c, x + 1, y, w - 2, 1, LL_TEXT_HLINE, style);
    ll_text_fill(c, x + 1, y + h - 1, w - 2, 1, LL_TEXT_HLINE, style);
    ll_text_fill(c, x, y + 1, 1, h - 2, LL_TEXT_VLINE, style);
    ll_text_fill(c, x + w - 1, y + 1, 1, h - 2, LL_TEXT_VLINE, style);
    ll_text_put(c, x, y, LL_TEXT_ULCORNER, style);
    ll_text_put(c, x + w - 1, y, LL_TEXT_URCORNER, style);
    ll_text_put(c, x, y + h - 1, LL_TEXT_LLCORNER, style);
    ll_text_put(c, x + w - 1, y + h - 1, LL_TEXT_LRCORNER, style);
}

/* --- keys --------------------------------------------------------------------- */

void ll_text_keys_take(const ll_platform_input *p, ll_text_keys *keys)
{
    uint32_t n = p->typed_count < LL_ARRAY_COUNT(keys->key) ? p->typed_count
                                                            : (uint32_t)LL_ARRAY_COUNT(keys->key);
    *keys = (ll_text_keys){.count = (uint8_t)n};
    memcpy(keys->key, p->typed, n * sizeof *keys->key);
}

void ll_text_keys_translate(const ll_platform_input *p, void *keys)
{
    ll_text_keys_take(p, keys);
}

int ll_text_key_get(ll_text_keys *keys)
{
    if (keys->next >= keys->count || keys->next >= LL_ARRAY_COUNT(keys->key)) return -1;
    return keys->key[keys->next++];
}

/* --- ncurses' names -------------------------------------------------------- */

/* What ncurses keeps once per process: the pairs are made in init and last
 * for the run. A program built with LOOPLIVE_CURSES keeps it in a global of
 * its own (ll_curses_state_use from a constructor), so that it is state:
 * a replay in another process, which calls no init, still has the pairs.
 * Others get this one. The canvas is the render call's (ll_app_call). */
static ll_curses_state curses_own;
static ll_curses_state *curses_in_use = &curses_own;

ll_curses_state *ll_curses_state_use(ll_curses_state *state)
{
    curses_in_use = state ? state : &curses_own;
    return curses_in_use;
}

static ll_canvas *curses_canvas(void)
{
    return ll_app_call_get().canvas;
}

void ll_curses_keys_set(const ll_text_keys *keys)
{
    curses_in_use->keys = *keys;
    curses_in_use->keys.next = 0;
}

int ll_curses_key_get(void)
{
    return ll_text_key_get(&curses_in_use->keys);
}

ll_curses_win *ll_curses_stdscr_get(void)
{
    return &curses_in_use->screen;
}

ll_curses_win *ll_curses_init(void)
{
    memset(curses_in_use->pairs, 0, sizeof curses_in_use->pairs);
    curses_in_use->screen = (ll_curses_win){0};
    return &curses_in_use->screen;
}

/* An ncurses colour (0-7, -1 the default) as ours. */
static uint8_t curses_color(int c)
{
    return c < 0 || c > 15 ? LL_COLOR_DEFAULT : c == 0 ? LL_COLOR_BLACK : (uint8_t)c;
}

int ll_curses_pair_set(int n, int fg, int bg)
{
    if (n < 1 || n > 255) return -1;
    curses_in_use->pairs[n][0] = curses_color(fg);
    curses_in_use->pairs[n][1] = curses_color(bg);
    return 0;
}

void ll_curses_size_get(const ll_curses_win *win, int *rows, int *cols)
{
    int cw = 0, ch = 0;
    if (curses_canvas()) ll_text_size_get(curses_canvas(), &cw, &ch);
    *cols = win->w > 0 ? win->w : cw - win->x;
    *rows = win->h > 0 ? win->h : ch - win->y;
    if (!curses_canvas() && win->w <= 0) *cols = 0;
    if (!curses_canvas() && win->h <= 0) *rows = 0;
}

static ll_text_style curses_style(uint32_t chtype)
{
    unsigned pair = chtype >> 24;
    return (ll_text_style){.fg = curses_in_use->pairs[pair][0],
                           .bg = curses_in_use->pairs[pair][1],
                           .attr = (uint8_t)((chtype >> 16) & 7)};
}

/* One code point at the cursor, in attr; the cursor moves on (and to the
 * next line after the window's last column, as ncurses wraps). */
static void curses_put(ll_curses_win *win, uint32_t ch, uint32_t attr)
{
    int rows, cols;
    ll_curses_size_get(win, &rows, &cols);
    if (ch == '\n') {
        win->cy++, win->cx = 0;
        return;
    }
    if (win->cy >= 0 && win->cy < rows && win->cx >= 0 && win->cx < cols && curses_canvas())
        ll_text_put(curses_canvas(), win->x + win->cx, win->y + win->cy, ch, curses_style(attr));
    if (++win->cx >= cols) win->cx = 0, win->cy++;
}

int ll_curses_char_put(ll_curses_win *win, int y, int x, uint32_t ch)
{
    if (y >= 0) win->cy = y, win->cx = x;
    uint32_t attr = (ch & ~0xffffu) | win->attr;
    /* A pair in ch wins over the window's. */
    if (ch >> 24) attr = (attr & 0x00ffffffu) | (ch & 0xff000000u);
    curses_put(win, (ch & 0xffff) ? ch & 0xffff : ' ', attr);
    return 0;
}

int ll_curses_print(ll_curses_win *win, int y, int x, const char *fmt, ...)
{
    char text[1024];
    va_list args;
    va_start(args, fmt);
    vsnprintf(text, sizeof text, fmt, args);
    va_end(args);
    if (y >= 0) win->cy = y, win->cx = x;
    for (const char *s = text; *s;) curses_put(win, host_utf8_next(&s), win->attr);
    return 0;
}

int ll_curses_erase(ll_curses_win *win)
{
    int rows, cols;
    ll_curses_size_get(win, &rows, &cols);
    if (curses_canvas())
        ll_text_fill(curses_canvas(), win->x, win->y, cols, rows, ' ', curses_style(0));
    win->cy = win->cx = 0;
    return 0;
}

int ll_curses_line_draw(ll_curses_win *win, int y, int x, uint32_t ch, int n, int vertical)
{
    if (!(ch & 0xffff)) ch |= vertical ? LL_TEXT_VLINE : LL_TEXT_HLINE;
    for (int i = 0; i < n; i++)
        ll_curses_char_put(win, y + (vertical ? i : 0), x + (vertical ? 0 : i), ch);
    return 0;
}

int ll_curses_box_draw(ll_curses_win *win, uint32_t vch, uint32_t hch)
{
    int rows, cols;
    ll_curses_size_get(win, &rows, &cols);
    if (rows < 2 || cols < 2) return -1;
    ll_curses_line_draw(win, 0, 1, hch, cols - 2, 0);
    ll_curses_line_draw(win, rows - 1, 1, hch, cols - 2, 0);
    ll_curses_line_draw(win, 1, 0, vch, rows - 2, 1);
    ll_curses_line_draw(win, 1, cols - 1, vch, rows - 2, 1);
    ll_curses_char_put(win, 0, 0, LL_TEXT_ULCORNER);
    ll_curses_char_put(win, 0, cols - 1, LL_TEXT_URCORNER);
    ll_curses_char_put(win, rows - 1, 0, LL_TEXT_LLCORNER);
    ll_curses_char_put(win, rows - 1, cols - 1, LL_TEXT_LRCORNER);
    win->cy = win->cx = 0;
    return 0;
}

size_t host_utf8_put(uint32_t ch, char *out)
{
    if (ch < 0x80) return out[0] = (char)ch, 1;
    if (ch < 0x800) return out[0] = (char)(0xc0 | ch >> 6), out[1] = (char)(0x80 | (ch & 0x3f)), 2;
    if (ch < 0x10000) {
        out[0] = (char)(0xe0 | ch >> 12), out[1] = (char)(0x80 | ((ch >> 6) & 0x3f));
        out[2] = (char)(0x80 | (ch & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | ch >> 18), out[1] = (char)(0x80 | ((ch >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((ch >> 6) & 0x3f)), out[3] = (char)(0x80 | (ch & 0x3f));
    return 4;
}
