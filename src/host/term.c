/* term.c - the terminal platform: ANSI cells out, raw keys in, and the
 * terminal put back the way it was on every exit, crashes included. */
#include "host/host.h"
#include "base/base.h"
#include "base/fault.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

/* A terminal sends no key-up: a key counts as held for this long after its
 * last byte, long enough to bridge autorepeat. (Presses are not derived
 * from this: each key sent is one.) */
#define TERM_HOLD_NS (150ull * 1000 * 1000)

typedef struct term_state {
    int width, height; /* the canvas: the terminal minus the status lines */
    int cols, rows;    /* the terminal now (it may be resized) */
    ll_canvas canvas;  /* ll_canvas_cells_alloc's */
    char *out;
    size_t out_cap;
    uint64_t last_seen[256];
} term_state;

/* What restore needs lives in globals because a signal handler and atexit
 * must reach it; one terminal per process. */
static struct termios term_saved, term_raw;
static volatile sig_atomic_t term_active, term_resized;
static const char term_enter[] = "\x1b[?1049h\x1b[?25l\x1b[2J";
static const char term_leave[] = "\x1b[0m\x1b[?25h\x1b[?1049l";
static volatile sig_atomic_t term_owned; /* between open and close */
static struct sigaction term_old_winch;

static void term_restore(void)
{
    if (!term_active) return;
    term_active = 0;
    /* Only async-signal-safe calls: this runs from signal handlers too. */
    ssize_t w = write(STDOUT_FILENO, term_leave, sizeof term_leave - 1);
    (void)w;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &term_saved);
}

/* After Ctrl-Z and `fg`, or a previous handler that returned: take the
 * terminal again (the next frame redraws everything). */
static void term_resume(void)
{
    if (!term_owned || term_active) return;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &term_raw);
    ssize_t w = write(STDOUT_FILENO, term_enter, sizeof term_enter - 1);
    (void)w;
    term_active = 1;
}

static void term_on_resize(int sig)
{
    term_resized = 1;
}

/* The fault dispatcher restores the terminal before the process dies of a
 * signal, stops, or a previous handler runs (its signals: see fault.h). */
static const fault_client term_client = {.restore = term_restore, .resume = term_resume};

/* The key an escape sequence's final byte (and first number) names:
 * ESC [ A..D arrows, H F home end, ESC O P..S f1-f4, ESC [ N ~ the rest. */
static int term_csi_key(unsigned char final, int num)
{
    static const int tilde[] = {
        [1] = LL_KEY_HOME,    [2] = LL_KEY_INSERT,    [3] = LL_KEY_DELETE,   [4] = LL_KEY_END,
        [5] = LL_KEY_PAGE_UP, [6] = LL_KEY_PAGE_DOWN, [7] = LL_KEY_HOME,     [8] = LL_KEY_END,
        [11] = LL_KEY_F1,     [12] = LL_KEY_F1 + 1,   [13] = LL_KEY_F1 + 2,  [14] = LL_KEY_F1 + 3,
        [15] = LL_KEY_F1 + 4, [17] = LL_KEY_F1 + 5,   [18] = LL_KEY_F1 + 6,  [19] = LL_KEY_F1 + 7,
        [20] = LL_KEY_F1 + 8, [21] = LL_KEY_F1 + 9,   [23] = LL_KEY_F1 + 10, [24] = LL_KEY_F1 + 11,
    };
    switch (final) {
    case 'A':
        return LL_KEY_UP;
    case 'B':
        return LL_KEY_DOWN;
    case 'C':
        return LL_KEY_RIGHT;
    case 'D':
        return LL_KEY_LEFT;
    case 'H':
        return LL_KEY_HOME;
    case 'F':
        return LL_KEY_END;
    case 'P':
    case 'Q':
    case 'R':
    case 'S':
        return LL_KEY_F1 + (final - 'P');
    case '~':
        return num > 0 && num < (int)LL_ARRAY_COUNT(tilde) ? tilde[num] : 0;
    default:
        return 0;
    }
}

/* An escape sequence at b (b[0] is ESC, b[1] '[' or 'O'): its key (with
 * LL_KEY_ALT when its modifier says Alt, as in ESC [ 1 ; 3 C), 0 for one
 * unknown; *len is its length. */
