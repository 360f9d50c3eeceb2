/* looplive.h - loop-live code editing on Linux.
 *
 * A program keeps all of its state in one block of memory, reserved once at
 * start at the same virtual address on every run. Pointers into the block stay
 * valid across runs, so the block can be snapshotted, restored, saved to disk
 * and mapped back by a later process, while the application code, built as a
 * shared library, is swapped under it. On top of that: record a few seconds of
 * input, play them back in a loop from the same starting state, and watch each
 * code change take effect in the running loop.
 *
 * Layers, left to right (a layer calls only layers to its left):
 *
 *     maps -> advise -> memory -> snapshot -> module -> loop -> host -> cli
 *
 * Example: a host that owns the block and drives an application library.
 *
 *     #include <looplive.h>
 *     #include "looplive_base.h"   // from: looplive addr --self --format c
 *
 *     int main(void)
 *     {
 *         ll_error err;
 *         ll_block block;
 *         if (ll_block_reserve(&block, &err, .base = (void *)LOOPLIVE_BASE,
 *                              .size = LOOPLIVE_SIZE) != 0) {
 *             fprintf(stderr, "looplive: %s\n", err.msg);
 *             return 1;
 *         }
 *         ll_arena *state = ll_arena_create(&block, "permanent", 64 << 20, &err);
 *         int *counter = ll_arena_push(state, sizeof *counter, .zero = 1);
 *         ...
 *         ll_block_release(&block);
 *     }
 *
 * Conventions
 * - Functions that can fail return 0 (or a non-NULL pointer) on success and
 *   -1 (or NULL) on failure, and fill an ll_error when one is passed. The
 *   message says what was asked, what was found and what to do; it carries no
 *   "looplive: " prefix (the command adds it).
 * - Optional parameters go in a params struct filled by designated
 *   initializers through a macro: ll_block_reserve(&b, &err, .size = 1 << 30).
 * - Addresses and sizes are uint64_t; sizes print in human units (1 GiB).
 *
 * API reference: each section below starts with a banner naming its layer;
 * every function is documented where it is declared.
 */
#ifndef LOOPLIVE_H
#define LOOPLIVE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LOOPLIVE_VERSION "0.1.0"

/* ==== base: errors, sizes ============================================== */

/* An error: a numeric class (an errno value where one applies, else EINVAL)
 * and a one-line message. */
typedef struct ll_error {
    int code;
    char msg[1024];
} ll_error;

/* Parses a byte count: decimal or 0x hex, with an optional K, M, G, T, P
 * suffix (powers of 1024; "KiB", "MB"... are accepted too). Fails on an
 * unknown suffix, no digits, or overflow past 2^64-1. */
int ll_size_parse(const char *text, uint64_t *out, ll_error *err);

/* Writes bytes in the largest binary unit that keeps it readable ("1 GiB",
 * "1.5 MiB", "4 KiB", "17 B") into buf (at least 32 bytes) and returns buf. */
char *ll_size_format(uint64_t bytes, char *buf, size_t cap);

/* The page size of this machine (sysconf(_SC_PAGESIZE)). */
uint64_t ll_page_size(void);

/* ==== maps: read and classify an address space ========================= */

/* What a region is part of (see ll_maps_classify). */
typedef enum ll_chunk {
    LL_CHUNK_NONE = 0, /* not yet classified */
    LL_CHUNK_APP,      /* the main executable's segments and the brk heap */
    LL_CHUNK_LIB,      /* shared objects, the loader, anonymous mmaps, thread stacks */
    LL_CHUNK_STACK,    /* the main thread's stack */
    LL_CHUNK_KERNEL,   /* [vdso], [vvar], [vsyscall] and other kernel pages */
} ll_chunk;

/* One line of /proc/PID/maps. */
typedef struct ll_region {
    uint64_t start, end; /* [start, end) */
    uint64_t offset;     /* file offset */
    uint64_t inode;
    uint32_t dev_major, dev_minor;
    char perms[5];    /* "rw-p" */
    const char *path; /* "" when anonymous; "[heap]", "[anon:NAME]", a file path */
    ll_chunk chunk;
} ll_region;

