/* host.h - the platforms a host drives, and the helpers they share. */
#ifndef LL_HOST_H
#define LL_HOST_H

#include "looplive.h"

/* Lines under the canvas: the timeline bar, then the overlay's two lines
 * (the status and the error or hint). */
#define HOST_STATUS_LINES LL_HOST_STATUS_LINES

/* Key presses waiting for a frame. Every key event a platform, a script or
 * ll_host_press delivers is one press, kept in order: none is merged with
 * another or lost (a frame takes at most one press of each key, the rest
 * wait for the next frames). */
#define HOST_PRESSES 1024
typedef struct host_presses {
    int keys[HOST_PRESSES]; /* key codes, with LL_KEY_ALT for the host's keys */
    size_t head, count;
} host_presses;

/* Appends a press (the oldest is dropped when 1024 wait: a stuck frame). */
void host_presses_push(host_presses *q, int key);

/* ---- the timeline bar (bar.c) ------------------------------------------
 *
 * Under the picture: the selected slot's recording from its first frame to
 * its last, where the loop is in it, and a mark per frame when something
 * (a re-simulation after a code change) knows whether the frame came out
 * the same. The host fills one host_bar per frame; the platforms draw it.
 * Marks are set per slot with host_bar_marks_set (host.c). */
enum {
    HOST_MARK_NONE = 0,    /* nothing known: grey */
    HOST_MARK_SAME = 1,    /* the frame's state is what it was: green */
    HOST_MARK_CHANGED = 2, /* the frame's state differs: red, '#' */
};

typedef struct host_bar {
    uint64_t frames;        /* frames of the recording; 0: an empty bar */
    uint64_t pos;           /* frames played: 0 (the start) .. frames (the end) */
    const uint8_t *marks;   /* HOST_MARK_* of frame f at marks[f], or NULL */
    uint64_t mark_count;    /* marks held; frames past them have none */
    uint64_t first_changed; /* the frame to point at ('!', a yellow notch);
                               UINT64_MAX: none */
} host_bar;

/* The bar as cols terminal cells and their colours (0-15, as ll_canvas):
 * '=' played, '-' ahead, '#' a column holding a changed frame, '!' the
 * column of first_changed, '|' the position. A column stands for
 * frames/cols frames (at least one). */
void host_bar_cells(const host_bar *bar, int cols, char *cells, uint8_t *colors);

/* The bar as a strip of width x rows pixels (ARGB): played lighter than
 * ahead, grey / green / red by mark, a yellow notch over first_changed, a
 * white line at the position. */
void host_bar_pixels(const host_bar *bar, uint32_t *pixels, int width, int rows);

/* The position a click or a drag at column x of a bar width columns wide
 * asks for: 0 at the left edge, frames at the right one. */
uint64_t host_bar_frame_at(const host_bar *bar, int x, int width);

/* The bar the host shows this frame: the selected slot's recording, the
 * loop's place in it, the marks set for it. */
host_bar host_bar_now(const ll_host *host);

/* Sets the marks of slot's recording shown on the bar (copied; count 0
 * clears them) and the first changed frame (UINT64_MAX: none). Marks
 * outlive a seek and a loop pass; recording into the slot again, or
 * cutting it, drops those past its new end. Returns -1 on a bad slot or
 * out of memory. */
int host_bar_marks_set(ll_host *host, int slot, const uint8_t *marks, uint64_t count,
                       uint64_t first_changed);

/* A platform: where input comes from and where the canvas goes. One frame
 * is poll (fills the platform input, may ask to quit), then present. */
