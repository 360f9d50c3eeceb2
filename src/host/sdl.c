/* sdl.c - the SDL2 platform: a window showing the application's pixels,
 * keyboard, mouse and game controllers. libSDL2 is opened with dlopen when
 * this platform starts, so liblooplive and the looplive command do not
 * depend on it: a terminal-only user needs no SDL2 installed. Only SDL's
 * headers are needed to build. */
#include "host/host.h"
#include "base/base.h"

#include <SDL2/SDL.h>
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#define SDL_LIB         "libSDL2-2.0.so.0"
#define SDL_RING_FRAMES 16384                       /* about a third of a second at 48 kHz */
#define STATUS_ROWS     (HOST_STATUS_LINES * 9 + 2) /* pixels under the canvas: bar and status */
#define BAR_ROWS        9                           /* the bar: the first rows of those */

/* The SDL calls this platform makes, bound by name. */
#define SDL_FUNCS(X)                                                                               \
    X(SDL_Init)                                                                                    \
    X(SDL_InitSubSystem)                                                                           \
    X(SDL_Quit)                                                                                    \
    X(SDL_GetError)                                                                                \
    X(SDL_CreateWindow)                                                                            \
    X(SDL_DestroyWindow)                                                                           \
    X(SDL_GetWindowSurface)                                                                        \
    X(SDL_UpdateWindowSurface)                                                                     \
    X(SDL_LockSurface)                                                                             \
    X(SDL_UnlockSurface)                                                                           \
    X(SDL_ConvertPixels)                                                                           \
    X(SDL_PollEvent)                                                                               \
    X(SDL_IsGameController)                                                                        \
    X(SDL_GameControllerOpen)                                                                      \
    X(SDL_GameControllerClose)                                                                     \
    X(SDL_SetWindowTitle)                                                                          \
    X(SDL_GetDisplayUsableBounds)                                                                  \
    X(SDL_OpenAudioDevice)                                                                         \
    X(SDL_CloseAudioDevice)                                                                        \
    X(SDL_PauseAudioDevice)                                                                        \
    X(SDL_LockAudioDevice)                                                                         \
    X(SDL_UnlockAudioDevice)

typedef struct sdl_state {
    void *dl;
#define SDL_FIELD(name) __typeof__(&name) name;
    SDL_FUNCS(SDL_FIELD)
#undef SDL_FIELD
    SDL_Window *window;
    SDL_GameController *pads[4];
    int width, height, scale; /* the picture, in pixels */
    uint32_t *canvas;         /* width * height: what the application draws, as pixels */
    ll_canvas cells;          /* with p->cells: the cells it draws into */
    uint32_t *strip;          /* width * STATUS_ROWS: the status lines */
    uint32_t *frame;          /* the window's pixels: the canvas and the status, scaled */
    int frame_w, frame_h;
    SDL_AudioDeviceID audio; /* 0: no sound */
    /* Frames the host made and the device has not played yet: a ring of
     * stereo frames, filled by the frame loop, drained by SDL's thread
     * (both under the device lock). */
    int16_t ring[2 * SDL_RING_FRAMES];
    uint32_t ring_head, ring_count;
    uint32_t release_next; /* mouse buttons released in the poll they went down in */
} sdl_state;

