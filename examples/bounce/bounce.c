/* bounce.c - the demo application: balls bouncing over a paddle.
 *
 * All state lives in the block: a header struct at offset 0 and a trail of
 * ball positions at BOUNCE_TRAIL_AT (so that a frame writes more than one
 * page, and the trail's pages show up in snapshots and hashes). Arithmetic
 * is integer fixed point (1/256 of a cell), so every compiler and build
 * (gcc, clang, sanitizers) computes the same states and the committed
 * recording's hashes hold for all of them.
 *
 * Each ball keeps its behaviour as a function pointer in the state (see
 * fall()), so reloads exercise the forwarding of old builds to new ones.
 *
 * Keys: left/right or a/d move the paddle, up, w or space launches a ball
 * (under `looplive run` space is the host's pause key), c clears, and in a
 * debug build (no NDEBUG) x dereferences NULL in update, to show crash
 * rollback. */
#include "bounce.h"

#include <string.h>

static bounce_state *state_of(ll_block *block)
{
    return (bounce_state *)block->base;
}

static uint32_t *trail_of(ll_block *block)
{
    return (uint32_t *)(block->base + BOUNCE_TRAIL_AT);
}

/* xorshift64: the only source of variety, kept in the state. */
static uint32_t next_random(bounce_state *s)
{
    uint64_t x = s->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    s->rng = x;
    return (uint32_t)(x >> 32);
}

static bounce_behave fall;

static void launch(bounce_state *s, int32_t x)
{
    if (s->ball_count >= BOUNCE_MAX_BALLS) return;
    bounce_ball *b = &s->balls[s->ball_count++];
    b->x = x;
    b->y = (BOUNCE_HEIGHT - 3) * BOUNCE_ONE;
    b->vx = (int32_t)(next_random(s) % 129) - 64;
    b->vy = -160 - (int32_t)(next_random(s) % 64);
    b->color = 1 + next_random(s) % 6;
    b->behave = fall;
}

static int bounce_init(ll_block *block)
{
    if (block->size < BOUNCE_BLOCK_SIZE) return -1;
    bounce_state *s = state_of(block);
    memset(s, 0, sizeof *s);
    s->magic = BOUNCE_MAGIC;
    s->rng = 0x9e3779b97f4a7c15ull;
    s->paddle_x = BOUNCE_WIDTH / 2 * BOUNCE_ONE;
    for (int i = 0; i < 3; i++) launch(s, (20 + 20 * i) * BOUNCE_ONE);
    return 0;
}

static void bounce_translate(const ll_platform_input *in, void *out)
{
    bounce_input *b = out;
    b->move = (int8_t)((in->keys[LL_KEY_RIGHT] || in->keys['d']) -
                       (in->keys[LL_KEY_LEFT] || in->keys['a']));
    b->launch = in->pressed[' '] || in->pressed['w'] || in->pressed[LL_KEY_UP];
    b->clear = in->pressed['c'];
    b->crash = in->pressed['x'];
}

/* The behaviour every ball gets: gravity, walls, the paddle. A static
 * function, stored by address in the state: edit it while a loop plays and
 * the balls of the loop's start state (stored by the old build) run the new
 * code too. */
static void fall(bounce_state *s, bounce_ball *b)
{
    const int32_t w = BOUNCE_WIDTH * BOUNCE_ONE, h = BOUNCE_HEIGHT * BOUNCE_ONE;
    b->vy += BOUNCE_GRAVITY;
    b->x += b->vx;
    b->y += b->vy;
    if (b->x < 0) b->x = -b->x, b->vx = -b->vx;
    if (b->x >= w) b->x = 2 * (w - 1) - b->x, b->vx = -b->vx;
    if (b->y < 0) b->y = -b->y, b->vy = -b->vy;
    int32_t paddle_y = (BOUNCE_HEIGHT - 2) * BOUNCE_ONE;
    int32_t dx = b->x - s->paddle_x;
    if (b->vy > 0 && b->y >= paddle_y && b->y - b->vy < paddle_y &&
        dx > -BOUNCE_PADDLE * BOUNCE_ONE && dx < BOUNCE_PADDLE * BOUNCE_ONE) {
        b->y = paddle_y;
        b->vy = -b->vy;
        b->vx += dx / 16;
        if (b->vx > BOUNCE_ONE) b->vx = BOUNCE_ONE;
        if (b->vx < -BOUNCE_ONE) b->vx = -BOUNCE_ONE;
        s->score++;
    }
    if (b->y >= h) { /* lost: back to the top */
        b->y = BOUNCE_ONE;
        b->vy = 0;
        s->lost++;
    }
}