typedef struct host_platform host_platform;
struct host_platform {
    const char *name;
    /* Makes the canvas (cells or pixels) of the requested size (0: choose). */
    int (*open)(host_platform *p, int width, int height, int scale, ll_canvas *canvas,
                ll_error *err);
    /* Sets in's held keys (keys[]), mouse and controllers for this frame,
     * and appends each key press to presses; returns 1 when the user closed
     * it. */
    int (*poll)(host_platform *p, ll_platform_input *in, host_presses *presses);
    /* Names the window after the application (may be NULL). */
    void (*title)(host_platform *p, const char *title);
    /* Shows the canvas, the timeline bar and the status (lines separated by
     * '\n'); status and bar are NULL without the overlay. */
    void (*present)(host_platform *p, const ll_canvas *canvas, const char *status,
                    const host_bar *bar);
    /* Copies what is on screen now into pixels (width * height), if it can. */
    int (*read_back)(host_platform *p, uint32_t *pixels, int width, int height);
    /* Sound (may be NULL): opens the device, returns its rate or 0 ... */
    uint32_t (*audio_open)(host_platform *p, ll_error *err);
    /* ... stereo frames still waiting to be played ... */
    uint32_t (*audio_queued)(host_platform *p);
    /* ... and queues frames more (interleaved left, right). */
    void (*audio_queue)(host_platform *p, const int16_t *samples, uint32_t frames);
    void (*close)(host_platform *p);
    void *state;
    char note[LL_ERROR_MSG]; /* what open changed from what was asked, for the overlay */
    int status_lines;        /* lines the status takes under the canvas: 0 without overlay */
    int cells;               /* sdl: a canvas of cells, shown as ll_canvas_pixels_render draws it */
};

/* The platforms; each fills a host_platform. */
void host_platform_terminal(host_platform *p);
/* Headless: no I/O; a canvas of cells (like the terminal) or of pixels
 * (like SDL), so that a headless run draws what that platform would. */
void host_platform_headless(host_platform *p, int pixels);
void host_platform_sdl(host_platform *p);

/* Terminal helpers, exposed for tests. */
/* Parses the bytes a terminal sent into key codes (ASCII, LL_KEY_*, with
 * LL_KEY_ALT for ESC before a key, which is what Alt+key sends); returns
 * how many keys it wrote into keys (at most cap). */
int host_term_parse_keys(const unsigned char *bytes, size_t n, int *keys, int cap);
/* Renders a cell canvas, the timeline bar (NULL: none) and the status
 * lines as one ANSI frame for a terminal of cols x rows into buf; returns
 * the length (at most cap). */
size_t host_term_render(const ll_canvas *canvas, const char *status, const host_bar *bar, int cols,
                        int rows, char *buf, size_t cap);

/* Draws text with the built-in font (5x7, and a row for descenders) into a
 * pixel canvas at (x, y); '\n' starts a line 9 pixels lower. */
void host_font_draw(uint32_t *pixels, int width, int height, int x, int y, const char *text,
                    uint32_t fg);

/* One text cell into pixels at (px, py): LL_TEXT_CELL_W x LL_TEXT_CELL_H
 * pixels of ch in style (the font, or lines and blocks for line drawing). */
void host_text_cell_draw(uint32_t *pixels, int width, int height, int px, int py, uint32_t ch,
                         ll_text_style style);
/* The code point at *s (UTF-8), moving *s past it; a byte that is not
 * UTF-8 is '?' and moves one byte. */
uint32_t host_utf8_next(const char **s);
/* Writes ch as UTF-8 into out (4 bytes); returns the length. */
size_t host_utf8_put(uint32_t ch, char *out);

/* Writes pixels as a binary PPM (P6), or cells as text lines. */
int host_write_ppm(const char *path, const uint32_t *pixels, int width, int height, ll_error *err);
int host_write_cells(const char *path, const ll_canvas *canvas, ll_error *err);

/* Rebuilds on change: an inotify watch on every directory under dir, and the
 * build command run in the background. */
typedef struct host_builder host_builder;
host_builder *host_builder_open(const char *dir, const char *cmd, ll_error *err);
/* Checks for changes and a finished build, without blocking. Returns 1 when
 * a build just succeeded, -1 when one just failed (err holds the compiler's
 * first error line and the log's path), 0 otherwise. */
