/* loop.h - internals of the loop layer: the page-hash table, page sets and
 * the recording file. */
#ifndef LL_LOOP_INTERNAL_H
#define LL_LOOP_INTERNAL_H

#include "looplive.h"

/* ll_fail in a form the static analyser sees returning -1 (it cannot see
 * into base.c). */
#define loop_fail(...) (ll_fail(__VA_ARGS__), -1)

/* ---- hash: per-page xxh3, combined by addition ------------------------ */

/* One hash per page of the block, so that a frame rehashes only the pages
 * it wrote. A page of zeros contributes 0, so untouched pages cost nothing
 * and the table (mapped lazily) stays as small as the resident set. */
typedef struct loop_hash {
    uint64_t *page_hash; /* one per page; mmap'd, zero until written */
    uint64_t pages;
    uint64_t page_size;
    uint64_t total;    /* sum of page_hash[] */
    uint64_t zero;     /* xxh3 of a page of zeros */
    ll_module *module; /* code pointers hash as symbol + offset; may be NULL */
    uint64_t *canon;   /* a page to canonicalise into */
} loop_hash;

int loop_hash_init(loop_hash *hash, const ll_block *block, ll_error *err);
void loop_hash_free(loop_hash *hash);

/* Rehashes page index of the block. */
void loop_hash_page(loop_hash *hash, const ll_block *block, uint64_t index);

/* Rehashes every page holding data (ll_snap_pages_visit: present, swapped out or
 * in the baseline) and zeroes the rest: used only after a whole-block
 * change. */
int loop_hash_all(loop_hash *hash, ll_block *block, ll_error *err);

/* The hash one page of bytes contributes at index. */
uint64_t loop_hash_contribution(const loop_hash *hash, const void *page, uint64_t index);

/* ---- page sets: a bitmap for membership, a list for iteration ---------- */

typedef struct loop_pages {
    uint64_t *bits; /* mmap'd, one bit per page of the block */
    uint64_t nbits;
    uint64_t *list; /* the members, in insertion order */
    uint64_t count, cap;
    int all; /* every page may be in the set (after a load) */
} loop_pages;

int loop_pages_init(loop_pages *set, uint64_t pages, ll_error *err);
void loop_pages_free(loop_pages *set);
int loop_pages_add(loop_pages *set, uint64_t index);
void loop_pages_clear(loop_pages *set);

/* 1 when the page holds only zeros. */
int loop_page_is_zero(const void *page, uint64_t size);

/* ---- the recording file ------------------------------------------------- */

#define LOOP_REC_MAGIC   "LLREC\r\n\032"
#define LOOP_REC_VERSION 2
#define LOOP_FPS_MAX     100000 /* the frame rates ll_loop_create takes */

/* What a recording holds besides its pages, as the file header stores it. */
typedef ll_loop_file loop_rec_info;

/* A recording read and verified in memory: nothing is applied to a block
 * until loop_rec_apply. */
typedef struct loop_rec {
    loop_rec_info info;
    const uint8_t *pages;   /* pages entries of (u64 offset, page bytes) */
    const uint8_t *inputs;  /* frames * input_size bytes */
    const uint8_t *codemap; /* the module's code map at save time, or NULL */
    uint64_t codemap_size;
    void *map;
    uint64_t map_size;
} loop_rec;

/* Reads and verifies path: magic, version, checksum, sizes. */
int loop_rec_open(loop_rec *rec, const char *path, ll_error *err);
void loop_rec_close(loop_rec *rec);

/* Checks that rec fits the block and the application (base, size, page
 * size, layout version, input size). */
int loop_rec_check(const loop_rec *rec, const ll_block *block, const ll_app *app, ll_error *err);

/* Makes the block's bytes the recording's start state: writable first
 * whatever guards the block had, then the guards of the arena table that
 * came back are armed (ll_block_attach). */
int loop_rec_apply(const loop_rec *rec, ll_block *block, ll_error *err);

/* Re-points the code pointers of the start state rec put in the block
 * through the code map it carries (none: nothing to do); -1 when some
 * cannot be, with nothing rewritten. */
int loop_rec_repoint(const loop_rec *rec, ll_module *module, ll_block *block, ll_error *err);

/* Writes a recording of snap (NULL: the block as it is now; its pages as
 * ll_snap_pages_visit lists them) with the given inputs and the module's code map
 * (codemap_size bytes, 0: none), to path through a temporary file. */
int loop_rec_write(const char *path, ll_block *block, ll_snap *snap, const loop_rec_info *info,
                   const uint8_t *inputs, const void *codemap, uint64_t codemap_size,
                   ll_error *err);

/* ---- for who.c ------------------------------------------------------------ */

/* Runs exactly one simulated frame, whatever pause and speed say. */
int loop_frame_one(ll_loop *loop, ll_error *err);

/* The block the loop drives. */
ll_block *loop_block_of(const ll_loop *loop);

/* ---- what re-simulation (resim.c) reads of a loop ---------------------- */

/* A recording as the loop holds it, and what runs it: the block, the
 * module (NULL: app) and the symbol of looplive_app in it. */
typedef struct loop_recording {
    ll_block *block;
    ll_module *module;
    const ll_app *app;
    size_t app_symbol;
    ll_snap *start; /* the state before the first input; NULL: empty slot */
    const uint8_t *inputs;
    uint64_t frames, layout_version, start_frame, gen;
    uint32_t input_size;
    double fps;
} loop_recording;

/* Fills out with slot's recording (and the loop's block and code in any
 * case); -1 when the slot holds none. */
int loop_recording_get(const ll_loop *loop, int slot, loop_recording *out);

/* ---- internals the bench measures ------------------------------------- */

/* Appends one input of size bytes to a growable array. */
int loop_inputs_append(uint8_t **inputs, uint64_t *count, uint64_t *cap, const void *input,
                       uint32_t size);

#endif
