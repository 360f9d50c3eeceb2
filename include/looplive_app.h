/* looplive_app.h - what an application for `looplive run` includes.
 *
 * An application is a shared library exporting looplive_app(), its table of
 * entry points (ll_app). The host keeps all of its state in one block at the
 * same address on every run, swaps the library under it when rebuilt, and
 * records, loops, rewinds and replays input. This header is all an
 * application needs; hosts and tools include looplive_host.h, address-space
 * analysis looplive_addr.h; looplive.h includes all three.
 *
 * A complete application (build: cc -shared -fPIC
 * -fpatchable-function-entry=14 -o counter.so counter.c, the last flag so
 * that every function of an old build can forward to the new one; run:
 * looplive run counter.so, or replay a recording headless):
 *
 *     #include <looplive_app.h>
 *
 *     typedef struct state { uint64_t count; int32_t x; } state;  // in the block
 *     typedef struct input { int8_t move; uint8_t reset; } input; // recorded
 *
 *     static int init(ll_block *b) { *(state *)b->base = (state){0}; return 0; }
 *
 *     static void translate(const ll_platform_input *p, void *out)
 *     {
 *         input *in = (input *)out;
 *         in->move = (int8_t)(p->keys[LL_KEY_RIGHT] - p->keys[LL_KEY_LEFT]);
 *         in->reset = p->pressed[(uint8_t)'r'];
 *     }
 *
 *     static void update(ll_block *b, const void *in_, uint64_t frame, double dt)
 *     {
 *         state *s = (state *)b->base;   // everything lives in the block
 *         const input *in = (const input *)in_;
 *         s->x = in->reset ? 0 : s->x + in->move;
 *         s->count++;
 *     }
 *
 *     static void render(const ll_block *b, ll_canvas *c)
 *     {
 *         const state *s = (const state *)b->base;
 *         if (c->cells && s->x >= 0 && s->x < c->width) c->cells[s->x] = '@';
 *     }
 *
 *     static const ll_app app = {
 *         .api_version = LL_APP_API_VERSION, .input_size = sizeof(input),
 *         .layout_version = 1, .block_size = 1 << 20, .name = "counter",
 *         .init = init, .translate = translate, .update = update, .render = render,
 *     };
 *     const ll_app *looplive_app(void) { return &app; }
 *
 * Rules that make recordings replay: keep every byte of state in the block
 * or in the library's globals (its .data and .bss are kept with the block:
 * docs/module.md; LL_NOT_STATE marks one that is not state); no C library
 * malloc (looplive_compat.h's is in the block), read no clock (use frame
 * and dt), and bump layout_version whenever the state structs change.
 * Compiles as C11 and later and as C++17 and later.
 */
#ifndef LOOPLIVE_APP_H
#define LOOPLIVE_APP_H

#include <stddef.h>
#include <stdint.h>

/* Options (ll_arena_push(a, 64, .zero = 1)): a params struct whose _ll is 0. */
#define LL_FIRST_(first, ...) first
#define LL_REST_(first, ...)  __VA_ARGS__
#ifdef __cplusplus
extern "C++" {
template <class T> inline const T *ll_params_(const T &params)
{
    return &params;
}
}
#define LL_ALIGNOF_(type) alignof(type)
#else
#define LL_PARAMS_(type, ...) (&(const type){._ll = 0, __VA_ARGS__})
#define LL_ALIGNOF_(type)     _Alignof(type)
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define LOOPLIVE_VERSION "0.1.0"

/* A global that is not state (a section of its own): restores leave it. */
#define LL_NOT_STATE __attribute__((section("looplive_not_state")))

/* An error: a numeric class (an errno value where one applies, else EINVAL)
 * and a one-line message. */
#define LL_ERROR_MSG 1024 /* bytes of an error message, with its NUL */
typedef struct ll_error {
    int code;
    char msg[LL_ERROR_MSG];
} ll_error;

/* ==== the block and its arenas ========================================= */

/* The block: size bytes at base, where all of an application's state lives
 * (reserved by the host: ll_block_reserve, looplive_host.h). The handle lives
 * outside the block; everything the arenas need lives inside it. */
#define LL_BLOCK_NAME_MAX 64
typedef struct ll_block {
    uint8_t *base;                /* first byte of the block */
    uint64_t size;                /* bytes, a multiple of the page size */
    uint64_t page_size;           /* ll_page_size_get() at reservation */
    int fd;                       /* the memfd or loaded snapshot file behind it; -1: none */
    uint32_t flags;               /* LL_BLOCK_* (looplive_host.h) */
    char name[LL_BLOCK_NAME_MAX]; /* the memfd's name ("looplive" by default) */
} ll_block;

/* ---- arenas: named partitions inside the block ------------------------
 * Their table is a header at the start of the block: a snapshot restore, or
 * a later process that maps the block back at the same address, gets the
 * allocators back with the bytes. Guard pages: see looplive_host.h. */
#define LL_ARENA_NAME_MAX 32

/* One arena: a record in the block's table. Read the fields; change them
 * only through the functions below. */
