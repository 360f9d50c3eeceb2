/* bounce.h - the demo application's state and input. Changing a struct here
 * changes the layout: bump BOUNCE_LAYOUT_VERSION and regenerate the demo
 * recording (see examples/bounce/README.md). */
#ifndef BOUNCE_H
#define BOUNCE_H

#include "looplive_app.h"

#define BOUNCE_LAYOUT_VERSION 2
#define BOUNCE_BLOCK_SIZE     (1u << 20)
#define BOUNCE_MAGIC          0x65636e756f62ull /* "bounce" */
#define BOUNCE_WIDTH          80                /* the world, in cells */
#define BOUNCE_HEIGHT         24
#define BOUNCE_ONE            256 /* fixed point: 1/256 of a cell */
#define BOUNCE_GRAVITY        6
#define BOUNCE_PADDLE         5 /* half width, cells */
#define BOUNCE_MAX_BALLS      64
#define BOUNCE_TRAIL          4096
#define BOUNCE_TRAIL_AT       (64u << 10)

/* One frame's input: what gets recorded. */
typedef struct bounce_input {
    int8_t move;    /* -1 left, 0, +1 right */
    uint8_t launch; /* 1: launch a ball from the paddle */
    uint8_t clear;  /* 1: remove every ball */
    uint8_t crash;  /* debug builds: 1 faults in update (crash rollback demo) */
    uint8_t unused[12];
} bounce_input;

typedef struct bounce_state bounce_state;
typedef struct bounce_ball bounce_ball;

/* What a ball does each frame. Kept per ball in the state, as entity
 * systems keep a behaviour: after an edit the pointer still holds the old
 * build's address, which forwards to the new code (docs/module.md). */
typedef void bounce_behave(bounce_state *s, bounce_ball *b);

struct bounce_ball {
    int32_t x, y, vx, vy; /* fixed point */
    uint32_t color;       /* 1..6 */
    uint32_t unused;
    bounce_behave *behave;
};

struct bounce_state {
    uint64_t magic;
    uint64_t rng;
    uint64_t frames;
    int32_t paddle_x;
    uint32_t ball_count;
    uint32_t score, lost;
    uint32_t trail_len;
    uint32_t unused;
    bounce_ball balls[BOUNCE_MAX_BALLS];
};

#endif
