/* looplive_text.h - text on a canvas, and keys as a terminal program reads
 * them: what a terminal game's ncurses code needs, for `looplive run`.
 *
 * The same calls draw on both canvases: on a cell canvas (the terminal) a
 * cell is a character with a colour, a background, attributes (bold,
 * reverse, underline) and a Unicode code point; on a pixel canvas (SDL2) a
 * cell is LL_TEXT_CELL_W x LL_TEXT_CELL_H pixels drawn with the host's
 * built-in font, line-drawing characters included. Keys: an input struct
 * holds an ll_text_keys, the frame's typed keys in order (autorepeats
 * included), taken in translate and so recorded and replayed exactly.
 *
 *     #include <looplive_text.h>
 *
 *     typedef struct state { int x; } state;
 *
 *     static void update(ll_block *b, const void *in, uint64_t frame, double dt)
 *     {
 *         ll_text_keys keys = *(const ll_text_keys *)in; // this frame's, in order
 *         for (int k; (k = ll_text_key_get(&keys)) >= 0;)
 *             ((state *)b->base)->x += k == LL_KEY_RIGHT ? 1 : k == LL_KEY_LEFT ? -1 : 0;
 *     }
 *
 *     static void render(const ll_block *b, ll_canvas *c)
 *     {
 *         ll_text_style box = {6, 0, 0}, me = {11, 0, LL_ATTR_BOLD}; // fg, bg, attr
 *         ll_text_box_draw(c, 0, 0, 40, 5, box);
 *         ll_text_print(c, 2 + ((const state *)b->base)->x, 2, me, "@ %s", "here");
 *     }
 *
 *     static const ll_app app = {
 *         .api_version = LL_APP_API_VERSION, .input_size = sizeof(ll_text_keys),
 *         .layout_version = 1, .block_size = 1 << 20, .name = "walker",
 *         .translate = ll_text_keys_translate, .update = update, .render = render,
 *         .tick_hz = 30, .min_width = 40, .min_height = 5,
 *     };
 *     const ll_app *looplive_app(void) { return &app; }
 *
 * With LOOPLIVE_CURSES defined before it, this header also gives ncurses'
 * names (initscr, mvprintw, attron, COLOR_PAIR, box, getch, KEY_LEFT, ...)
 * over these calls, so that a program written for ncurses builds against
 * it unchanged: its drawing goes to the canvas being rendered (the
 * canvas of the call in progress, ll_app_call in looplive_host.h; drawing
 * from update goes nowhere), its getch
 * reads the keys given to ll_curses_keys_set (see the end of this header).
 */
#ifndef LOOPLIVE_TEXT_H
#define LOOPLIVE_TEXT_H

#include "looplive_app.h"

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ==== cells ============================================================ */

/* Colours (ll_canvas colors and backgrounds): 0 is the terminal's default
 * (light grey on black on a pixel canvas), 1-15 the ANSI colours, and
 * LL_COLOR_BLACK black itself (ANSI 0). */
enum { LL_COLOR_DEFAULT = 0, LL_COLOR_BLACK = 16 };

/* Attributes (ll_canvas attrs). */
enum { LL_ATTR_BOLD = 1, LL_ATTR_REVERSE = 2, LL_ATTR_UNDERLINE = 4 };

/* Line-drawing and block characters (Unicode), as ncurses' ACS_*. A pixel
 * canvas draws these as lines and blocks; a terminal prints them. */
enum {
    LL_TEXT_HLINE = 0x2500,
    LL_TEXT_VLINE = 0x2502,
    LL_TEXT_ULCORNER = 0x250c,
    LL_TEXT_URCORNER = 0x2510,
    LL_TEXT_LLCORNER = 0x2514,
    LL_TEXT_LRCORNER = 0x2518,
    LL_TEXT_LTEE = 0x251c,
    LL_TEXT_RTEE = 0x2524,
    LL_TEXT_TTEE = 0x252c,
    LL_TEXT_BTEE = 0x2534,
    LL_TEXT_PLUS = 0x253c,
    LL_TEXT_BLOCK = 0x2588,
    LL_TEXT_CKBOARD = 0x2592,
    LL_TEXT_DIAMOND = 0x25c6,
    LL_TEXT_BULLET = 0x00b7,
};

/* Pixels a cell takes on a pixel canvas: the font's 5x8 glyphs, spaced. */
#define LL_TEXT_CELL_W 6
#define LL_TEXT_CELL_H 9

/* How a cell is drawn: colours as above, attributes LL_ATTR_*. */
typedef struct ll_text_style {
    uint8_t fg, bg, attr;
} ll_text_style;