static int term_sequence(const unsigned char *b, size_t n, size_t *len)
{
    int num = 0, mod = 0, *field = &num;
    size_t j = 2;
    for (; j < n && !(b[j] >= 0x40 && b[j] <= 0x7e); j++) {
        if (b[j] >= '0' && b[j] <= '9') *field = *field * 10 + b[j] - '0';
        if (b[j] == ';') field = &mod;
    }
    *len = j < n ? j + 1 : n;
    if (j >= n) return 0;
    int key = term_csi_key(b[j], num);
    /* The modifier is 1 + bits: 1 Shift, 2 Alt, 4 Ctrl. */
    int bits = key && mod > 1 ? mod - 1 : 0;
    return key | (bits & 1 ? LL_KEY_SHIFT : 0) | (bits & 2 ? LL_KEY_ALT : 0) |
           (bits & 4 ? LL_KEY_CTRL : 0);
}

/* One byte as a key: CR and LF are enter, DEL and BS backspace; the other
 * control bytes are Ctrl with a letter (1 ctrl+a) or with space, \\, ], ^
 * or _ (0, 28-31). */
static int term_byte_key(unsigned char c)
{
    if (c == '\r' || c == '\n') return '\n';
    if (c == 127 || c == '\b') return '\b';
    if (c == '\t') return '\t';
    if (c == 0) return LL_KEY_CTRL | ' ';
    if (c < 27) return LL_KEY_CTRL | ('a' + c - 1);
    if (c > 27 && c < 32) return LL_KEY_CTRL | ('\\' + c - 28);
    return c >= 32 && c < 127 ? c : 0;
}

int host_term_parse_keys(const unsigned char *b, size_t n, int *keys, int cap)
{
    int count = 0;
    for (size_t i = 0; i < n && count < cap;) {
        int alt = 0, key = 0;
        size_t len = 1;
        if (b[i] == 0x1b && i + 3 < n && b[i + 1] == 0x1b && (b[i + 2] == '[' || b[i + 2] == 'O')) {
            /* ESC ESC [ ...: Alt with a special key (rxvt, some xterms). */
            key = term_sequence(b + i + 1, n - i - 1, &len);
            key = key ? key | LL_KEY_ALT : 0, len++;
        } else if (b[i] == 0x1b && i + 2 < n && (b[i + 1] == '[' || b[i + 1] == 'O')) {
            key = term_sequence(b + i, n - i, &len);
        } else if (b[i] == 0x1b && i + 1 < n && term_byte_key(b[i + 1])) {
            /* ESC then a key in the same read: what Alt+key sends. */
            alt = LL_KEY_ALT, key = term_byte_key(b[i + 1]), len = 2;
        } else if (b[i] == 0x1b) {
            key = LL_KEY_ESCAPE;
        } else {
            key = term_byte_key(b[i]);
        }
        if (key) keys[count++] = key | alt;
        i += len;
    }
    return count;
}

static void term_free(term_state *t)
{
    if (!t) return;
    ll_canvas_free(&t->canvas);
    free(t->out), free(t);
}

/* The canvas: the requested size, or the terminal less the status lines
 * (all of it without the overlay). */
static term_state *term_alloc(int width, int height, int status, ll_error *err)
{
    struct winsize ws = {0};
    ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws);
    int cols = ws.ws_col ? ws.ws_col : 80, rows = ws.ws_row ? ws.ws_row : 24;
    term_state *t = calloc(1, sizeof *t);
    if (!t) {
        ll_fail(err, ENOMEM, "out of memory for the terminal canvas");
        return NULL;
    }
    t->cols = cols, t->rows = rows;
    t->width = width > 0 && width < cols ? width : cols;
    t->height = height > 0 && height <= rows - status ? height : rows - status;
    if (t->height < 1) t->height = 1;
    size_t cells = (size_t)t->width * (size_t)t->height;
    /* A cell's worst case: a full style change and four bytes of UTF-8. */
    t->out_cap = cells * 32 + 4096;
    t->out = malloc(t->out_cap);
    if (!t->out) ll_fail(err, ENOMEM, "out of memory for the terminal canvas");
    if (!t->out || ll_canvas_cells_alloc(&t->canvas, t->width, t->height, err) != 0) {
        term_free(t);
        return NULL;
    }
    return t;
}

/* Restores on every way out: exit, the signals that end or stop a process
 * (through the fault dispatcher); follows resizes. SIGWINCH is only a
 * notification, not a way out: its handler stays here. */
static int term_install_handlers(ll_error *err)
{
    static int atexit_done;
    if (!atexit_done) atexit(term_restore), atexit_done = 1;
    if (fault_register(&term_client, err) != 0) return -1;
    struct sigaction resize = {.sa_handler = term_on_resize, .sa_flags = SA_RESTART};
    sigemptyset(&resize.sa_mask);
    sigaction(SIGWINCH, &resize, &term_old_winch);
    return 0;
}