/* A parsed address space; owns its regions and their strings. */
typedef struct ll_maps {
    ll_region *regions; /* sorted by start */
    size_t count;
    int pid; /* 0 when parsed from text */
} ll_maps;

/* Reads /proc/PID/maps (pid 0: this process). */
int ll_maps_read_pid(int pid, ll_maps *out, ll_error *err);

/* Frees what a read or parse allocated. Safe on a zeroed ll_maps. */
void ll_maps_free(ll_maps *maps);

/* The first region that overlaps [start, end), or NULL. */
const ll_region *ll_maps_overlap(const ll_maps *maps, uint64_t start, uint64_t end);

/* ==== advise: choose a static base address ============================ */

/* ==== memory: the block at the static address, and its arenas ========== */

/* The block: size bytes at base, backed by a memfd mapped MAP_PRIVATE (so a
 * fork gets a copy-on-write copy, and the snapshot layer can use the memfd
 * as a baseline). Reserved without committing memory. The handle lives
 * outside the block; everything the arenas need lives inside it. */
typedef struct ll_block {
    uint8_t *base;      /* first byte of the block */
    uint64_t size;      /* bytes, a multiple of the page size */
    uint64_t page_size; /* ll_page_size() at reservation */
    int fd;             /* the memfd behind the mapping; -1 if anonymous */
    uint32_t flags;     /* LL_BLOCK_* below */
    void *snap;         /* snapshot layer state; NULL until it is used */
} ll_block;

enum {
    LL_BLOCK_FIXED = 1u << 0,     /* base was requested, not chosen by the OS */
    LL_BLOCK_ANONYMOUS = 1u << 1, /* plain anonymous memory (huge pages) */
    LL_BLOCK_HUGE = 1u << 2,      /* MADV_HUGEPAGE was applied */
    LL_BLOCK_PREFAULTED = 1u << 3,
};

typedef struct ll_block_params {
    void *base;       /* where; NULL lets the OS choose (release builds) */
    uint64_t size;    /* bytes; rounded up to the page size */
    int prefault;     /* commit and fault in every page now */
    int huge_pages;   /* anonymous memory with MADV_HUGEPAGE, 2 MiB aligned */
    const char *name; /* shown in /proc/PID/maps as the memfd's name */
} ll_block_params;

/* Reserves the block with MAP_FIXED_NOREPLACE: never replaces a mapping.
 * When something is in the way the error names its range, permissions and
 * path as /proc/self/maps shows them and suggests `looplive addr --size`.
 * Address space only (MAP_NORESERVE): a page costs memory when first written,
 * or at once with .prefault. Errors: size below a page or above the
 * address-space width, base not page aligned (2 MiB with .huge_pages),
 * base + size wrapping or past the end of the address space. */
int ll_block_reserve_(ll_block *block, ll_error *err, const ll_block_params *params);
#define ll_block_reserve(block, err, ...)                                                          \
    ll_block_reserve_((block), (err), &(ll_block_params){__VA_ARGS__})

/* Unmaps the block and closes its memfd. Safe on a zeroed handle. */
void ll_block_release(ll_block *block);

/* ==== snapshot: save, restore and persist the block ==================== */

/* A snapshot of a block's contents. Taking and restoring one costs time and
 * memory in proportion to the pages written since, not to the block size:
 * the block's memfd is the baseline (the newest snapshot), a written page is
 * a private copy-on-write page, restoring drops those copies (MADV_DONTNEED)
 * and taking writes them into the memfd, keeping the old bytes of the same
 * pages as the previous snapshot's undo delta. A page table walk finds the
 * written pages (see ll_snap_mechanism); it costs about 30 ns per resident
 * page on a 2-core VM (0.8 ms for 100 MiB resident).
 *
 * Any number of snapshots may be live at once; each is a slot the caller
 * keeps. A block reserved anonymously (huge pages) moves onto a memfd on the
 * first take. After fork(), both processes keep working: the first take in
 * each copies the shared baseline into a private memfd (O(data), once).
 * Handles are per block; call ll_snap_end before ll_block_release. */