/* The canvas in cells: a cell canvas's size, a pixel canvas's divided by
 * the cell size. */
void ll_text_size_get(const ll_canvas *canvas, int *cols, int *rows);

/* Sets the cell at column x, row y to the code point ch in style. A cell
 * out of the canvas is left alone (so are all, on a canvas with neither
 * cells nor pixels). A cell canvas keeps an ASCII stand-in in cells[] for
 * a character beyond ASCII ('-', '|', '+', '#', '?'). */
void ll_text_put(ll_canvas *canvas, int x, int y, uint32_t ch, ll_text_style style);

/* Writes UTF-8 text from (x, y), a code point per cell, cut at the
 * canvas's edge; '\n' goes on at column x of the next row; a byte that is
 * not UTF-8 shows as '?'. Returns the column after the last cell written. */
int ll_text_write(ll_canvas *canvas, int x, int y, ll_text_style style, const char *utf8);

/* ll_text_write of printf-formatted text (up to 1023 bytes). */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 5, 6)))
#endif
int ll_text_print(ll_canvas *canvas, int x, int y, ll_text_style style, const char *fmt, ...);
int ll_text_print_v(ll_canvas *canvas, int x, int y, ll_text_style style, const char *fmt,
                    va_list args);

/* Sets the w x h cells from (x, y) to ch: ' ' clears a region. */
void ll_text_fill(ll_canvas *canvas, int x, int y, int w, int h, uint32_t ch, ll_text_style style);

/* A border of line-drawing characters around the w x h cells from (x, y)
 * (its inside is left alone). */
void ll_text_box_draw(ll_canvas *canvas, int x, int y, int w, int h, ll_text_style style);

/* The 0xAARRGGBB a pixel canvas shows colour color (0-16) as; background
 * says which default colour 0 is (black, or light grey for text). */
uint32_t ll_text_color_get(int color, int background);

/* The host's font: the glyph of ch as 8 rows of 5 bits (bit 4 leftmost,
 * row 6 the baseline, row 7 descenders), or NULL when the font has none
 * (it has ASCII 32-126; ll_text_put draws the line-drawing characters). */
const uint8_t *ll_text_glyph_get(uint32_t ch);

/* ==== keys ============================================================= */

/* A frame's typed keys, oldest first: codes as ll_platform_input's keys
 * (ASCII, LL_KEY_*), with LL_KEY_CTRL / LL_KEY_SHIFT. Every key event is
 * one, an autorepeat too; at most 16 a frame (more wait for the next). */
typedef struct ll_text_keys {
    uint16_t key[16];
    uint8_t count, next; /* keys held, and the next for ll_text_key_get */
    uint8_t reserved_[2];
} ll_text_keys;

/* In translate: this frame's typed keys into the input struct. */
void ll_text_keys_take(const ll_platform_input *platform, ll_text_keys *keys);
/* A translate for an application whose whole input is one ll_text_keys
 * (.translate = ll_text_keys_translate, .input_size = sizeof(ll_text_keys)). */
void ll_text_keys_translate(const ll_platform_input *platform, void *keys);

/* The next typed key, or -1 when none is left (getch with nodelay). */
int ll_text_key_get(ll_text_keys *keys);

/* ==== ncurses' names ===================================================== */

/* What the ncurses layer keeps, as ncurses does (ll_curses_state): the
 * colour pairs, the keys to read and stdscr, a window: where it is, its
 * cursor and the attributes in use. */
typedef struct ll_curses_win {
    int y, x, h, w; /* where on the canvas, in cells (h, w 0: to the edge) */
    int cy, cx;     /* the cursor, inside */
    uint32_t attr;  /* attributes and colour pair in use (A_*, COLOR_PAIR) */
} ll_curses_win;

/* All of it: the keys to read, the pairs (fg, bg as ll colours), stdscr. */
typedef struct ll_curses_state {
    ll_text_keys keys;
    uint8_t pairs[256][2];
    ll_curses_win screen; /* stdscr */
} ll_curses_state;

/* The state the ll_curses_* calls use from now on in this process (NULL: the
 * library's own). LOOPLIVE_CURSES gives the application one of its own, a
 * global, so that its pairs are state like its other globals (kept with the
 * block, in a replay too); the header's constructor calls this. */
ll_curses_state *ll_curses_state_use(ll_curses_state *state);

