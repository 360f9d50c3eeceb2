/* host_app.c - the smallest application the host tests drive: a counter,
 * the last key it saw, and a picture that shows both. APP_WORD and
 * APP_COLOR are set at build time so that a test can build a changed
 * version and watch it being reloaded; `c` faults in update. */
#include <looplive_app.h>

#include <stdio.h>
#include <string.h>

#ifndef APP_WORD
#define APP_WORD "one"
#endif
#ifndef APP_API
#define APP_API LL_APP_API_VERSION /* another value: a table the host refuses */
#endif
#ifndef APP_COLOR
#define APP_COLOR 0xff2040c0
#endif

typedef struct app_input {
    uint8_t key;     /* the last letter pressed this frame, 0 if none */
    uint8_t crash;   /* fault in update */
    uint8_t buttons; /* mouse buttons held */
    uint8_t pad;
    int16_t mouse_x, mouse_y;
} app_input;

typedef struct app_state {
    uint64_t counter;
    uint64_t keys_seen;
    uint8_t last_key;
    uint8_t buttons;
    int16_t mouse_x, mouse_y;
} app_state;

static int app_init(ll_block *block)
{
    if (block->size < (1 << 20)) return -1; /* refuses a small block */
    memset(block->base, 0, sizeof(app_state));
    return 0;
}

static void app_translate(const ll_platform_input *p, void *input)
{
    app_input *in = input;
    memset(in, 0, sizeof *in);
    for (int k = 'a'; k <= 'z'; k++)
        if (p->pressed[k] && k != 'c') in->key = (uint8_t)k;
    in->crash = p->pressed['c'];
    in->buttons = (uint8_t)p->mouse_buttons;
    in->mouse_x = (int16_t)p->mouse_x, in->mouse_y = (int16_t)p->mouse_y;
}

/* The crash-injection key's fault: a store through NULL. Its own function,
 * exported so that the fault report names it, and exempt from UBSan so
 * that sanitizer builds fault for real (and the host rolls back) instead
 * of stopping at the null check. */
__attribute__((noinline, no_sanitize("undefined"))) void host_app_crash(void);
void host_app_crash(void)
{
    *(volatile int *)0 = 1;
}

void host_app_update(ll_block *block, const void *input, uint64_t frame, double dt);

/* Exported, so that a fault report names it. */
void host_app_update(ll_block *block, const void *input, uint64_t frame, double dt)
{
    app_state *s = (app_state *)block->base;
    const app_input *in = input;
    if (in->crash) host_app_crash();
#ifdef APP_CRASH_ALWAYS
    host_app_crash(); /* a bad build: faults on every frame */
#endif
    s->counter++;
    if (in->key) s->last_key = in->key, s->keys_seen++;
    s->buttons = in->buttons, s->mouse_x = in->mouse_x, s->mouse_y = in->mouse_y;
}

static void app_render(const ll_block *block, ll_canvas *c)
{
    const app_state *s = (const app_state *)block->base;
    if (c->cells) {
        char line[128];
        int n = snprintf(line, sizeof line, "%s counter=%llu key=%c seen=%llu", APP_WORD,
                         (unsigned long long)s->counter, s->last_key ? s->last_key : '-',
                         (unsigned long long)s->keys_seen);
        if (n > c->width) n = c->width;
        memcpy(c->cells, line, (size_t)n);
    }
    if (c->pixels) {
        /* A bar whose length is the counter, in APP_COLOR. */
        int len = (int)(s->counter % (uint64_t)c->width);
        for (int y = 0; y < c->height / 2; y++)
            for (int x = 0; x < len; x++) c->pixels[y * c->width + x] = APP_COLOR;
        /* While the left button is held, a green square under the mouse. */
        for (int y = s->mouse_y - 4; s->buttons & 1 && y <= s->mouse_y + 4; y++)
            for (int x = s->mouse_x - 4; x <= s->mouse_x + 4; x++)
                if (x >= 0 && y >= 0 && x < c->width && y < c->height)
                    c->pixels[y * c->width + x] = 0xff00ff00;
    }
}

static const ll_app app = {
    .api_version = APP_API,
    .input_size = sizeof(app_input),
    .layout_version = 1,
    .block_size = 1 << 20,
    .name = "host_app",
    .init = app_init,
    .translate = app_translate,
    .update = host_app_update,
    .render = app_render,
};

const ll_app *looplive_app(void)
{
    return &app;
}