typedef struct ll_snap ll_snap;

/* Takes a snapshot of the whole block as it is now. The first one after a
 * load, a fork or on an anonymous block copies the baseline into a fresh
 * memfd (O(data)); every other costs O(pages written since the last take). */
ll_snap *ll_snap_take(ll_block *block, ll_error *err);

/* Makes the block's bytes equal to the snapshot's again. The snapshot stays
 * valid and can be restored again; newer snapshots stay valid too. Costs
 * O(pages written since the last take + pages that differ between this
 * snapshot and the newest). Fails on a snapshot that was dropped. */
int ll_snap_restore(ll_block *block, ll_snap *snap, ll_error *err);

/* Frees a snapshot; older and newer ones stay valid. Safe with NULL. */
void ll_snap_drop(ll_block *block, ll_snap *snap);

/* Calls visit(offset, ctx) for each page written since the newest snapshot,
 * in ascending order of offset (in bytes from the block's base). After a
 * restore of an older snapshot, the pages it put back count as written. */
typedef void ll_page_visit(uint64_t offset, void *ctx);
int ll_snap_changed(ll_block *block, ll_page_visit *visit, void *ctx, ll_error *err);

/* The name of the mechanism that tracks written pages: "pagemap_scan" (the
 * PAGEMAP_SCAN ioctl, Linux 6.7+) or "pagemap" (/proc/self/pagemap, any
 * kernel). The environment variable LOOPLIVE_SNAP_TRACKER=pagemap forces
 * the fallback. */
const char *ll_snap_mechanism(const ll_block *block);

/* The number of live snapshots of the block. */
size_t ll_snap_count(const ll_block *block);

/* Frees the snapshot layer's state for the block, including every live
 * snapshot (their handles become invalid). Safe on a block never used. */
void ll_snap_end(ll_block *block);

typedef struct ll_snap_save_params {
    ll_snap *snap;           /* what to save; NULL: the block as it is now */
    uint64_t layout_version; /* the caller's (e.g. a hash of its state structs) */
} ll_snap_save_params;

/* Saves to path atomically (a temporary file beside it, fsync, rename): a
 * crash leaves the previous file. The file records the architecture, base,
 * size, page size and layout_version, holds only non-zero pages (the rest
 * are holes: no disk), and a page index with an XXH3 checksum per extent of
 * at most 1 MiB. O(pages holding data). */
int ll_snap_save_(ll_block *block, const char *path, ll_error *err, const ll_snap_save_params *p);
#define ll_snap_save(block, path, err, ...)                                                        \
    ll_snap_save_((block), (path), (err), &(ll_snap_save_params){__VA_ARGS__})

typedef struct ll_snap_load_params {
    uint64_t layout_version; /* must equal the saved one */
    int verify;              /* 1: check every data checksum first (O(data)) */
} ll_snap_load_params;

/* Maps a saved file over the block (MAP_PRIVATE at the same base): pages
 * are read from the file when first touched, so a 1 GiB state is usable in
 * milliseconds, and every pointer inside it is valid as saved. Checks the
 * header and the index (O(index)); data checksums only with .verify or
 * ll_snap_verify. Refuses, leaving the block untouched: not a snapshot
 * file, truncated or corrupted header/index, another architecture, base,
 * size, page size or layout version, or live snapshots on the block. The
 * file is never written: block->fd becomes the file until the next take
 * copies its data into a fresh memfd (O(data), once). */
int ll_snap_load_(ll_block *block, const char *path, ll_error *err, const ll_snap_load_params *p);
#define ll_snap_load(block, path, err, ...)                                                        \
    ll_snap_load_((block), (path), (err), &(ll_snap_load_params){__VA_ARGS__})