/* The keys getch reads next, from the application's recorded input. */
void ll_curses_keys_set(const ll_text_keys *keys);
/* getch: the next key, or -1 (ERR). */
int ll_curses_key_get(void);
/* initscr: the pairs and attributes as ncurses starts them; stdscr. */
ll_curses_win *ll_curses_init(void);
/* stdscr: the whole canvas. */
ll_curses_win *ll_curses_stdscr_get(void);
/* init_pair: pair n (1-255) is fg on bg (ncurses colours: 0-7, -1 default). */
int ll_curses_pair_set(int n, int fg, int bg);
/* The cell at (y, x) of win to ch (a chtype: a code point with A_* and
 * COLOR_PAIR bits), the cursor after it. */
int ll_curses_char_put(ll_curses_win *win, int y, int x, uint32_t ch);
/* printw at (y, x) (y < 0: at the cursor). */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 4, 5)))
#endif
int ll_curses_print(ll_curses_win *win, int y, int x, const char *fmt, ...);
/* Clears win; box: a border around it, ACS lines where vch/hch are 0. */
int ll_curses_erase(ll_curses_win *win);
int ll_curses_box_draw(ll_curses_win *win, uint32_t vch, uint32_t hch);
/* A line of n cells of ch from (y, x) of win, across (vertical 0) or down. */
int ll_curses_line_draw(ll_curses_win *win, int y, int x, uint32_t ch, int n, int vertical);
/* The size of win in cells. */
void ll_curses_size_get(const ll_curses_win *win, int *rows, int *cols);

#ifdef __cplusplus
}
#endif

#ifdef LOOPLIVE_CURSES
#include <stdlib.h>
/* The ncurses state as a global of the application (one for all its files):
 * state, as its other globals are. Each load of the library uses its own. */
