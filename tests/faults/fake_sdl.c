/* fake_sdl.c - a stand-in for libSDL2 that the SDL platform's error tests
 * load through LOOPLIVE_SDL_LIB. Built twice (mk/errtests.mk): whole, it
 * starts video, but FAKE_SDL_FAIL=window makes SDL_CreateWindow fail and
 * FAKE_SDL_FAIL=audio makes SDL_OpenAudioDevice fail; with -DPARTIAL it
 * exports only the first few functions, like an SDL too old for looplive. */
#include <SDL2/SDL.h>
#include <stdlib.h>
#include <string.h>

static const char *error = "";

int SDL_Init(Uint32 flags)
{
    (void)flags;
    return 0;
}

int SDL_InitSubSystem(Uint32 flags)
{
    (void)flags;
    return 0;
}

void SDL_Quit(void) {}

const char *SDL_GetError(void)
{
    return error;
}

#ifndef PARTIAL
static int failing(const char *what)
{
    const char *f = getenv("FAKE_SDL_FAIL");
    return f && !strcmp(f, what);
}

static int window; /* a window is only an address to the platform */
static Uint32 window_pixels[16];
static SDL_PixelFormat window_format = {.format = SDL_PIXELFORMAT_ARGB8888};
static SDL_Surface surface = {
    .w = 4, .h = 4, .pitch = 16, .pixels = window_pixels, .format = &window_format};

SDL_Window *SDL_CreateWindow(const char *title, int x, int y, int w, int h, Uint32 flags)
{
    (void)title, (void)x, (void)y, (void)w, (void)h, (void)flags;
    if (failing("window")) {
        error = "fake: no window today";
        return NULL;
    }
    return (SDL_Window *)&window;
}

void SDL_DestroyWindow(SDL_Window *w)
{
    (void)w;
}

SDL_Surface *SDL_GetWindowSurface(SDL_Window *w)
{
    (void)w;
    return &surface;
}

int SDL_UpdateWindowSurface(SDL_Window *w)
{
    (void)w;
    return 0;
}

int SDL_LockSurface(SDL_Surface *s)
{
    (void)s;
    return 0;
}

void SDL_UnlockSurface(SDL_Surface *s)
{
    (void)s;
}

int SDL_ConvertPixels(int w, int h, Uint32 sf, const void *s, int sp, Uint32 df, void *d, int dp)
{
    (void)w, (void)h, (void)sf, (void)s, (void)sp, (void)df, (void)d, (void)dp;
    return 0;
}

int SDL_PollEvent(SDL_Event *e)
{
    (void)e;
    return 0;
}

SDL_bool SDL_IsGameController(int i)
{
    (void)i;
    return SDL_FALSE;
}

SDL_GameController *SDL_GameControllerOpen(int i)
{
    (void)i;
    return NULL;
}

void SDL_GameControllerClose(SDL_GameController *c)
{
    (void)c;
}

void SDL_SetWindowTitle(SDL_Window *w, const char *title)
{
    (void)w, (void)title;
}

int SDL_GetDisplayUsableBounds(int display, SDL_Rect *r)
{
    (void)display;
    *r = (SDL_Rect){0, 0, 1024, 768};
    return 0;
}

SDL_AudioDeviceID SDL_OpenAudioDevice(const char *device, int iscapture, const SDL_AudioSpec *want,
                                      SDL_AudioSpec *have, int changes)
{
    (void)device, (void)iscapture, (void)changes;
    if (failing("audio")) {
        error = "fake: no sound card";
        return 0;
    }
    *have = *want;
    return 1;
}

void SDL_CloseAudioDevice(SDL_AudioDeviceID d)
{
    (void)d;
}

void SDL_PauseAudioDevice(SDL_AudioDeviceID d, int pause)
{
    (void)d, (void)pause;
}

void SDL_LockAudioDevice(SDL_AudioDeviceID d)
{
    (void)d;
}

void SDL_UnlockAudioDevice(SDL_AudioDeviceID d)
{
    (void)d;
}
#endif