/* Checks a saved file: header, index, every extent's checksum, and that
 * nothing but zeros lies outside the extents. O(data). */
int ll_snap_verify(const char *path, ll_error *err);

/* ==== module: load, watch and reload the code library ================== */

/* A loaded code library with a table of named entry points, reloaded when a
 * new build appears.
 *
 *     static const char *names[] = {"update", "render"};
 *     ll_module *m = ll_module_open("build/libgame.so", &err, .symbols = names,
 *                                   .symbol_count = 2, .block = &block);
 *     for (;;) {                                   // the frame loop
 *         if (ll_module_poll(m, &err) < 0) report(err.msg);   // old code runs on
 *         if (ll_module_protect(m, frame, &frame_ctx, &err) < 0) report(err.msg);
 *     }
 *
 * Each version is loaded from a private copy (a unique path in a temporary
 * directory) so the compiler can overwrite the original. A background thread
 * watches the library's directory (inotify; stat() polling where inotify is
 * missing) and raises a flag; ll_module_poll reads only that flag, so a frame
 * without a new build costs no system call. A build is loaded once it is
 * complete: `<lib>.lock` is not flock()ed by the build, the file was renamed
 * into place or has stopped changing, and its ELF headers lie inside the
 * file. A build that fails to load leaves the old code running.
 *
 * Threads: poll, reload, protect and close from the thread that calls into
 * the module, between calls (an image is unloaded under its callers
 * otherwise). Fault handlers are process-wide, installed while a protected
 * module is open; guards are per thread. After fork() the child has no
 * watcher: it sees no new builds. */
typedef struct ll_module ll_module;

typedef struct ll_module_params {
    const char *const *symbols; /* entry point names to bind, in table order */
    size_t symbol_count;
    ll_block *block;           /* restored after a crash in module code, and
                                  scanned for pointers into the old code */
    int unprotected;           /* 1: let faults through (for a debugger) */
    int allow_stale;           /* 1: load a new build even when the block holds
                                  pointers into the old one that cannot be
                                  re-pointed (the old image then stays mapped) */
    int watch_stat;            /* 1: poll stat() instead of using inotify */
    uint32_t stable_ms;        /* a build that was written in place (not renamed)
                                  must stay unchanged this long; default 30 */
    uint32_t stat_interval_ms; /* stat() polling period; default 10 */
} ll_module_params;

/* Loads the library and binds every entry point. Fails when the file is
 * missing, is not a complete ELF shared library, does not load, or lacks an
 * entry point. */
ll_module *ll_module_open_(const char *path, ll_error *err, const ll_module_params *params);
#define ll_module_open(path, err, ...)                                                             \
    ll_module_open_((path), (err), &(ll_module_params){__VA_ARGS__})

/* The address bound to entry point i of the current version. */
void *ll_module_symbol(const ll_module *module, size_t index);

/* Checks for a new build and loads it: 1 reloaded, 0 nothing new, -1 a new
 * build failed to load (err says why) and the old code keeps running. Reads
 * one flag when nothing changed. A build refused because the block points
 * into the old code where no re-pointing is possible (err lists the offsets)
 * stays refused: change the state, then call ll_module_reload. */
int ll_module_poll(ll_module *module, ll_error *err);

/* Loads the library now, whether or not the watcher saw a change. Returns 0,
 * or -1 with the old code still in place. */
int ll_module_reload(ll_module *module, ll_error *err);

/* Runs fn(ctx), which calls into the module, under crash protection: on a
 * fault (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, stack overflow) anywhere
 * during the call, rolls back to the last good version, restores the block
 * to its state before the call, fills err (signal, address, function+offset)
 * and returns -1. A version is good once a protected call through it
 * returned. Faults outside protected calls go to the previous handler (the
 * process dies as it would have). Also returns -1 without calling when the
 * protection cannot be set up (the block's snapshot failed). */
