/* bar.c - the timeline bar under the picture: where the loop is in the
 * selected slot's recording, and what is known of each frame (marks a
 * re-simulation sets: unchanged or changed by the last code change). One
 * model (host_bar), drawn as a row of cells for the terminal and as a
 * strip of pixels for SDL. */
#include "host/host.h"
#include "base/base.h"

#include <string.h>

/* The frames column x of width columns stands for: [*lo, *hi). */
static void column_frames(const host_bar *bar, int x, int width, uint64_t *lo, uint64_t *hi)
{
    *lo = bar->frames * (uint64_t)x / (uint64_t)width;
    *hi = bar->frames * (uint64_t)(x + 1) / (uint64_t)width;
    if (*hi <= *lo) *hi = *lo + 1; /* fewer columns than frames: each has one */
}

/* A column's mark: changed when any of its frames changed, unchanged when
 * all of them are known unchanged, else none. */
static int column_mark(const host_bar *bar, uint64_t lo, uint64_t hi)
{
    if (!bar->marks) return HOST_MARK_NONE;
    int same = 1;
    for (uint64_t f = lo; f < hi; f++) {
        int m = f < bar->mark_count ? bar->marks[f] : HOST_MARK_NONE;
        if (m == HOST_MARK_CHANGED) return HOST_MARK_CHANGED;
        if (m != HOST_MARK_SAME) same = 0;
    }
    return same ? HOST_MARK_SAME : HOST_MARK_NONE;
}

/* The column the position is drawn in. */
static int position_column(const host_bar *bar, int width)
{
    if (!bar->frames) return 0;
    uint64_t x = bar->pos * (uint64_t)width / bar->frames;
    return x >= (uint64_t)width ? width - 1 : (int)x;
}

uint64_t host_bar_frame_at(const host_bar *bar, int x, int width)
{
    if (width <= 0 || x <= 0 || !bar->frames) return 0;
    if (x >= width - 1) return bar->frames;
    return bar->frames * (uint64_t)x / (uint64_t)(width - 1);
}

void host_bar_cells(const host_bar *bar, int cols, char *cells, uint8_t *colors)
{
    /* Colours of the terminal's 16: grey, green, red; the position bright white. */
    static const uint8_t played[] = {7, 2, 1}, ahead[] = {8, 2, 1};
    if (cols <= 0) return;
    memset(cells, ' ', (size_t)cols);
    memset(colors, 0, (size_t)cols);
    if (!bar->frames) return;
    int at = position_column(bar, cols);
    for (int x = 0; x < cols; x++) {
        uint64_t lo, hi;
        column_frames(bar, x, cols, &lo, &hi);
        int mark = column_mark(bar, lo, hi);
        int before = lo < bar->pos;
        cells[x] = mark == HOST_MARK_CHANGED ? '#' : before ? '=' : '-';
        colors[x] = before ? played[mark] : ahead[mark];
        if (bar->first_changed >= lo && bar->first_changed < hi) cells[x] = '!', colors[x] = 9;
    }
    cells[at] = '|';
    colors[at] = 15;
}

void host_bar_pixels(const host_bar *bar, uint32_t *pixels, int width, int rows)
{
    static const uint32_t played[] = {0xff8a8a8a, 0xff40b040, 0xffe04040};
    static const uint32_t ahead[] = {0xff3a3a3a, 0xff205820, 0xff702020};
    for (int i = 0; i < width * rows; i++) pixels[i] = 0xff181818;
    if (!bar->frames || width <= 0 || rows < 3) return;
    int at = position_column(bar, width);
    for (int x = 0; x < width; x++) {
        uint64_t lo, hi;
        column_frames(bar, x, width, &lo, &hi);
        int mark = column_mark(bar, lo, hi);
        uint32_t c = lo < bar->pos ? played[mark] : ahead[mark];
        int first = bar->first_changed >= lo && bar->first_changed < hi;
        for (int y = 1; y < rows - 1; y++) {
            uint32_t px = c;
            if (first && y < 3) px = 0xffffd040; /* a notch on top: the first change */
            if (x == at || (x == at + 1 && at + 1 < width)) px = 0xffffffff;
            pixels[(size_t)y * (size_t)width + (size_t)x] = px;
        }
    }
}