static int term_open(host_platform *p, int width, int height, int scale, ll_canvas *canvas,
                     ll_error *err)
{
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
        return ll_fail(err, ENOTTY,
                       "the terminal platform needs a terminal on stdin and stdout (try: "
                       "--headless --frames N, or --platform sdl)");
    term_state *t = term_alloc(width, height, p->status_lines, err);
    if (!t) return -1;
    if (tcgetattr(STDIN_FILENO, &term_saved) != 0) {
        term_free(t);
        return ll_fail(
            err, errno,
            "cannot read the terminal modes: %s (try: --headless --frames N, or --platform sdl)",
            strerror(errno));
    }
    term_raw = term_saved;
    /* Keep ISIG: Ctrl-C still sends SIGINT, and the handler restores. */
    term_raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO | IEXTEN);
    term_raw.c_iflag &= ~(tcflag_t)(IXON | ICRNL);
    term_raw.c_cc[VMIN] = 0;
    term_raw.c_cc[VTIME] = 0;
    if (term_install_handlers(err) != 0) {
        term_free(t);
        return -1;
    }
    term_owned = 1;
    term_active = 1;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &term_raw);
    ssize_t w = write(STDOUT_FILENO, term_enter, sizeof term_enter - 1);
    (void)w;
    *canvas = t->canvas;
    p->state = t;
    return 0;
}

static int term_poll(host_platform *p, ll_platform_input *in, host_presses *presses)
{
    term_state *t = p->state;
    unsigned char bytes[256];
    int keys[256], n = 0;
    ssize_t got = read(STDIN_FILENO, bytes, sizeof bytes);
    if (got > 0) n = host_term_parse_keys(bytes, (size_t)got, keys, 256);
    uint64_t now = ll_now_ns();
    /* Every key a terminal sends is a press (an autorepeat too); a key is
     * down while its bytes keep coming. */
    for (int i = 0; i < n; i++) {
        host_presses_push(presses, keys[i]);
        int index = ll_key_index_get(keys[i]);
        if (index >= 0) t->last_seen[index] = now;
    }
    for (int k = 0; k < 256; k++)
        in->keys[k] = t->last_seen[k] && now - t->last_seen[k] <= TERM_HOLD_NS;
    return 0;
}

static size_t put(char *buf, size_t at, size_t cap, const char *s, size_t n)
{
    if (at + n <= cap) memcpy(buf + at, s, n);
    return at + n <= cap ? at + n : at;
}

/* Appends "ESC [ a ; b final" (b < 0: "ESC [ a final") without printf,
 * which would cost more than the rest of the frame. */
static size_t put_csi(char *buf, size_t at, size_t cap, int a, int b, char final)
{
    char esc[32], digits[12];
    size_t n = 0;
    esc[n++] = 0x1b, esc[n++] = '[';
    for (int pass = 0, v = a; pass < 2; pass++, v = b) {
        if (pass == 1 && b < 0) break;
        if (pass == 1) esc[n++] = ';';
        int d = 0;
        do digits[d++] = (char)('0' + v % 10), v /= 10;
        while (v > 0);
        while (d > 0) esc[n++] = digits[--d];
    }
    esc[n++] = final;
    return put(buf, at, cap, esc, n);
}

/* A cell's colours and attributes as one number: fg, bg (0-16 each; 0 the
 * terminal's own, so that zeroed arrays draw readable text) and attrs. */
static int cell_style(const ll_canvas *c, size_t i)
{
    int fg = c->colors ? c->colors[i] : 0, bg = c->backgrounds ? c->backgrounds[i] : 0;
    int attr = c->attrs ? c->attrs[i] & 7 : 0;
    if (fg > LL_COLOR_BLACK) fg &= 15;
    if (bg > LL_COLOR_BLACK) bg &= 15;
    return fg | bg << 5 | attr << 10;
}

static int sgr_color(int c, int base, int bright)
{
    return c == 0 ? base + 9 : c == LL_COLOR_BLACK ? base : c < 8 ? base + c : bright + c - 8;
}

/* The escape that switches from style `from` to `to`: the foreground alone
 * while neither has a background or attributes (what applications that
 * write only colors get, byte for byte as before), else all of it. */
static size_t put_style(char *buf, size_t at, size_t cap, int to, int from)
{
    int fg = to & 31, bg = (to >> 5) & 31, attr = to >> 10;
    if (!(to >> 5) && (from < 0 || !(from >> 5)))
        return put_csi(buf, at, cap, sgr_color(fg, 30, 90), -1, 'm');
    char esc[48];
    int n = snprintf(esc, sizeof esc, "\x1b[0%s%s%s;%d;%dm", attr & LL_ATTR_BOLD ? ";1" : "",
                     attr & LL_ATTR_UNDERLINE ? ";4" : "", attr & LL_ATTR_REVERSE ? ";7" : "",
                     sgr_color(fg, 30, 90), sgr_color(bg, 40, 100));
    return put(buf, at, cap, esc, (size_t)n);
}