int host_builder_poll(host_builder *b, ll_error *err);
/* 1 while a build runs. */
int host_builder_busy(const host_builder *b);
/* The last build's whole output, as a path that reads it while this
 * process runs ("/proc/PID/fd/N": the file has no other name). */
const char *host_builder_log(const host_builder *b);
void host_builder_close(host_builder *b);

/* compare.c: what each reload did across the recordings: the current
 * slot, and every slotN.llrec of the slot directory, re-simulated with the
 * previous build and the new one (ll_resim) while the frames go on. */
#define HOST_COMPARE_SLOTS 10 /* [0] the current slot, [1..9] the slot files */
typedef struct host_compare {
    ll_resim *cur; /* the current slot's */
    int slot;      /* which slot cur compares */
    ll_resim *files[HOST_COMPARE_SLOTS];
    int failed_seen[HOST_COMPARE_SLOTS]; /* [s]'s failure was shown ([0]: cur's) */
    int files_reported;                  /* the slot files' line was shown */
    uint64_t old_version;                /* the build before the last reload; 0: none yet */
    uint64_t version;                    /* the build it loaded; 0: rolled back since */
    ll_resim_view *view;                 /* both builds' pictures of one frame (alt+o) */
    int view_slot, view_which;           /* which: 0 the old build's, 1 the new */
    uint64_t view_pos, view_version;
    char view_line[LL_ERROR_MSG];        /* the overlay's second line while the view shows */
    uint64_t marked[HOST_COMPARE_SLOTS]; /* frames compared when the bar last got marks */
    uint64_t marks_tick;
} host_compare;

/* After a reload from old_version: starts the comparisons (each replaces
 * the last one of the same recording, whose hashes it may reuse). error
 * gets the first that could not start, or "". */
void host_compare_reload(host_compare *c, ll_loop *loop, int slot, const char *slot_dir,
                         uint64_t old_version, uint64_t new_version, char *error, size_t cap);

enum { HOST_COMPARE_NOTE = 1, HOST_COMPARE_ERROR = 2 };
/* Once a frame, with the module version in use: takes in what the
 * processes sent (all are dropped once that version is not the one the
 * last reload loaded: a rollback). Returns HOST_COMPARE_NOTE
 * with note set when the slot files' results are all in ("slot 3: changed
 * from frame 210; slot 4: no frame changed"), HOST_COMPARE_ERROR with error
 * set when a re-simulation failed (each once). */
int host_compare_poll(host_compare *c, uint64_t version, char *note, size_t note_cap, char *error,
                      size_t error_cap);

/* " | changed from frame 210" for the overlay while slot is the one
 * compared, else "". */
void host_compare_overlay(const host_compare *c, int slot, char *buf, size_t cap);

/* alt+o: pauses the looping slot and shows the previous build's picture of
 * this frame (made in the background); pressed again, the current build's,
 * and so on while the loop stays on this frame. */
int host_compare_toggle(host_compare *c, ll_loop *loop, int slot, const ll_canvas *canvas,
                        ll_error *err);

/* Once a frame, after render: the view's picture over canvas while it
 * shows (block names the ranges that differ). Returns HOST_COMPARE_ERROR
 * with error set when its process failed. */
int host_compare_view_poll(host_compare *c, ll_loop *loop, int slot, const ll_block *block,
                           ll_canvas *canvas, char *error, size_t cap);

/* The overlay's second line while the view shows, else NULL. */
const char *host_compare_view_line(const host_compare *c);

/* The recording's index of the first frame the last reload changed in
 * slot; -1 with err saying why there is none. */
int host_compare_changed_get(const host_compare *c, int slot, uint64_t *pos, ll_error *err);

/* Hands the comparisons' per-frame marks to the timeline bar. */
void host_compare_marks(host_compare *c, ll_host *h, ll_loop *loop);

void host_compare_close(host_compare *c);

#endif