__attribute__((weak, visibility("hidden"))) ll_curses_state ll_curses_app_state_;
__attribute__((constructor)) static void ll_curses_app_state_use_(void)
{
    ll_curses_state_use(&ll_curses_app_state_);
}
typedef uint32_t chtype;
typedef ll_curses_win WINDOW;
#define ERR            (-1)
#define OK             0
#define TRUE           1
#define FALSE          0
#define stdscr         (ll_curses_stdscr_get())
#define A_NORMAL       0u
#define A_BOLD         (1u << 16)
#define A_REVERSE      (2u << 16)
#define A_STANDOUT     A_REVERSE
#define A_UNDERLINE    (4u << 16)
#define A_DIM          0u
#define A_BLINK        0u
#define A_CHARTEXT     0xffffu
#define COLOR_PAIR(n)  ((uint32_t)(n) << 24)
#define PAIR_NUMBER(a) ((int)((a) >> 24))
#define COLOR_BLACK    0
#define COLOR_RED      1
#define COLOR_GREEN    2
#define COLOR_YELLOW   3
#define COLOR_BLUE     4
#define COLOR_MAGENTA  5
#define COLOR_CYAN     6
#define COLOR_WHITE    7
#define ACS_HLINE      LL_TEXT_HLINE
#define ACS_VLINE      LL_TEXT_VLINE
#define ACS_ULCORNER   LL_TEXT_ULCORNER
#define ACS_URCORNER   LL_TEXT_URCORNER
#define ACS_LLCORNER   LL_TEXT_LLCORNER
#define ACS_LRCORNER   LL_TEXT_LRCORNER
#define ACS_LTEE       LL_TEXT_LTEE
#define ACS_RTEE       LL_TEXT_RTEE
#define ACS_TTEE       LL_TEXT_TTEE
#define ACS_BTEE       LL_TEXT_BTEE
#define ACS_PLUS       LL_TEXT_PLUS
#define ACS_BLOCK      LL_TEXT_BLOCK
#define ACS_CKBOARD    LL_TEXT_CKBOARD
#define ACS_DIAMOND    LL_TEXT_DIAMOND
#define ACS_BULLET     LL_TEXT_BULLET
#define KEY_UP         LL_KEY_UP
#define KEY_DOWN       LL_KEY_DOWN
#define KEY_LEFT       LL_KEY_LEFT
#define KEY_RIGHT      LL_KEY_RIGHT
#define KEY_HOME       LL_KEY_HOME
#define KEY_END        LL_KEY_END
#define KEY_PPAGE      LL_KEY_PAGE_UP
#define KEY_NPAGE      LL_KEY_PAGE_DOWN
#define KEY_IC         LL_KEY_INSERT
#define KEY_DC         LL_KEY_DELETE
#define KEY_BACKSPACE  '\b'
#define KEY_ENTER      '\n'
#define KEY_F(n)       (LL_KEY_F1 + (n)-1)
/* Set-up calls with nothing to do here: the host owns the terminal. */
static inline int ll_curses_nop_(long ignored)
{
    (void)ignored;
    return OK;
}
#define initscr()            ll_curses_init()
#define endwin()             ll_curses_nop_(0)
#define cbreak()             ll_curses_nop_(0)
#define raw()                ll_curses_nop_(0)
#define noecho()             ll_curses_nop_(0)
#define nonl()               ll_curses_nop_(0)
#define curs_set(v)          ll_curses_nop_(v)
#define keypad(w, b)         ((void)(w), ll_curses_nop_(b))
#define nodelay(w, b)        ((void)(w), ll_curses_nop_(b))
#define timeout(ms)          ((void)ll_curses_nop_(ms))
#define wtimeout(w, ms)      ((void)(w), (void)ll_curses_nop_(ms))
#define halfdelay(t)         ll_curses_nop_(t)
#define start_color()        ll_curses_nop_(0)
#define use_default_colors() ll_curses_nop_(0)
#define has_colors()         TRUE
#define refresh()            ll_curses_nop_(0)
#define wrefresh(w)          ((void)(w), ll_curses_nop_(0))
#define wnoutrefresh(w)      ((void)(w), ll_curses_nop_(0))
#define doupdate()           ll_curses_nop_(0)
#define napms(ms)            ll_curses_nop_(ms)
#define beep()               ll_curses_nop_(0)
#define flushinp()           ll_curses_nop_(0)
#define init_pair(n, f, b)   ll_curses_pair_set((n), (f), (b))
#define getch()              ll_curses_key_get()
#define wgetch(w)            ((void)(w), ll_curses_key_get())
#define getmaxyx(w, r, c)    ll_curses_size_get((w), &(r), &(c))
static inline int wattron(WINDOW *w, uint32_t a)
{
    w->attr |= a;
    return OK;
}
static inline int wattroff(WINDOW *w, uint32_t a)
{
    w->attr &= ~a;
    return OK;
}
static inline int wattrset(WINDOW *w, uint32_t a)
{
    w->attr = a;
    return OK;
}
static inline int wmove(WINDOW *w, int y, int x)
{
    w->cy = y, w->cx = x;
    return OK;
}
#define attron(a)                wattron(stdscr, a)
#define attroff(a)               wattroff(stdscr, a)
#define attrset(a)               wattrset(stdscr, a)
#define move(r, c)               wmove(stdscr, r, c)
#define mvwaddch(w, r, c, ch)    ll_curses_char_put((w), (r), (c), (uint32_t)(ch))
#define waddch(w, ch)            ll_curses_char_put((w), -1, -1, (uint32_t)(ch))
#define mvaddch(r, c, ch)        mvwaddch(stdscr, r, c, ch)
#define addch(ch)                waddch(stdscr, ch)
#define mvwprintw(w, r, c, ...)  ll_curses_print((w), (r), (c), __VA_ARGS__)
#define wprintw(w, ...)          ll_curses_print((w), -1, -1, __VA_ARGS__)
#define mvprintw(r, c, ...)      ll_curses_print(stdscr, (r), (c), __VA_ARGS__)
#define printw(...)              ll_curses_print(stdscr, -1, -1, __VA_ARGS__)
#define mvwaddstr(w, r, c, s)    ll_curses_print((w), (r), (c), "%s", (s))
#define waddstr(w, s)            ll_curses_print((w), -1, -1, "%s", (s))
#define mvaddstr(r, c, s)        mvwaddstr(stdscr, r, c, s)
#define addstr(s)                waddstr(stdscr, s)
#define werase(w)                ll_curses_erase(w)
#define wclear(w)                ll_curses_erase(w)
#define erase()                  werase(stdscr)
#define clear()                  werase(stdscr)
#define box(w, v, h)             ll_curses_box_draw((w), (uint32_t)(v), (uint32_t)(h))
#define mvwhline(w, r, c, ch, n) ll_curses_line_draw((w), (r), (c), (uint32_t)(ch), (n), 0)
#define mvwvline(w, r, c, ch, n) ll_curses_line_draw((w), (r), (c), (uint32_t)(ch), (n), 1)
#define mvhline(r, c, ch, n)     mvwhline(stdscr, r, c, ch, n)
#define mvvline(r, c, ch, n)     mvwvline(stdscr, r, c, ch, n)
/* A window is the program's own memory (its malloc): kept with its state. */
static inline WINDOW *newwin(int h, int w, int y, int x)
{
    WINDOW *win = (WINDOW *)calloc(1, sizeof *win);
    if (win) win->h = h, win->w = w, win->y = y, win->x = x;
    return win;
}
static inline int delwin(WINDOW *w)
{
    free(w);
    return OK;
}
#endif /* LOOPLIVE_CURSES */

#endif /* LOOPLIVE_TEXT_H */