/* The bar's row: one cell per column, in its colours. */
static size_t put_bar(const host_bar *bar, int row, int cols, char *buf, size_t at, size_t cap)
{
    char cells[512];
    uint8_t colors[512];
    if (cols > (int)sizeof cells) cols = (int)sizeof cells;
    host_bar_cells(bar, cols, cells, colors);
    at = put_csi(buf, at, cap, row, 1, 'H');
    at = put(buf, at, cap, "\x1b[0m", 4);
    for (int x = 0, current = -1; x < cols; x++) {
        if (colors[x] != current) {
            current = colors[x];
            at = put_csi(buf, at, cap, sgr_color(current, 30, 90), -1, 'm');
        }
        at = put(buf, at, cap, &cells[x], 1);
    }
    return put(buf, at, cap, "\x1b[0m", 4);
}

size_t host_term_render(const ll_canvas *c, const char *status, const host_bar *bar, int cols,
                        int rows, char *buf, size_t cap)
{
    char esc[32];
    size_t at = 0;
    /* A terminal made smaller than the canvas shows its top left part. */
    int w = c->width < cols ? c->width : cols;
    int lines = (status ? HOST_STATUS_LINES - 1 : 0) + (bar ? 1 : 0);
    int h = c->height < rows - lines ? c->height : rows - lines;
    if (w < 0) w = 0;
    if (h < 0) h = 0;
    for (int y = 0; y < h; y++) {
        int current = -1;
        at = put_csi(buf, at, cap, y + 1, 1, 'H');
        for (int x = 0; x < w; x++) {
            size_t i = (size_t)y * (size_t)c->width + (size_t)x;
            int style = cell_style(c, i);
            if (style != current) at = put_style(buf, at, cap, style, current), current = style;
            uint32_t cp = c->codepoints ? c->codepoints[i] : 0;
            char ch = c->cells[i], utf8[4];
            if ((unsigned char)ch < 32 || ch == 127) ch = ' ';
            size_t len = cp >= 128 ? host_utf8_put(cp, utf8) : 0;
            at = len ? put(buf, at, cap, utf8, len) : put(buf, at, cap, &ch, 1);
        }
    }
    /* The bar right under the canvas, then the status: one line per '\n';
     * the first in reverse video, the next (the error or a hint) in yellow. */
    if (bar && h + 1 <= rows) at = put_bar(bar, h + 1, cols, buf, at, cap);
    int top = h + (bar ? 1 : 0);
    for (int line = 0; status && *status; line++) {
        size_t len = strcspn(status, "\n"), show = len < (size_t)cols ? len : (size_t)cols;
        if (top + 1 + line > rows) break;
        int n = snprintf(esc, sizeof esc, "\x1b[%d;1H\x1b[0;%sm", top + 1 + line,
                         line == 0 ? "7" : "93");
        at = put(buf, at, cap, esc, (size_t)n);
        at = put(buf, at, cap, status, show);
        at = put(buf, at, cap, "\x1b[K\x1b[0m", 7);
        status += len + (status[len] == '\n');
    }
    return at;
}

static void term_present(host_platform *p, const ll_canvas *canvas, const char *status,
                         const host_bar *bar)
{
    term_state *t = p->state;
    if (term_resized) {
        term_resized = 0;
        struct winsize ws = {0};
        if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col && ws.ws_row)
            t->cols = ws.ws_col, t->rows = ws.ws_row;
        ssize_t w = write(STDOUT_FILENO, "\x1b[0m\x1b[2J", 8);
        (void)w;
    }
    size_t n = host_term_render(canvas, status, bar, t->cols, t->rows, t->out, t->out_cap);
    for (size_t at = 0; at < n;) {
        ssize_t w = write(STDOUT_FILENO, t->out + at, n - at);
        if (w <= 0) break;
        at += (size_t)w;
    }
}

static void term_close(host_platform *p)
{
    term_state *t = p->state;
    if (!t) return;
    term_owned = 0;
    term_restore();
    fault_unregister(&term_client);
    sigaction(SIGWINCH, &term_old_winch, NULL);
    term_free(t);
    p->state = NULL;
}

void host_platform_terminal(host_platform *p)
{
    *p = (host_platform){.name = "terminal",
                         .open = term_open,
                         .poll = term_poll,
                         .present = term_present,
                         .close = term_close};
}
