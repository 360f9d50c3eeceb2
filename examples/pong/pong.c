/* pong.c - the SDL2 demo: two paddles and a ball, all state in the block.
 *
 *     looplive run build/examples/pong.so --platform sdl \
 *         --watch examples/pong --build "make build/examples/pong.so"
 *
 * Press l to record a few seconds, l again to loop them, then change one of
 * the constants below and save: the running loop shows the change. w/s move
 * the left paddle; the right one follows the ball. In a debug build (no
 * NDEBUG), x dereferences NULL in update, to see crash rollback. On a
 * terminal the same game draws with characters. */
#include <looplive_app.h>

#include <string.h>

/* Edit these while a loop plays. */
#define BALL_SPEED   240.0f /* field units per second */
#define PADDLE_SPEED 200.0f
#define PADDLE_H     60.0f /* paddle height, field units */
#define BALL_SIZE    8.0f
#define BALL_COLOR   0xffffd020 /* 0xAARRGGBB */
#define PADDLE_COLOR 0xff40c0ff
#define FIELD_COLOR  0xff102030
#define BEEP_HZ      440 /* the wall's beep; a paddle's is an octave up */

#define FIELD_W    640.0f
#define FIELD_H    360.0f
#define PADDLE_W   8.0f
#define PONG_MAGIC 0x676e6f70u /* "pong" */

typedef struct pong_input {
    int8_t move;   /* -1 up, 0, 1 down: the left paddle */
    uint8_t crash; /* debug builds: fault in update */
    uint8_t pad[2];
} pong_input;

typedef struct pong_state {
    uint32_t magic;
    uint32_t score[2];
    float ball_x, ball_y, ball_dx, ball_dy; /* direction; speed is BALL_SPEED */
    float paddle_y[2];                      /* top edge */
    uint64_t frames;
    uint32_t beep;        /* frames of beep left (--audio) */
    uint32_t beep_octave; /* 1 wall, 2 paddle */
} pong_state;

/* The entry points are exported (not static) so that a fault report can
 * name the function: "SIGSEGV at 0x0 in pong_update+0x2b". */
int pong_init(ll_block *block);
void pong_translate(const ll_platform_input *p, void *input);
void pong_update(ll_block *block, const void *input, uint64_t frame, double dt);
void pong_render(const ll_block *block, ll_canvas *c);

/* The crash-injection key's fault: a store through NULL. Its own function,
 * exported so that the fault report names it, and exempt from UBSan so
 * that sanitizer builds fault for real (and the host rolls back) instead
 * of stopping at the null check. */
__attribute__((noinline, no_sanitize("undefined"))) void pong_crash(void);
void pong_crash(void)
{
    *(volatile int *)0 = 1;
}

int pong_init(ll_block *block)
{
    if (block->size < sizeof(pong_state)) return -1;
    pong_state *s = (pong_state *)block->base;
    *s = (pong_state){.magic = PONG_MAGIC,
                      .ball_x = FIELD_W / 2,
                      .ball_y = FIELD_H / 2,
                      .ball_dx = 0.8f,
                      .ball_dy = 0.6f,
                      .paddle_y = {FIELD_H / 2 - PADDLE_H / 2, FIELD_H / 2 - PADDLE_H / 2}};
    return 0;
}

void pong_translate(const ll_platform_input *p, void *input)
{
    pong_input *in = input;
    memset(in, 0, sizeof *in);
    in->move =
        (int8_t)((p->keys['s'] || p->keys[LL_KEY_DOWN]) - (p->keys['w'] || p->keys[LL_KEY_UP]));
    if (p->axes[1] > 8000) in->move = 1;
    if (p->axes[1] < -8000) in->move = -1;
    in->crash = p->pressed['x'];
}

