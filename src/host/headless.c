/* headless.c - the platform with no I/O: input only from scripted keys,
 * the canvas kept in memory (for tests, CI and `looplive run` without a
 * terminal). */
#include "host/host.h"
#include "base/base.h"

#include <stdlib.h>
#include <string.h>

typedef struct headless_state {
    int pixels;
    ll_canvas canvas;
} headless_state;

static int headless_open(host_platform *p, int width, int height, int scale, ll_canvas *canvas,
                         ll_error *err)
{
    headless_state *h = p->state;
    if (!h) return ll_fail(err, ENOMEM, "out of memory for the headless platform");
    /* The defaults match the other platforms: an 80x24 terminal less its
     * status lines, or the SDL window's 640x360. */
    int w = width > 0 ? width : h->pixels ? 640 : 80;
    int ht = height > 0 ? height : h->pixels ? 360 : 24 - p->status_lines;
    size_t n = (size_t)w * (size_t)ht;
    ll_canvas c = {.width = w, .height = ht};
    if (h->pixels)
        c.pixels = calloc(n, sizeof *c.pixels);
    else
        c.cells = calloc(n, 1), c.colors = calloc(n, 1);
    if (h->pixels ? !c.pixels : !c.cells || !c.colors) {
        free(c.pixels), free(c.cells), free(c.colors);
        return ll_fail(err, ENOMEM, "out of memory for a %dx%d canvas", w, ht);
    }
    h->canvas = c;
    *canvas = c;
    return 0;
}

static int headless_poll(host_platform *p, ll_platform_input *in, host_presses *presses)
{
    /* Keys come from --keys and ll_host_press only: the platform holds none. */
    memset(in->keys, 0, sizeof in->keys);
    memset(in->pressed, 0, sizeof in->pressed);
    return 0;
}

static void headless_present(host_platform *p, const ll_canvas *canvas, const char *status,
                             const host_bar *bar)
{
}

static int headless_read_back(host_platform *p, uint32_t *pixels, int width, int height)
{
    headless_state *h = p->state;
    if (!h->canvas.pixels || width != h->canvas.width || height != h->canvas.height) return -1;
    memcpy(pixels, h->canvas.pixels, (size_t)width * (size_t)height * sizeof *pixels);
    return 0;
}

/* Sound is made and dropped: --audio --platform sdl runs the application's
 * audio code headless too. */
static uint32_t headless_audio_open(host_platform *p, ll_error *err)
{
    return 48000;
}

static uint32_t headless_audio_queued(host_platform *p)
{
    return 0;
}

static void headless_audio_queue(host_platform *p, const int16_t *samples, uint32_t frames) {}

static void headless_close(host_platform *p)
{
    headless_state *h = p->state;
    if (h) free(h->canvas.pixels), free(h->canvas.cells), free(h->canvas.colors), free(h);
    p->state = NULL;
}

void host_platform_headless(host_platform *p, int pixels)
{
    headless_state *h = calloc(1, sizeof *h);
    if (h) h->pixels = pixels;
    *p = (host_platform){.name = "headless",
                         .open = headless_open,
                         .poll = headless_poll,
                         .present = headless_present,
                         .read_back = headless_read_back,
                         .close = headless_close,
                         .state = h};
    /* As the platform it stands for: SDL has sound, the terminal none. */
    if (pixels) {
        p->audio_open = headless_audio_open;
        p->audio_queued = headless_audio_queued;
        p->audio_queue = headless_audio_queue;
    }
}