static int sdl_bind(sdl_state *s, ll_error *err)
{
    /* LOOPLIVE_SDL_LIB names another build of SDL2 (or a missing one, in
     * tests). */
    const char *lib = getenv("LOOPLIVE_SDL_LIB");
    if (!lib || !*lib) lib = SDL_LIB;
    s->dl = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (!s->dl)
        return ll_fail(err, ENOENT, "cannot load %s: %s (try: apt-get install libsdl2-2.0-0)", lib,
                       dlerror());
#define SDL_BIND(name)                                                                             \
    s->name = (__typeof__(s->name))dlsym(s->dl, #name);                                            \
    if (!s->name) {                                                                                \
        ll_fail(err, ENOENT, "%s lacks %s (SDL 2.0.10 or later is needed)", lib, #name);           \
        return -1;                                                                                 \
    }
    SDL_FUNCS(SDL_BIND)
#undef SDL_BIND
    return 0;
}

static void sdl_close(host_platform *p)
{
    sdl_state *s = p->state;
    if (!s) return;
    for (int i = 0; i < 4; i++)
        if (s->pads[i]) s->SDL_GameControllerClose(s->pads[i]);
    if (s->audio) s->SDL_CloseAudioDevice(s->audio);
    if (s->window) s->SDL_DestroyWindow(s->window);
    if (s->SDL_Quit) s->SDL_Quit();
    /* libSDL2 stays loaded: unloading it while its X11 or audio threads may
     * still run is how hosts crash on exit. */
    free(s->canvas);
    free(s->cells.cells);
    free(s->cells.colors);
    free(s->frame);
    free(s->strip);
    free(s);
    p->state = NULL;
}

/* A scale whose window does not fit the screen (the desktop less its
 * panels) comes down until it does; the canvas keeps its size. */
static void fit_screen(sdl_state *s, host_platform *p)
{
    SDL_Rect r;
    if (s->SDL_GetDisplayUsableBounds(0, &r) != 0 || r.w <= 0 || r.h <= 0) return;
    int asked = s->scale;
    while (s->scale > 1 &&
           (s->width * s->scale > r.w || (s->height + STATUS_ROWS) * s->scale > r.h))
        s->scale--;
    if (s->scale != asked)
        snprintf(p->note, sizeof p->note,
                 "--scale %d makes a %dx%d window, more than the %dx%d screen: scale %d", asked,
                 s->width * asked, (s->height + STATUS_ROWS) * asked, r.w, r.h, s->scale);
}

static void sdl_title(host_platform *p, const char *title)
{
    sdl_state *s = p->state;
    s->SDL_SetWindowTitle(s->window, title);
}

static int sdl_open(host_platform *p, int width, int height, int scale, ll_canvas *canvas,
                    ll_error *err)
{
    sdl_state *s = calloc(1, sizeof *s);
    if (!s) return ll_fail(err, ENOMEM, "out of memory for the SDL platform");
    p->state = s;
    /* Cells: as many as a headless run of a text application gets. */
    s->width = width > 0 ? width : p->cells ? 80 : 640;
    s->height = height > 0 ? height : p->cells ? 24 - p->status_lines : 360;
    s->scale = scale > 0 ? scale : 1;
    if (p->cells) {
        size_t n = (size_t)s->width * (size_t)s->height;
        s->cells = (ll_canvas){.width = s->width, .height = s->height};
        s->cells.cells = malloc(n), s->cells.colors = calloc(n, 1);
        if (!s->cells.cells || !s->cells.colors)
            return ll_fail(err, ENOMEM, "out of memory for a %dx%d canvas", s->width, s->height);
        memset(s->cells.cells, ' ', n);
        ll_canvas_pixels_size_get(&s->cells, &s->width, &s->height);
    }
    /* (The SDL_Init test is for the static analyser, which loses track of
     * the binding.) */
    if (sdl_bind(s, err) != 0 || !s->SDL_Init) return -1;
    if (s->SDL_Init(SDL_INIT_VIDEO) != 0)
        return ll_fail(err, EIO,
                       "cannot start SDL video: %s (try: a desktop session, xvfb-run, "
                       "or --headless)",
                       s->SDL_GetError());
    fit_screen(s, p);
    s->frame_w = s->width * s->scale;
    s->frame_h = (s->height + STATUS_ROWS) * s->scale;
    s->canvas = calloc((size_t)s->width * (size_t)s->height, sizeof *s->canvas);
    s->frame = calloc((size_t)s->frame_w * (size_t)s->frame_h, sizeof *s->frame);
    s->strip = calloc((size_t)s->width * STATUS_ROWS, sizeof *s->strip);
    if (!s->canvas || !s->frame || !s->strip)
        return ll_fail(err, ENOMEM, "out of memory for the SDL canvas");
    /* Controllers are optional: a machine without them still runs. */
    s->SDL_InitSubSystem(SDL_INIT_GAMECONTROLLER);
    s->window = s->SDL_CreateWindow("looplive", SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED,
                                    s->frame_w, s->frame_h, SDL_WINDOW_SHOWN);
    if (!s->window)
        return ll_fail(err, EIO,
                       "cannot open a %dx%d window: %s (try: a smaller --scale, or --headless)",
                       s->frame_w, s->frame_h, s->SDL_GetError());
    *canvas = p->cells ? s->cells
                       : (ll_canvas){.width = s->width, .height = s->height, .pixels = s->canvas};
    return 0;
}

/* SDL's key to ours (-1: none): the character for printable keys, shifted
 * where the key is typed shifted for the host's keys (?, +). */
static int map_key(SDL_Keycode sym, Uint16 mod)
{
    static const struct {
        SDL_Keycode sym;
        int key;
    } special[] = {
        {SDLK_UP, LL_KEY_UP},          {SDLK_DOWN, LL_KEY_DOWN},
        {SDLK_LEFT, LL_KEY_LEFT},      {SDLK_RIGHT, LL_KEY_RIGHT},
        {SDLK_ESCAPE, LL_KEY_ESCAPE},  {SDLK_RETURN, '\n'},
        {SDLK_KP_ENTER, '\n'},         {SDLK_TAB, '\t'},
        {SDLK_BACKSPACE, '\b'},        {SDLK_DELETE, LL_KEY_DELETE},
        {SDLK_HOME, LL_KEY_HOME},      {SDLK_END, LL_KEY_END},
        {SDLK_PAGEUP, LL_KEY_PAGE_UP}, {SDLK_PAGEDOWN, LL_KEY_PAGE_DOWN},
        {SDLK_INSERT, LL_KEY_INSERT},  {SDLK_KP_PLUS, '+'},
        {SDLK_KP_MINUS, '-'},          {SDLK_KP_PERIOD, '.'},
    };
    for (size_t i = 0; i < LL_ARRAY_COUNT(special); i++)
        if (special[i].sym == sym) return special[i].key;
    if (sym >= SDLK_F1 && sym <= SDLK_F12) return LL_KEY_F1 + (int)(sym - SDLK_F1);
    if (sym == SDLK_SLASH && (mod & KMOD_SHIFT)) return '?';
    if (sym == SDLK_EQUALS && (mod & KMOD_SHIFT)) return '+';
    return sym >= 32 && sym < 127 ? (int)sym : -1;
}

static void pad_event(sdl_state *s, const SDL_Event *e, ll_platform_input *in)
{
    if (e->type == SDL_CONTROLLERDEVICEADDED) {
        int i = e->cdevice.which;
        if (i >= 0 && i < 4 && !s->pads[i] && s->SDL_IsGameController(i))
            s->pads[i] = s->SDL_GameControllerOpen(i);
    } else if (e->type == SDL_CONTROLLERAXISMOTION && e->caxis.axis < 6) {
        in->axes[e->caxis.axis] = e->caxis.value;
    } else if (e->type == SDL_CONTROLLERBUTTONDOWN && e->cbutton.button < 32) {
        in->buttons |= 1u << e->cbutton.button;
    } else if (e->type == SDL_CONTROLLERBUTTONUP && e->cbutton.button < 32) {
        in->buttons &= ~(1u << e->cbutton.button);
    }
}

/* Every key down is a press, an autorepeat too (as in a terminal, so that
 * holding alt+. steps on either platform); with Alt it is the host's, and
 * is not held for the application. */
static void key_event(const SDL_KeyboardEvent *e, ll_platform_input *in, host_presses *presses)
{
    int k = map_key(e->keysym.sym, e->keysym.mod);
    if (k < 0) return;
    int alt = e->keysym.mod & KMOD_ALT ? LL_KEY_ALT : 0;
    if (e->type == SDL_KEYUP) {
        in->keys[k] = 0;
        return;
    }
    host_presses_push(presses, k | alt);
    if (!alt) in->keys[k] = 1;
}

/* A click shorter than a frame (down and up in one poll) still shows the
 * button held for one frame: its release waits for the next poll. */
/* The mouse at window pixel (x, y), in canvas units: pixels, or cells. */
static void mouse_at(const host_platform *p, int x, int y, ll_platform_input *in)
{
    const sdl_state *s = p->state;
    in->mouse_x = x / s->scale / (p->cells ? LL_CELL_WIDTH : 1);
    in->mouse_y = y / s->scale / (p->cells ? LL_CELL_HEIGHT : 1);
}

static void mouse_button(host_platform *p, const SDL_MouseButtonEvent *e, ll_platform_input *in,
                         uint32_t *went_down)
{
    /* SDL numbers left 1, middle 2, right 3; ours: left, right, middle. */
    static const int bit[] = {0, 0, 2, 1, 3, 4};
    sdl_state *s = p->state;
    uint32_t b = e->button < 6 ? 1u << bit[e->button] : 0;
    mouse_at(p, e->x, e->y, in);
    if (e->type == SDL_MOUSEBUTTONDOWN) {
        in->mouse_buttons |= b;
        *went_down |= b;
    } else if (*went_down & b) {
        s->release_next |= b;
    } else {
        in->mouse_buttons &= ~b;
    }
}

static int sdl_poll(host_platform *p, ll_platform_input *in, host_presses *presses)
{
    sdl_state *s = p->state;
    SDL_Event e;
    int quit = 0;
    uint32_t went_down = 0;
    in->mouse_buttons &= ~s->release_next;
    s->release_next = 0;
    while (s->SDL_PollEvent(&e)) {
        if (e.type == SDL_QUIT) {
            quit = 1;
        } else if (e.type == SDL_KEYDOWN || e.type == SDL_KEYUP) {
            key_event(&e.key, in, presses);
        } else if (e.type == SDL_MOUSEMOTION) {
            mouse_at(p, e.motion.x, e.motion.y, in);
        } else if (e.type == SDL_MOUSEBUTTONDOWN || e.type == SDL_MOUSEBUTTONUP) {
            mouse_button(p, &e.button, in, &went_down);
        } else {
            pad_event(s, &e, in);
        }
    }
    return quit;
}

/* Builds the window's picture: the canvas, then the status strip, each
 * pixel repeated scale times each way. */
static void compose(sdl_state *s, const char *status, const host_bar *bar)
{
    uint32_t *strip = s->strip;
    int w = s->width;
    for (int i = 0; i < w * STATUS_ROWS; i++) strip[i] = 0xff181818;
    if (bar) host_bar_pixels(bar, strip, w, BAR_ROWS);
    if (status) host_font_draw(strip, w, STATUS_ROWS, 2, BAR_ROWS + 2, status, 0xffe0e0e0);
    for (int fy = 0; fy < s->frame_h; fy++) {
        int y = fy / s->scale;
        const uint32_t *row = y < s->height ? s->canvas + (size_t)y * (size_t)s->width
                                            : strip + (size_t)(y - s->height) * (size_t)w;
        uint32_t *out = s->frame + (size_t)fy * (size_t)s->frame_w;
        for (int fx = 0; fx < s->frame_w; fx++) {
            int x = fx / s->scale;
            out[fx] = row[x];
        }
    }
}

static void sdl_present(host_platform *p, const ll_canvas *canvas, const char *status,
                        const host_bar *bar)
{
    sdl_state *s = p->state;
    ll_canvas_pixels_render(canvas, s->canvas);
    compose(s, status, bar);
    SDL_Surface *surface = s->SDL_GetWindowSurface(s->window);
    if (!surface) return;
    int w = surface->w < s->frame_w ? surface->w : s->frame_w;
    int h = surface->h < s->frame_h ? surface->h : s->frame_h;
    if (SDL_MUSTLOCK(surface) && s->SDL_LockSurface(surface) != 0) return;
    s->SDL_ConvertPixels(w, h, SDL_PIXELFORMAT_ARGB8888, s->frame, s->frame_w * 4,
                         surface->format->format, surface->pixels, surface->pitch);
    if (SDL_MUSTLOCK(surface)) s->SDL_UnlockSurface(surface);
    s->SDL_UpdateWindowSurface(s->window);
}

/* Reads the window surface back (what SDL last put on the screen) and
 * samples one pixel per canvas pixel. */
static int sdl_read_back(host_platform *p, uint32_t *pixels, int width, int height)
{
    sdl_state *s = p->state;
    SDL_Surface *surface = s->SDL_GetWindowSurface(s->window);
    if (!surface || width != s->width || height != s->height) return -1;
    if (surface->w < s->frame_w || surface->h < s->frame_h) return -1;
    if (SDL_MUSTLOCK(surface) && s->SDL_LockSurface(surface) != 0) return -1;
    int rc =
        s->SDL_ConvertPixels(s->frame_w, s->frame_h, surface->format->format, surface->pixels,
                             surface->pitch, SDL_PIXELFORMAT_ARGB8888, s->frame, s->frame_w * 4);
    if (SDL_MUSTLOCK(surface)) s->SDL_UnlockSurface(surface);
    if (rc != 0) return -1;
    for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
            pixels[(size_t)y * (size_t)width + (size_t)x] =
                s->frame[(size_t)y * (size_t)s->scale * (size_t)s->frame_w +
                         (size_t)x * (size_t)s->scale] |
                0xff000000;
    return 0;
}

/* SDL's thread: plays what the ring holds, silence for the rest. */
static void sdl_audio_pull(void *ctx, Uint8 *stream, int len)
{
    sdl_state *s = ctx;
    int16_t *out = (int16_t *)(void *)stream;
    uint32_t want = (uint32_t)len / 4, i = 0;
    for (; i < want && s->ring_count; i++, s->ring_count--) {
        uint32_t at = s->ring_head++ % SDL_RING_FRAMES;
        out[2 * i] = s->ring[2 * at], out[2 * i + 1] = s->ring[2 * at + 1];
    }
    memset(out + 2 * i, 0, (size_t)(want - i) * 4);
}

/* 48 kHz stereo, 16-bit. A callback of ours rather than SDL's queue: SDL
 * gives its own queue thread a 64 KiB stack, too small for a process whose
 * libraries keep large thread-local buffers. */
static uint32_t sdl_audio_open(host_platform *p, ll_error *err)
{
    sdl_state *s = p->state;
    SDL_AudioSpec want = {.freq = 48000,
                          .format = AUDIO_S16SYS,
                          .channels = 2,
                          .samples = 1024,
                          .callback = sdl_audio_pull,
                          .userdata = s};
    SDL_AudioSpec have;
    if (s->SDL_InitSubSystem(SDL_INIT_AUDIO) != 0 ||
        !(s->audio = s->SDL_OpenAudioDevice(NULL, 0, &want, &have, 0))) {
        ll_fail(err, EIO, "cannot open an audio device: %s (try: without --audio)",
                s->SDL_GetError());
        return 0;
    }
    s->SDL_PauseAudioDevice(s->audio, 0);
    return (uint32_t)have.freq;
}

static uint32_t sdl_audio_queued(host_platform *p)
{
    sdl_state *s = p->state;
    if (!s->audio) return 0;
    s->SDL_LockAudioDevice(s->audio);
    uint32_t n = s->ring_count;
    s->SDL_UnlockAudioDevice(s->audio);
    return n;
}

static void sdl_audio_queue(host_platform *p, const int16_t *samples, uint32_t frames)
{
    sdl_state *s = p->state;
    if (!s->audio) return;
    s->SDL_LockAudioDevice(s->audio);
    for (uint32_t i = 0; i < frames && s->ring_count < SDL_RING_FRAMES; i++, s->ring_count++) {
        uint32_t at = (s->ring_head + s->ring_count) % SDL_RING_FRAMES;
        s->ring[2 * at] = samples[2 * i], s->ring[2 * at + 1] = samples[2 * i + 1];
    }
    s->SDL_UnlockAudioDevice(s->audio);
}

void host_platform_sdl(host_platform *p)
{
    *p = (host_platform){.name = "sdl",
                         .open = sdl_open,
                         .poll = sdl_poll,
                         .present = sdl_present,
                         .read_back = sdl_read_back,
                         .title = sdl_title,
                         .audio_open = sdl_audio_open,
                         .audio_queued = sdl_audio_queued,
                         .audio_queue = sdl_audio_queue,
                         .close = sdl_close};
}