/* The crash-injection key's fault: a store through NULL. Its own function,
 * exported so that the fault report names it, and exempt from UBSan so
 * that sanitizer builds fault for real (and the host rolls back) instead
 * of stopping at the null check. */
__attribute__((noinline, no_sanitize("undefined"))) void bounce_crash(void);
void bounce_crash(void)
{
    *(volatile int *)0 = 1;
}

static void bounce_update(ll_block *block, const void *input, uint64_t frame, double dt)
{
    bounce_state *s = state_of(block);
    const bounce_input *in = input;
#ifndef NDEBUG
    if (in->crash) bounce_crash();
#endif
    s->paddle_x += in->move * 2 * BOUNCE_ONE;
    if (s->paddle_x < 0) s->paddle_x = 0;
    if (s->paddle_x > (BOUNCE_WIDTH - 1) * BOUNCE_ONE)
        s->paddle_x = (BOUNCE_WIDTH - 1) * BOUNCE_ONE;
    if (in->launch) launch(s, s->paddle_x);
    if (in->clear) s->ball_count = 0;
    for (uint32_t i = 0; i < s->ball_count; i++) s->balls[i].behave(s, &s->balls[i]);
    if (s->ball_count) {
        const bounce_ball *b = &s->balls[frame % s->ball_count];
        uint32_t cell = (uint32_t)(b->y / BOUNCE_ONE) << 16 | (uint32_t)(b->x / BOUNCE_ONE);
        trail_of(block)[s->trail_len++ % BOUNCE_TRAIL] = cell;
    }
    s->frames = frame + 1;
}

static void put(ll_canvas *c, int x, int y, char ch, uint8_t color)
{
    if (x < 0 || y < 0 || x >= c->width || y >= c->height) return;
    if (c->cells) {
        c->cells[y * c->width + x] = ch;
        if (c->colors) c->colors[y * c->width + x] = color;
    }
}

static void fill_pixels(ll_canvas *c, int cx, int cy, uint32_t argb)
{
    int sx = c->width / BOUNCE_WIDTH, sy = c->height / BOUNCE_HEIGHT;
    for (int y = cy * sy; y < (cy + 1) * sy && y < c->height; y++)
        for (int x = cx * sx; x < (cx + 1) * sx && x < c->width; x++)
            if (x >= 0 && y >= 0) c->pixels[y * c->width + x] = argb;
}

static const uint32_t palette[8] = {0xff000000, 0xffe04040, 0xff40e040, 0xffe0e040,
                                    0xff4040e0, 0xffe040e0, 0xff40e0e0, 0xffe0e0e0};

static void draw(ll_canvas *c, int x, int y, char ch, uint8_t color)
{
    if (c->pixels) {
        fill_pixels(c, x, y, palette[color & 7]);
        return;
    }
    /* Text canvases of any size: scale the 80x24 world onto them. */
    put(c, x * c->width / BOUNCE_WIDTH, y * c->height / BOUNCE_HEIGHT, ch, color);
}

static void bounce_render(const ll_block *block, ll_canvas *c)
{
    const bounce_state *s = (const bounce_state *)block->base;
    const uint32_t *trail = (const uint32_t *)(block->base + BOUNCE_TRAIL_AT);
    if (c->pixels) memset(c->pixels, 0, (size_t)c->width * c->height * 4);
    if (c->cells) memset(c->cells, ' ', (size_t)c->width * c->height);
    if (c->colors) memset(c->colors, 7, (size_t)c->width * c->height);
    uint32_t n = s->trail_len < 32 ? s->trail_len : 32; /* the newest part of the trail */
    for (uint32_t i = 0; i < n; i++) {
        uint32_t cell = trail[(s->trail_len - 1 - i) % BOUNCE_TRAIL];
        draw(c, (int)(cell & 0xffff), (int)(cell >> 16), '.', 8);
    }
    for (uint32_t i = 0; i < s->ball_count; i++)
        draw(c, s->balls[i].x / BOUNCE_ONE, s->balls[i].y / BOUNCE_ONE, 'o',
             (uint8_t)s->balls[i].color);
    for (int d = -BOUNCE_PADDLE + 1; d < BOUNCE_PADDLE; d++)
        draw(c, s->paddle_x / BOUNCE_ONE + d, BOUNCE_HEIGHT - 2, '=', 7);
}

static const ll_app bounce_app = {
    .api_version = LL_APP_API_VERSION,
    .input_size = sizeof(bounce_input),
    .layout_version = BOUNCE_LAYOUT_VERSION,
    .block_size = BOUNCE_BLOCK_SIZE,
    .name = "bounce",
    .init = bounce_init,
    .translate = bounce_translate,
    .update = bounce_update,
    .render = bounce_render,
};

const ll_app *looplive_app(void)
{
    return &bounce_app;
}