typedef struct ll_arena {
    char name[LL_ARENA_NAME_MAX];
    uint8_t *begin;      /* first byte; absolute, the block never moves */
    uint64_t capacity;   /* bytes */
    uint64_t used;       /* bytes pushed so far (the current position) */
    uint64_t high_water; /* the largest used ever seen */
    uint64_t committed;  /* bytes from begin ever handed out, page rounded */
    uint64_t guard_size; /* PROT_NONE bytes right after the arena, 0 if none */
    uint32_t flags;      /* LL_ARENA_* */
    int32_t parent;      /* table index of the arena it was carved from, -1 */
    uint32_t index;      /* its own table index */
    uint32_t reserved_[9];
} ll_arena;
enum {
    LL_ARENA_GUARDED = 1u << 0,  /* a guard page follows it */
    LL_ARENA_PREFAULT = 1u << 1, /* its capacity was faulted in at creation */
    LL_ARENA_SUB = 1u << 2,      /* carved out of another arena */
};
#ifdef NDEBUG
#define LL_DEBUG_BUILD 0
#else
#define LL_DEBUG_BUILD 1
#endif

typedef struct ll_arena_params {
    int _ll;          /* reserved: first, 0 (lets a call with no options compile everywhere) */
    ll_arena *parent; /* carve the arena out of this one instead of the block */
    int guard;        /* 1: guard page after it; -1: none; 0: in debug builds */
    int prefault;     /* fault the whole capacity in now: pushes never fault */
} ll_arena_params;

/* Creates the arena `name` with capacity bytes (rounded up to pages; 0 takes
 * all that is left) after the last partition, or inside .parent. Writes the
 * block header first if the block has none. Fails when the name is taken or
 * longer than LL_ARENA_NAME_MAX - 1, the table is full, or too little is
 * left (the error says how much). */
ll_arena *ll_arena_create_(ll_block *block, const char *name, uint64_t capacity, ll_error *err,
                           int debug_build, const ll_arena_params *params);
#define ll_arena_create(block, name, capacity, ...)                                                \
    ll_arena_create_((block), (name), (capacity), LL_FIRST_(__VA_ARGS__, ~), LL_DEBUG_BUILD,       \
                     LL_PARAMS_(ll_arena_params, LL_REST_(__VA_ARGS__, )))

/* The arena called name in the block's table, or NULL: how code finds its
 * arenas again after a restore or in a new process. */
ll_arena *ll_block_arena_find(const ll_block *block, const char *name);

typedef struct ll_push_params {
    int _ll;        /* reserved: first, 0 (lets a call with no options compile everywhere) */
    uint64_t align; /* a power of two; 0: 16, like malloc */
    int zero;       /* clear the bytes (popped memory pushed again is not) */
    ll_error *err;  /* filled when the arena is full */
} ll_push_params;

/* Pushes size bytes. When the arena is full: calls the block's full hook if
 * one is set (ll_block_on_full_set), fills .err if given and returns NULL; it
 * prints nothing (the host's hook shows it on the overlay). Never overflows. */
void *ll_arena_push_(ll_arena *arena, uint64_t size, const ll_push_params *params);
#define ll_arena_push(arena, ...)                                                                  \
    ll_arena_push_((arena), LL_FIRST_(__VA_ARGS__, ~),                                             \
                   LL_PARAMS_(ll_push_params, LL_REST_(__VA_ARGS__, )))

/* Pushes count objects of type, aligned for the type (or .align if larger);
 * fails like ll_arena_push, also when count * sizeof(type) overflows. */
void *ll_arena_push_array_(ll_arena *arena, uint64_t elem_size, uint64_t elem_align, uint64_t count,
                           const ll_push_params *params);
#define ll_arena_push_array(arena, type, ...)                                                      \
    ((type *)ll_arena_push_array_((arena), sizeof(type), LL_ALIGNOF_(type),                        \
                                  LL_FIRST_(__VA_ARGS__, ~),                                       \
                                  LL_PARAMS_(ll_push_params, LL_REST_(__VA_ARGS__, ))))

/* The current position; ll_arena_pop_to(pos) frees everything pushed after
 * it (a pos above the current one is ignored); ll_arena_clear frees all
 * (the high-water mark stays). */
uint64_t ll_arena_pos_get(const ll_arena *arena);
void ll_arena_pop_to(ll_arena *arena, uint64_t pos);
void ll_arena_clear(ll_arena *arena);

/* A temporary scope: everything pushed between begin and end is freed by
 * end. Scopes nest; end them in reverse order. */
typedef struct ll_arena_temp {
    ll_arena *arena;
    uint64_t pos;
} ll_arena_temp;
ll_arena_temp ll_arena_temp_begin(ll_arena *arena);
void ll_arena_temp_end(ll_arena_temp temp);

/* ==== the application's contract: input, keys, canvas, ll_app ========= */

#define LL_APP_API_VERSION 3 /* 2 added migrate, 3 tick_hz..quit; 1 and 2 still load */

/* What a platform saw this frame, before the application turns it into its
 * own fixed-size input struct (which is what gets recorded). */