static float clampf(float v, float lo, float hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static void bounce_off_paddles(pong_state *s)
{
    float left = 16 + PADDLE_W, right = FIELD_W - 16 - PADDLE_W - BALL_SIZE;
    if (s->ball_x < left && s->ball_dx < 0 && s->ball_y + BALL_SIZE >= s->paddle_y[0] &&
        s->ball_y <= s->paddle_y[0] + PADDLE_H) {
        s->ball_x = left;
        s->ball_dx = -s->ball_dx;
        s->beep = 6, s->beep_octave = 2;
    }
    if (s->ball_x > right && s->ball_dx > 0 && s->ball_y + BALL_SIZE >= s->paddle_y[1] &&
        s->ball_y <= s->paddle_y[1] + PADDLE_H) {
        s->ball_x = right;
        s->ball_dx = -s->ball_dx;
        s->beep = 6, s->beep_octave = 2;
    }
}

void pong_update(ll_block *block, const void *input, uint64_t frame, double dt)
{
    pong_state *s = (pong_state *)block->base;
    const pong_input *in = input;
#ifndef NDEBUG
    if (in->crash) pong_crash();
#endif
    float t = (float)dt;
    s->paddle_y[0] =
        clampf(s->paddle_y[0] + (float)in->move * PADDLE_SPEED * t, 0, FIELD_H - PADDLE_H);
    /* The right paddle follows the ball, a little slower than it. */
    float target = s->ball_y - PADDLE_H / 2, d = target - s->paddle_y[1];
    float step = PADDLE_SPEED * 0.9f * t;
    s->paddle_y[1] = clampf(s->paddle_y[1] + clampf(d, -step, step), 0, FIELD_H - PADDLE_H);
    s->ball_x += s->ball_dx * BALL_SPEED * t;
    s->ball_y += s->ball_dy * BALL_SPEED * t;
    if (s->beep) s->beep--;
    if (s->ball_y < 0 || s->ball_y > FIELD_H - BALL_SIZE) {
        s->ball_y = clampf(s->ball_y, 0, FIELD_H - BALL_SIZE);
        s->ball_dy = -s->ball_dy;
        s->beep = 3, s->beep_octave = 1;
    }
    bounce_off_paddles(s);
    if (s->ball_x < 0 || s->ball_x > FIELD_W) {
        s->score[s->ball_x < 0]++;
        s->ball_x = FIELD_W / 2;
        s->ball_y = FIELD_H / 2;
        s->ball_dx = -s->ball_dx;
    }
    s->frames = frame + 1;
}

/* Fills a field-unit rectangle, scaled to the canvas. */
static void fill(ll_canvas *c, float x, float y, float w, float h, uint32_t color, char ch)
{
    float sx = (float)c->width / FIELD_W, sy = (float)c->height / FIELD_H;
    int x0 = (int)(x * sx), y0 = (int)(y * sy), x1 = (int)((x + w) * sx), y1 = (int)((y + h) * sy);
    if (x1 == x0) x1++;
    if (y1 == y0) y1++;
    for (int py = y0 < 0 ? 0 : y0; py < y1 && py < c->height; py++) {
        for (int px = x0 < 0 ? 0 : x0; px < x1 && px < c->width; px++) {
            size_t i = (size_t)py * (size_t)c->width + (size_t)px;
            if (c->pixels) c->pixels[i] = color;
            if (c->cells) c->cells[i] = ch;
            if (c->colors) c->colors[i] = ch == 'O' ? 11 : 14;
        }
    }
}

void pong_render(const ll_block *block, ll_canvas *c)
{
    const pong_state *s = (const pong_state *)block->base;
    if (c->pixels) fill(c, 0, 0, FIELD_W, FIELD_H, FIELD_COLOR, ' ');
    for (float y = 0; y < FIELD_H; y += 24) fill(c, FIELD_W / 2 - 1, y, 2, 12, 0xff405060, ':');
    fill(c, 16, s->paddle_y[0], PADDLE_W, PADDLE_H, PADDLE_COLOR, '#');
    fill(c, FIELD_W - 16 - PADDLE_W, s->paddle_y[1], PADDLE_W, PADDLE_H, PADDLE_COLOR, '#');
    fill(c, s->ball_x, s->ball_y, BALL_SIZE, BALL_SIZE, BALL_COLOR, 'O');
}

static const ll_app pong_app = {
    .api_version = LL_APP_API_VERSION,
    .input_size = sizeof(pong_input),
    .layout_version = 2,
    .block_size = 1 << 20,
    .name = "pong",
    .init = pong_init,
    .translate = pong_translate,
    .update = pong_update,
    .render = pong_render,
};

const ll_app *looplive_app(void)
{
    return &pong_app;
}

/* Sound (looplive run --audio): a square wave while a beep lasts, from the
 * state alone; the phase follows the frame number so that a loop sounds the
 * same every pass. */
void looplive_audio(const ll_block *block, int16_t *samples, uint32_t frames, uint32_t rate);
void looplive_audio(const ll_block *block, int16_t *samples, uint32_t frames, uint32_t rate)
{
    const pong_state *s = (const pong_state *)block->base;
    uint64_t start = s->frames * frames;
    uint64_t half = rate / (2 * BEEP_HZ * (s->beep_octave ? s->beep_octave : 1));
    for (uint32_t i = 0; i < frames; i++) {
        int16_t v = 0;
        if (s->beep && half) v = ((start + i) / half) % 2 ? 3000 : -3000;
        samples[2 * i] = samples[2 * i + 1] = v;
    }
}