int ll_module_protect(ll_module *module, void (*fn)(void *ctx), void *ctx, ll_error *err);

/* A word in the block that points into an old build and could not be
 * re-pointed (a string literal, the old build's static data, a function the
 * new build lacks). */
typedef struct ll_module_stale {
    uint64_t offset; /* from the block's base */
    uint64_t value;  /* the pointer */
    char what[120];  /* e.g. `read-only data "hello"` */
} ll_module_stale;

enum { LL_MODULE_STALE_MAX = 32 };

/* The last fault ll_module_protect caught. */
typedef struct ll_module_fault {
    int signal;      /* 0 when none was caught yet */
    int code;        /* si_code */
    uint64_t addr;   /* si_addr: the faulting address */
    uint64_t pc;     /* where it happened */
    char where[200]; /* "function+0x12 (file)" */
} ll_module_fault;

typedef struct ll_module_info {
    uint64_t version;   /* build in use: 1 is the first one loaded */
    uint64_t loads;     /* builds loaded, including the first */
    uint64_t failures;  /* builds that failed to load */
    uint64_t faults;    /* faults caught */
    uint64_t rollbacks; /* returns to an earlier version after a fault */
    uint64_t repointed; /* function pointers re-pointed by the last load */
    size_t stale_count; /* pointers the last load could not re-point */

    /* The first LL_MODULE_STALE_MAX of them, in block order. */
    ll_module_stale stale[LL_MODULE_STALE_MAX];
    ll_module_fault fault; /* the last fault caught */

    const char *watch;     /* "inotify" or "stat" */
    const char *copy_dir;  /* the private copies' directory */
    const char *copy_path; /* the copy in use; valid until the next load */
} ll_module_info;

/* Fills info with the module's counters and reports. */
void ll_module_query(const ll_module *module, ll_module_info *info);

/* Unloads the library and removes its private copies. Safe with NULL. */
void ll_module_close(ll_module *module);

/* ==== loop: record input, play it back in a loop, rewind, replay ======= */

/* The application interface. An application library exports one function,
 *
 *     const ll_app *looplive_app(void);
 *
 * returning a table of its entry points. The host owns the block, the time
 * and the platform; the application never calls the OS for them. After a
 * reload the host calls looplive_app() again and uses the new table; the
 * state in the block is untouched. */
#define LL_APP_API_VERSION 1

/* What a platform saw this frame, before the application turns it into its
 * own fixed-size input struct (which is what gets recorded). */
typedef struct ll_platform_input {
    uint8_t keys[256];    /* 1 while held: ASCII for printable keys, LL_KEY_* */
    uint8_t pressed[256]; /* 1 on the frame the key went down */
    int32_t mouse_x, mouse_y;
    uint32_t mouse_buttons; /* bit 0 left, 1 right, 2 middle */
    int16_t axes[6];        /* game controller: left x/y, right x/y, triggers */
    uint32_t buttons;       /* game controller buttons, SDL order */
} ll_platform_input;

enum { LL_KEY_UP = 128, LL_KEY_DOWN, LL_KEY_LEFT, LL_KEY_RIGHT, LL_KEY_ESCAPE };

/* Where an application draws. Text platforms (terminal) give a grid of
 * cells; pixel platforms (SDL2) give 0xAARRGGBB pixels. Either pointer may
 * be NULL: draw to the one you get. */
typedef struct ll_canvas {
    int width, height; /* cells or pixels */
    uint32_t *pixels;  /* width * height, row-major; NULL on text platforms */
    char *cells;       /* width * height characters; NULL on pixel platforms */
    uint8_t *colors;   /* width * height ANSI colours (0-15) for cells */
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
} ll_app;

typedef const ll_app *ll_app_get(void);

/* ==== host: ready-made platform layers that drive an application ======== */

#ifdef __cplusplus
}
#endif

#endif /* LOOPLIVE_H */