typedef struct ll_platform_input {
    uint8_t keys[256];    /* 1 while held: ASCII for printable keys, LL_KEY_* */
    uint8_t pressed[256]; /* 1 on the frame of a press (every key event is
                             one: presses are never merged, see ll_host_press) */
    int32_t mouse_x, mouse_y;
    uint32_t mouse_buttons; /* bit 0 left, 1 right, 2 middle */
    int16_t axes[6];        /* game controller: left x/y, right x/y, triggers */
    uint32_t buttons;       /* game controller buttons, SDL order */
    uint16_t typed[16];     /* this frame's presses in order, with modifiers */
    uint32_t typed_count;   /* (a getch queue: looplive_text.h) */
} ll_platform_input;

/* Key codes: a printable key is its ASCII code; enter is '\n', tab '\t',
 * backspace '\b'; the others are these. */
// clang-format off
enum { LL_KEY_UP = 128, LL_KEY_DOWN, LL_KEY_LEFT, LL_KEY_RIGHT, LL_KEY_ESCAPE, LL_KEY_HOME,
       LL_KEY_END, LL_KEY_PAGE_UP, LL_KEY_PAGE_DOWN, LL_KEY_INSERT, LL_KEY_DELETE, LL_KEY_F1,
       LL_KEY_F12 = LL_KEY_F1 + 11 };
// clang-format on

/* In a key event: Alt was held. A host's own keys are Alt+KEY
 * (ll_host_keys_help_get); an application sees only keys without it. Ctrl
 * and Shift (on keys from LL_KEY_UP) show in `typed` only; Ctrl+letter is
 * also pressed[] of its control code (ctrl+a: 1), as ncurses reads it. */
enum { LL_KEY_ALT = 0x100, LL_KEY_CTRL = 0x200, LL_KEY_SHIFT = 0x400 };

/* Key names (`run --keys`, `replay --script`): a printable character, space,
 * enter, tab, backspace, escape (esc), left, right, up, down, home, end,
 * pageup, pagedown, insert, delete, f1 .. f12, comma, colon, hash; "alt+",
 * "ctrl+", "shift+" add a modifier. ll_key_parse returns the code of the len
 * bytes at name, or -1; ll_key_format writes a code's name. */
int ll_key_parse(const char *name, size_t len);
const char *ll_key_format(int key, char *buf, size_t cap);

/* Where an application draws. Text platforms (terminal) give a grid of
 * cells; pixel platforms (SDL2) give 0xAARRGGBB pixels. Either pointer may
 * be NULL: draw to the one you get (or through looplive_text.h, to both). */
typedef struct ll_canvas {
    int width, height;    /* cells or pixels */
    uint32_t *pixels;     /* width * height, row-major; NULL on text platforms */
    char *cells;          /* width * height characters; NULL on pixel platforms */
    uint8_t *colors;      /* width * height ANSI colours (0-15; 0 default, 16 black) */
    uint8_t *backgrounds; /* per cell, as colors; the rest with cells, all cleared */
    uint8_t *attrs;       /* each frame: LL_ATTR_* (looplive_text.h) */
    uint32_t *codepoints; /* a Unicode character, drawn instead of cells[] unless 0 */
} ll_canvas;

typedef struct ll_app {
    uint32_t api_version;    /* LL_APP_API_VERSION */
    uint32_t input_size;     /* sizeof the application's input struct */
    uint64_t layout_version; /* changes when the state layout changes */
    uint64_t block_size;     /* the block size the application wants */
    const char *name;
    /* Called once on a fresh block. Returns 0, or -1 to refuse. */
    int (*init)(ll_block *block);
    /* Platform input to the application's input struct (may be NULL: the
     * input is then the ll_platform_input itself, truncated to input_size). */
    void (*translate)(const ll_platform_input *platform, void *input);
    /* One frame. Deterministic given the block, the input and dt. */
    void (*update)(ll_block *block, const void *input, uint64_t frame, double dt);
    /* Draws the state; must not change the block. May be NULL. */
    void (*render)(const ll_block *block, ll_canvas *canvas);
    /* Optional (API 2): converts in place a state of layout from_layout, left
     * by an earlier build, once before this build's first update on it (after
     * a reload, a rewind, a loop's wrap, a recording). Returns 0, or -1 to
     * refuse (the state is put back). Without it such a state is refused. */
    int (*migrate)(ll_block *block, uint64_t from_layout);
    /* API 3, each optional: updates per second (dt = 1/tick_hz; --fps wins);
     * the smallest canvas it draws on (cells or pixels; a smaller one is
     * refused); after each update, a message to end the run with, or NULL. */
    uint32_t tick_hz, min_width, min_height;
    const char *(*quit)(const ll_block *block);
} ll_app;

typedef int ll_app_migrate(ll_block *block, uint64_t from_layout);
typedef const ll_app *ll_app_get(void);

/* What an application defines (declared: C linkage in C++ too). */
const ll_app *looplive_app(void);

#ifdef __cplusplus
}
/* Last: g++ 12 warns of options left out here; the pragma scopes that off. */
#pragma GCC system_header
#define LL_PARAMS_(type, ...) ll_params_(type{._ll = 0, __VA_ARGS__})
#endif

#endif /* LOOPLIVE_APP_H */
