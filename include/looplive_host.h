/* looplive_host.h - for hosts and tools that drive looplive: the block,
 * its arenas and snapshots, the code module, the loop and the ready-made host.
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
 * This header includes looplive_app.h (the application's contract, the block
 * and its arenas); address-space analysis (maps, advise, ELF) is
 * looplive_addr.h; looplive.h includes all three.
 *
 * Example: a program that keeps its state in the block and takes it back
 * (reserve at .base = LOOPLIVE_BASE from `looplive addr --self --format c`
 * to find the block at the same address on every run):
 *
 *     #include <looplive_host.h>
 *
 *     int main(void)
 *     {
 *         ll_error err;
 *         ll_block block;
 *         if (ll_block_reserve(&block, &err, .size = 64 << 20) != 0) {
 *             fprintf(stderr, "looplive: %s\n", err.msg);
 *             return 1;
 *         }
 *         ll_arena *state = ll_arena_create(&block, "permanent", 1 << 20, &err);
 *         uint64_t *counter = (uint64_t *)ll_arena_push(state, sizeof *counter, .zero = 1);
 *         ll_snap *start = ll_snap_take(&block, &err); // costs the pages written
 *         for (int i = 0; i < 10; i++) (*counter)++;
 *         if (ll_snap_restore(&block, start, &err) != 0 || *counter != 0) return 1;
 *         printf("%llu\n", (unsigned long long)*counter); // 0: taken back
 *         ll_block_release(&block);
 *         return 0;
 *     }
 *
 * Naming: every function is ll_<object>[_<part>]_<verb>[_<how>]. The object
 * is what the first argument is (ll_block_release, ll_loop_record,
 * ll_host_run); a part of it comes before the verb (ll_block_arena_find,
 * ll_loop_speed_set); a qualifier of the verb after it (ll_maps_read_pid,
 * ll_snap_take_visit). Reading a value is _get (ll_host_status_get,
 * ll_loop_slot_frames_get), setting one _set, looking one up by name _find,
 * writing text into a buffer _format. A function with options is a macro
 * over the function of the same name ending in _, whose params struct is
 * <object>_params or <verb>_params (ll_block_params, ll_push_params).
 *
 * Conventions
 * - Functions that can fail return 0 (or a non-NULL pointer) on success and
 *   -1 (or NULL) on failure, and fill an ll_error when one is passed. The
 *   message says what was asked, what was found and what to do; it carries no
 *   "looplive: " prefix (the command adds it).
 * - Optional parameters go in a params struct filled by designated
 *   initializers through a macro: ll_block_reserve(&b, &err, .size = 1 << 30).
 * - Addresses and sizes are uint64_t; sizes print in human units (1 GiB).
 */
#ifndef LOOPLIVE_HOST_H
#define LOOPLIVE_HOST_H

#include "looplive_app.h"
#include "looplive_text.h"

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ==== base: sizes ====================================================== */

/* Parses a byte count: decimal or 0x hex, with an optional K, M, G, T, P
 * suffix (powers of 1024; "KiB", "MB"... are accepted too). Fails on an
 * unknown suffix, no digits, or overflow past 2^64-1. */
int ll_size_parse(const char *text, uint64_t *out, ll_error *err);

/* Writes bytes in the largest binary unit that keeps it readable ("1 GiB",
 * "1.50 MiB", "4 KiB", "17 B") into buf (at least 32 bytes) and returns buf. */
char *ll_size_format(uint64_t bytes, char *buf, size_t cap);

/* The page size of this machine (sysconf(_SC_PAGESIZE)). */
uint64_t ll_page_size_get(void);

/* A range of addresses, [start, end). */
typedef struct ll_range {
    uint64_t start, end;
} ll_range;

/* ==== memory: reserving the block, and what hosts do with it ========== */

/* The block's flags (ll_block.flags). */
enum {
    LL_BLOCK_FIXED = 1u << 0,     /* base was requested, not chosen by the OS */
    LL_BLOCK_ANONYMOUS = 1u << 1, /* plain anonymous memory: no snapshot taken yet */
    LL_BLOCK_HUGE = 1u << 2,      /* MADV_HUGEPAGE was applied */
    LL_BLOCK_PREFAULTED = 1u << 3,
    LL_BLOCK_LOADED = 1u << 4, /* maps a loaded snapshot file (fd) until the next take */
};

#define LL_BLOCK_MAX_ARENAS  64
#define LL_BLOCK_TABLE_BYTES 8320 /* the arena table at the block's start */

/* Arena number index of the table (creation order), or NULL past the end. */
ll_arena *ll_block_arena_get(const ll_block *block, uint32_t index);

typedef struct ll_block_params {
    int _ll;          /* reserved: first, 0 (lets a call with no options compile everywhere) */
    void *base;       /* where; NULL lets the OS choose (release builds) */
    uint64_t size;    /* bytes; rounded up to the page size */
    int prefault;     /* commit and fault in every page now */
    int huge_pages;   /* MADV_HUGEPAGE, base and size 2 MiB aligned; the
                         first snapshot moves the block onto a memfd, which
                         ends the huge pages */
    const char *name; /* the memfd's name in /proc/PID/maps once a snapshot
                         is taken (memfd:NAME); NULL: "looplive"; at most
                         LL_BLOCK_NAME_MAX - 1 bytes */
} ll_block_params;

/* Reserves the block with MAP_FIXED_NOREPLACE: never replaces a mapping.
 * When something is in the way the error names its range, permissions and
 * path as /proc/self/maps shows them and suggests `looplive addr --size`.
 * Address space only (MAP_NORESERVE): a page costs memory when first written,
 * or at once with .prefault. Errors: size below a page or above the
 * address-space width, base not page aligned (2 MiB with .huge_pages),
 * base + size wrapping or past the end of the address space, a name too
 * long. */
int ll_block_reserve_(ll_block *block, ll_error *err, const ll_block_params *params);
#define ll_block_reserve(block, ...)                                                               \
    ll_block_reserve_((block), LL_FIRST_(__VA_ARGS__, ~),                                          \
                      LL_PARAMS_(ll_block_params, LL_REST_(__VA_ARGS__, )))

/* Unmaps the block and closes its memfd or file. Safe on a zeroed handle. */
void ll_block_release(ll_block *block);

/* ---- arena guards ----------------------------------------------------
 *
 * Partitions are laid out one after another, page aligned; with guards a
 * PROT_NONE page follows each one (and precedes one that starts right after
 * the header, which holds the table). A fault there inside a protected
 * module call is rolled back and its report names the partition; anywhere
 * else it prints the partition's name and the process dies of the SIGSEGV
 * (or the handler installed before looplive's, e.g. a sanitizer's, gets it).
 * Guard pages cannot be read: code that reads the whole block must skip
 * them (ll_block_owner_get says "guard page"). */

/* Called when a push does not fit: return 1 to retry the push once (after
 * making room), 0 to fail it. It may also longjmp or abort. */
typedef int ll_arena_full_fn(ll_arena *arena, uint64_t requested, uint64_t available, void *ctx);

/* Sets the hook for every arena of the block (NULL removes it). The hook is
 * kept in this process, never in the block: a restore or a load keeps it, a
 * saved file never carries it, and another process (a fork, a later run)
 * has none until it sets its own. At most 16 blocks have hooks at once.
 * Set it from the host, not from code that is reloaded. */
int ll_block_on_full_set(ll_block *block, ll_arena_full_fn *fn, void *ctx, ll_error *err);

/* Checks head, the first len bytes that are about to become the block's
 * (the start of a snapshot file's or a recording's data), before they are
 * mapped or copied in: when they hold an arena table, every count, range
 * and guard in it must lie inside this block, so that nothing read from a
 * file can make the library protect, push or report outside it. Bytes
 * without a table pass. Returns 0, or -1 with err saying what is wrong. */
int ll_block_table_check(const ll_block *block, const void *head, uint64_t len, ll_error *err);

/* What the byte at offset belongs to: the innermost arena's name, or "block
 * header", "guard page", "unallocated", "outside the block". The string
 * lives in the block or is static. */
const char *ll_block_owner_get(const ll_block *block, uint64_t offset);

/* Bytes of the block committed: the header plus each partition's committed. */
uint64_t ll_block_committed_get(const ll_block *block);

/* Prints the block (base, size, committed) and one line per arena (range,
 * used, capacity, high water, committed) into out. */
int ll_block_describe(const ll_block *block, FILE *out);

/* The same text into buf (always terminated when cap > 0); returns the
 * length the whole text needs, like snprintf. */
size_t ll_block_describe_str(const ll_block *block, char *buf, size_t cap);

/* After the block's contents were replaced by a load from outside this
 * process: checks the header (made for this base and size) and arms the
 * guard pages its table lists (ll_snap_restore and a recording's load call
 * it). A guard page's bytes are dropped when it is armed: it reads the
 * baseline again, and no layer reads through it. */
int ll_block_attach(ll_block *block, ll_error *err);

/* ==== snapshot: save, restore and persist the block ==================== */

/* A snapshot of a block's contents. Taking and restoring one costs time and
 * memory in proportion to the pages written since, not to the block size:
 * the block's memfd is the baseline (the newest snapshot), a written page is
 * a private copy-on-write page, restoring drops those copies (MADV_DONTNEED)
 * and taking writes them into the memfd, keeping the old bytes of the same
 * pages as the previous snapshot's undo delta. A page table walk finds the
 * written pages (see ll_snap_mechanism_get): one walk costs a fixed time per
 * mapped page of the block plus a copy per written page; figures for one
 * machine are in docs/PERFORMANCE.md ("snapshot"), `make bench` measures yours.
 *
 * Any number of snapshots may be live at once; each is a slot the caller
 * keeps. A block is reserved as anonymous memory and moves onto a memfd
 * (named after the block's .name) on the first take, which copies its
 * written pages (O(data), once; huge pages end there); any move re-arms the
 * arena guard pages. After fork(), both processes keep working: the first take in each
 * copies the shared baseline into a private memfd (O(data), once).
 * Handles are per block; ll_block_release frees them with the block.
 *
 * Memory: a snapshot owns the old bytes of the pages written after it (heap
 * slabs freed whole with it, nothing shared); dropping one copies into the
 * next older snapshot exactly the pages that one lacks and frees the rest.
 * So a rewind window of N takes over a held snapshot needs N frames' pages
 * plus at most one copy of each page of the block, however long it runs.
 *
 * Threads: a block has one writer. Call the snapshot functions for a block
 * from one thread at a time (they share unlocked per-block state; separate
 * blocks on separate threads are fine), and let no other thread write the
 * block while they run. What happens if one does: during a take, a write to
 * a page the take is committing can be lost (the page is copied into the
 * baseline, then its private copy dropped), and a write the page walk
 * missed belongs to the next take, so the snapshot is no single instant;
 * during a restore, a write may be overwritten or survive, and the block
 * has no guard pages while the restore runs (they are re-armed at its end).
 * Readers on other threads see unchanged bytes during a take, and a mix of
 * old and new pages during a restore. */
typedef struct ll_snap ll_snap;

/* Takes a snapshot of the whole block as it is now. The first one (the
 * block is still anonymous), and the first after a load or a fork, copies
 * the data into a fresh memfd (O(data)); every other costs O(pages written
 * since the last take). Fails when the memfd cannot be created or sized
 * (open-file or file-size limits). */
ll_snap *ll_snap_take(ll_block *block, ll_error *err);

/* Makes the block's bytes equal to the snapshot's again. The snapshot stays
 * valid and can be restored again; newer snapshots stay valid too. Costs
 * O(pages written since the last take + pages that differ between this
 * snapshot and the newest). The arena layout may differ from the
 * snapshot's: the block is made writable before any byte is written, then
 * the guard pages of the arena table that came back are armed
 * (ll_block_attach). Fails on a snapshot that was dropped, or when part of
 * the block was unmapped. */
int ll_snap_restore(ll_block *block, ll_snap *snap, ll_error *err);

/* Frees a snapshot; older and newer ones stay valid. Safe with NULL. */
void ll_snap_drop(ll_block *block, ll_snap *snap);

/* Calls visit(offset, ctx) for each page written since the newest snapshot,
 * in ascending order of offset (in bytes from the block's base). After a
 * restore of an older snapshot, the pages it put back count as written. */
typedef void ll_page_visit(uint64_t offset, void *ctx);
int ll_snap_changed_visit(ll_block *block, ll_page_visit *visit, void *ctx, ll_error *err);

/* Calls fn(offset, bytes, ctx) for every page of the snapshot (NULL: the
 * block as it is now) that holds non-zero bytes, in ascending order of
 * offset: the one way to list the block's contents. It counts pages the
 * baseline holds (the memfd or a loaded file) and written pages whether
 * present or swapped out (mincore says 0 for a page swapped out once its
 * swap cache copy is gone: never use it to find data), and never reads through a page that is not
 * written, so guard pages cost nothing. bytes is valid during the call only; fn returns 0 to go on,
 * anything else stops the walk and is returned. Costs O(pages holding data) plus a scan of one bit
 * per page of the block. */
typedef int ll_page_bytes_fn(uint64_t offset, const uint8_t *bytes, void *ctx);
int ll_snap_pages_visit(ll_block *block, ll_snap *snap, ll_page_bytes_fn *fn, void *ctx,
                        ll_error *err);

typedef struct ll_pointers_params {
    int _ll;               /* reserved: first, 0 (lets a call with no options compile everywhere) */
    ll_snap *snap;         /* the state to check; NULL: the block as it is now */
    const uint64_t *pages; /* only these pages (indices) of the block now */
    uint64_t page_count;
    uint64_t fault_addr; /* instead: a word of the block now at most 4 KiB below
                            this address (a fault's), pointing out of the block */
    /* Names the place of a word no arena holds (a global kept with the
     * block: ll_module_global_name_get): writes its name into out and
     * returns 1, or 0 to leave it unnamed. NULL: none. */
    int (*name_of)(uint64_t offset, char *out, size_t cap, void *ctx);
    void *name_ctx;
} ll_pointers_params;

/* Checks that no 8-byte word of the state points into memory a later run
 * of it will not have: the C library's heap ([heap], or an anonymous
 * mapping such as a large malloc's) or a stack (per /proc/self/maps). -1
 * (EINVAL) naming the first such word: "state +0x40 (in ARENA) holds 0x...,
 * which points into the C heap ([heap]): allocate it from the block (N
 * words ...; try: ...)". The loop checks a state it records or saves, and
 * each frame of a determinism check; after a fault in a frame it looks for
 * the word the faulting address came from (.fault_addr: a state saved by
 * another process that kept a pointer out of the block). */
int ll_block_pointers_check_(ll_block *block, ll_error *err, const ll_pointers_params *params);
#define ll_block_pointers_check(block, ...)                                                        \
    ll_block_pointers_check_((block), LL_FIRST_(__VA_ARGS__, ~),                                   \
                             LL_PARAMS_(ll_pointers_params, LL_REST_(__VA_ARGS__, )))

/* ll_snap_changed_visit and ll_snap_take in one page table walk instead of two:
 * visits the pages written since the newest snapshot, then takes one (the
 * loop layer's per-frame hash-and-snapshot). visit may be NULL. */
ll_snap *ll_snap_take_visit(ll_block *block, ll_page_visit *visit, void *ctx, ll_error *err);

/* The name of the mechanism that tracks written pages: "pagemap_scan" (the
 * PAGEMAP_SCAN ioctl, Linux 6.7+) or "pagemap" (/proc/self/pagemap, any
 * kernel). The environment variable LOOPLIVE_SNAP_TRACKER=pagemap forces
 * the fallback. */
const char *ll_snap_mechanism_get(const ll_block *block);

/* The memory a snapshot holds alone: the page copies of its delta (the
 * pages that differ from the next newer snapshot, zero pages free) and its
 * index. Newer snapshots and the baseline are not counted. 0 for NULL. */
uint64_t ll_snap_size_get(const ll_block *block, const ll_snap *snap);

/* The number of live snapshots of the block. */
size_t ll_snap_count_get(const ll_block *block);

/* Frees the snapshot layer's state for the block, including every live
 * snapshot (their handles become invalid). Safe on a block never used. */
void ll_snap_end(ll_block *block);

typedef struct ll_snap_save_params {
    int _ll;       /* reserved: first, 0 (lets a call with no options compile everywhere) */
    ll_snap *snap; /* what to save; NULL: the block as it is now */
    uint64_t layout_version; /* the caller's (e.g. a hash of its state structs) */
    const void *extra;       /* an opaque section saved with the state (e.g. */
    uint64_t extra_size;     /* the module's code map), extra_size bytes, */
    uint32_t extra_tag;      /* found again on load by this tag */
} ll_snap_save_params;

/* Saves to path atomically (a temporary file beside it, fsync, rename): a
 * crash leaves the previous file. The file records the architecture, base,
 * size, page size and layout_version, holds only non-zero pages (the rest
 * are holes: no disk), and a page index with an XXH3 checksum per extent of
 * at most 1 MiB. O(pages holding data). */
int ll_snap_save_(ll_block *block, const char *path, ll_error *err, const ll_snap_save_params *p);
#define ll_snap_save(block, path, ...)                                                             \
    ll_snap_save_((block), (path), LL_FIRST_(__VA_ARGS__, ~),                                      \
                  LL_PARAMS_(ll_snap_save_params, LL_REST_(__VA_ARGS__, )))

/* Called by ll_snap_load with the saved state mapped at state (not yet at
 * the block's address), the file's extra section and the block offsets
 * that hold data; may rewrite words of state. Returns 0, or -1 with err
 * filled to refuse the load (the block is then left as it was). */
typedef int ll_snap_extra_fn(void *ctx, uint8_t *state, uint64_t state_size, const void *extra,
                             uint64_t extra_size, const ll_range *data, size_t count,
                             ll_error *err);

typedef struct ll_snap_load_params {
    int _ll; /* reserved: first, 0 (lets a call with no options compile everywhere) */
    uint64_t layout_version;    /* must equal the saved one */
    int verify;                 /* 1: check every data checksum first (O(data)) */
    uint32_t extra_tag;         /* when the file has an extra section of this tag, */
    ll_snap_extra_fn *extra_fn; /* call this on it before the state replaces the */
    void *extra_ctx;            /* block (e.g. ll_module_snap_extra_apply, the module) */
} ll_snap_load_params;

/* Maps a saved file over the block (MAP_PRIVATE at the same base): pages
 * are read from the file when first touched, so a 1 GiB state is usable in
 * milliseconds, and every pointer inside it is valid as saved. Checks the
 * header and the index (O(index)); data checksums only with .verify or
 * ll_snap_verify. A file is untrusted input (its checksums prove nothing:
 * anyone can recompute them): every size is checked without wrapping, and
 * the arena table it brings is checked from the file's bytes
 * (ll_block_table_check) before anything is mapped. Refuses, leaving the
 * block untouched (bytes, mapping, protections): not a snapshot file,
 * truncated or corrupted header/index, another architecture, base, size,
 * page size or layout version, an arena table reaching outside the block,
 * or live snapshots on the block. The file is never written: block->fd
 * becomes the file until the next take copies its data into a fresh memfd
 * (O(data), once). Then arms the guard pages of the arena table that came
 * with the state (ll_block_attach); only a failing system call can stop
 * that, after the mapping. */
int ll_snap_load_(ll_block *block, const char *path, ll_error *err, const ll_snap_load_params *p);
#define ll_snap_load(block, path, ...)                                                             \
    ll_snap_load_((block), (path), LL_FIRST_(__VA_ARGS__, ~),                                      \
                  LL_PARAMS_(ll_snap_load_params, LL_REST_(__VA_ARGS__, )))

/* Checks a saved file: header, index, every extent's checksum, the extra
 * section's, and that nothing but zeros lies outside the extents. O(data). */
int ll_snap_verify(const char *path, ll_error *err);

/* Saves the newest snapshot (what restoring it would bring back, not the
 * writes made since) to path in the format of ll_snap_save, for a process
 * that can no longer trust its C library: no allocation, no stdio, no
 * lock; raw open, pread, pwrite, fsync and rename (async-signal-safe).
 * The loop and crash protection keep the state before the running frame
 * as the newest snapshot, so after a fault this is the last good frame.
 * ll_snap_load (or `looplive run --resume FILE`) reads it back. Fails when
 * the block has no snapshot yet. O(pages holding data). */
int ll_snap_save_newest(const ll_block *block, const char *path, uint64_t layout_version,
                        ll_error *err);
/* ll_snap_save_newest with an extra section (as ll_snap_save's .extra), e.g.
 * the code map a host made before the fault (ll_module_codemap_build), which
 * ll_snap_load's .extra_fn reads back: async-signal-safe too. */
int ll_snap_save_newest_extra(const ll_block *block, const char *path, uint64_t layout_version,
                              const void *extra, uint64_t extra_size, uint32_t extra_tag,
                              ll_error *err);

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
 * Old builds stay mapped and forward. A build that ran is never unloaded
 * before ll_module_close. On each load, every function of every earlier
 * build, exported or static (.dynsym and .symtab), whose name the new build
 * defines exactly once gets a jump to the new function written over its
 * entry (jmp rel32 within 2 GiB, else jmp [rip] and the 8-byte address);
 * after a rollback every build, the one that crashed included, forwards to
 * the good one and the good one's entries get their own bytes back. So a
 * function pointer kept anywhere (the block, a snapshot, a rewind entry, a
 * slot, the host's structures, the stack) calls the code in use, and string
 * literals and static data of old builds stay readable. Never matched:
 * compiler clones (any name with a '.': foo.isra.0, foo.part.1, foo.cold),
 * names defined twice, the C runtime's own functions. A function too small
 * to hold a jump or missing from the new build keeps running its old code
 * and is listed in ll_module_info.unforwarded. Build the library with
 * -fpatchable-function-entry=14 (gcc 8+ and clang 10+; `looplive run
 * --build` and the examples do) so that every function has room for the
 * longest jump; without it a function of fewer than 5 bytes (`return 0;`
 * at -O2) cannot forward. Patching needs the old code made writable for a
 * moment (mprotect): where a policy forbids that (SELinux execmod, PaX-like
 * W^X), the load is refused with an error naming it. Only x86_64 patches
 * today; elsewhere old builds stay mapped without forwarding.
 *
 * Threads: poll, reload, protect and close from the thread that calls into
 * the module, between calls (code is patched under its callers otherwise).
 * Fault handlers are process-wide, installed by the one fault dispatcher
 * while a protected module, a guarded block or the terminal platform needs
 * them; guards are per thread. Protection starts one helper thread per
 * process (it checks that the C library still works after a fault inside
 * it). After fork() the child has no watcher: it sees no new builds. */
typedef struct ll_module ll_module;

/* The compiler flags that give every function of an application library
 * room for the forwarding jump (gcc 8+, clang 10+). `looplive run --build`
 * passes them to its command in $LOOPLIVE_CFLAGS. */
#define LL_PATCHABLE_CFLAGS "-fpatchable-function-entry=14"

typedef struct ll_module_params {
    int _ll; /* reserved: first, 0 (lets a call with no options compile everywhere) */
    const char *const *symbols; /* entry point names to bind, in table order */
    size_t symbol_count;
    ll_block *block;           /* restored after a crash in module code */
    int unprotected;           /* 1: let faults through (for a debugger) */
    int allow_stale;           /* no effect (kept for source compatibility):
                                  old builds stay mapped and forward, so no
                                  pointer into them is refused */
    int watch_stat;            /* 1: poll stat() instead of using inotify */
    int no_watch;              /* 1: no watcher thread; new builds load only
                                  through ll_module_reload */
    uint32_t stable_ms;        /* a build that was written in place (not renamed)
                                  must stay unchanged this long; default 30 */
    uint32_t stat_interval_ms; /* stat() polling period; default 10 */
    uint64_t globals_room;     /* bytes at the end of .block that keep the
                                  library's globals (0: they are not kept;
                                  see ll_module_globals_check) */
} ll_module_params;

/* Loads the library and binds every entry point. Fails when the file is
 * missing, is not a complete ELF shared library, does not load, or lacks an
 * entry point. */
ll_module *ll_module_open_(const char *path, ll_error *err, const ll_module_params *params);
#define ll_module_open(path, ...)                                                                  \
    ll_module_open_((path), LL_FIRST_(__VA_ARGS__, ~),                                             \
                    LL_PARAMS_(ll_module_params, LL_REST_(__VA_ARGS__, )))

/* The address bound to entry point i of the current version. */
void *ll_module_symbol_get(const ll_module *module, size_t index);

/* Checks for a new build and loads it: 1 reloaded, 0 nothing new, -1 a new
 * build failed to load (err says why) and the old code keeps running. Reads
 * one flag when nothing changed. A build whose forwarding the system
 * refuses (code that may not be made writable) stays refused: call
 * ll_module_reload once the policy allows it. */
int ll_module_poll(ll_module *module, ll_error *err);

/* Loads the library now, whether or not the watcher saw a change. Returns 0,
 * or -1 with the old code still in place. */
int ll_module_reload(ll_module *module, ll_error *err);

typedef struct ll_protect_params {
    int _ll;       /* reserved: first, 0 (lets a call with no options compile everywhere) */
    ll_snap *snap; /* the block's state to restore after a fault: a snapshot
                      of the block as it is right now (normally its newest,
                      nothing written since), which the caller keeps; the
                      call neither takes nor drops one, saving a page table
                      walk. NULL: take one before the call, drop it after. */
    int lookup;    /* 1: the call only looks something up (looplive_app()):
                      returning does not make the version good */
} ll_protect_params;

/* Runs fn(ctx), which calls into the module, under crash protection: on a
 * fault (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, stack overflow) anywhere
 * during the call, rolls back to the last good version, restores the block
 * to its state before the call (or to .snap), fills err (signal, address,
 * function+offset, the arena of a guard page, and for a pc outside the
 * module the module code that called there) and returns -1. A version is
 * good once a protected call through it returned (not a .lookup). Faults
 * outside protected calls go to the previous handler, with its own mask
 * and flags (the process dies as it would have). A fault inside another
 * library that left the C library unusable (its heap lock held: glibc
 * aborting a double free) is not recovered from: nothing is restored,
 * rolled back or freed, err->code is ENOTRECOVERABLE, and every later call
 * is refused; save with ll_snap_save_newest and exit. Also returns -1 without
 * calling when the protection cannot be set up (the block's snapshot
 * failed). Without .snap each call costs a snapshot take (one walk of the
 * block's page tables, in proportion to its mapped pages; see
 * docs/PERFORMANCE.md) and drop. fn must
 * return normally: leaving it by longjmp (or a C++ exception) would leave
 * the protection pointing at a dead stack frame. */
int ll_module_protect_(ll_module *module, void (*fn)(void *ctx), void *ctx, ll_error *err,
                       const ll_protect_params *params);
#define ll_module_protect(module, fn, ctx, ...)                                                    \
    ll_module_protect_((module), (fn), (ctx), LL_FIRST_(__VA_ARGS__, ~),                           \
                       LL_PARAMS_(ll_protect_params, LL_REST_(__VA_ARGS__, )))

/* A function of an earlier build that does not forward to the build in
 * use: its old code keeps running when called through an old pointer. */
enum { LL_FORWARD_MISSING = 1, LL_FORWARD_TOO_SMALL = 2 };
typedef struct ll_module_unforwarded {
    uint64_t version; /* the earlier build it belongs to */
    uint64_t size;    /* its size in bytes */
    int reason;       /* LL_FORWARD_MISSING: the build in use lacks the name;
                         LL_FORWARD_TOO_SMALL: fewer bytes than the jump */
    char name[64];
} ll_module_unforwarded;

/* A word of a loaded state that points into code of a saved code map and
 * could not be re-pointed to the build in use (a string literal of that
 * build, its static data, a function the build in use lacks). */
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
    uint64_t sp;     /* the stack pointer then */
    uint64_t caller; /* when pc is outside the module's code (a call to a
                        bad address, a fault inside libc): the return
                        address into the module that led there, else 0 */
    char where[200]; /* "function+0x12 (file version N)[, called from ...]" */
} ll_module_fault;

typedef struct ll_module_info {
    uint64_t version;         /* build in use: 1 is the first one loaded */
    uint64_t loads;           /* builds loaded, including the first */
    uint64_t failures;        /* builds that failed to load */
    uint64_t faults;          /* faults caught */
    uint64_t rollbacks;       /* returns to an earlier version after a fault */
    uint64_t forwarded;       /* functions of earlier builds that jump to this one */
    uint64_t forward_ns;      /* time the last load or rollback spent patching */
    size_t unforwarded_count; /* functions of earlier builds that do not */
    /* The first LL_MODULE_STALE_MAX of them, newest build first. */
    ll_module_unforwarded unforwarded[LL_MODULE_STALE_MAX];
    uint64_t repointed; /* words re-pointed by the last ll_module_codemap_apply */
    size_t stale_count; /* words it could not re-point */

    /* The first LL_MODULE_STALE_MAX of them, in block order. */
    ll_module_stale stale[LL_MODULE_STALE_MAX];
    ll_module_fault fault; /* the last fault caught */

    uint64_t globals_size; /* bytes the globals of the build in use take in the block */
    uint64_t globals_room; /* what to give .globals_room for it: room to grow */

    const char *watch;     /* "inotify", "stat" or "none" (.no_watch) */
    const char *copy_dir;  /* the private copies' directory */
    const char *copy_path; /* the copy in use; valid until close */
} ll_module_info;

/* ---- code maps: code pointers in saved state ----------------------------
 *
 * A state saved with code pointers in it (a behaviour function per entity)
 * and loaded by another process meets other builds at other addresses. The
 * code map, saved beside the state, lists each build's path, build-id, load
 * ranges and functions; applying it to the loaded state re-points every
 * word that falls in a saved range to the same function + offset of the
 * build in use, or refuses, naming the word's offset and the symbol, when
 * the build lacks the function or the word is another build's data (a
 * string literal). The loop layer does this for recordings (ll_loop_save,
 * ll_loop_load, `looplive replay`); with snapshot files:
 *
 *     void *map; uint64_t n;
 *     ll_module_codemap_build(mod, &map, &n, &err);
 *     ll_snap_save(&block, "state.llsnap", &err, .extra = map, .extra_size = n,
 *                  .extra_tag = LL_MODULE_CODEMAP_TAG);
 *     free(map);
 *     ...                                                  // another process
 *     ll_snap_load(&block, "state.llsnap", &err, .extra_tag = LL_MODULE_CODEMAP_TAG,
 *                  .extra_fn = ll_module_snap_extra_apply, .extra_ctx = mod);
 */
#define LL_MODULE_CODEMAP_TAG 0x50414d43u /* "CMAP" */

/* The code map of every build loaded now, in a malloc()ed buffer the caller
 * frees. */
int ll_module_codemap_build(const ll_module *module, void **map, uint64_t *size, ll_error *err);

/* Re-points the words of state (state_size bytes, 8-byte aligned words) in
 * the data ranges (offsets from state) that fall in code of the saved map.
 * Writes nothing unless every such word resolves; info.repointed counts the
 * words rewritten, info.stale lists the refusals. A build still mapped at
 * the saved address (the same process) needs nothing. */
int ll_module_codemap_apply(ll_module *module, uint8_t *state, uint64_t state_size, const void *map,
                            uint64_t map_size, const ll_range *data, size_t count, ll_error *err);

/* ll_module_codemap_apply with the module as void *: an ll_snap_extra_fn. */
int ll_module_snap_extra_apply(void *module, uint8_t *state, uint64_t state_size, const void *extra,
                               uint64_t extra_size, const ll_range *data, size_t count,
                               ll_error *err);

/* The lowest and highest address of any loaded build ([lo, hi)): a quick
 * test before ll_module_code_canonicalize. */
void ll_module_code_span_get(const ll_module *module, uint64_t *lo, uint64_t *hi);

/* A value for addr that does not depend on where builds were loaded: for
 * an address in a function of a loaded build, a hash of the function's name
 * plus the offset; in a build's data, a hash of its build-id plus the
 * offset; anything else, addr itself. The loop's state hash uses it, so the
 * same run hashes the same in every process. */
uint64_t ll_module_code_canonicalize(const ll_module *module, uint64_t addr);

/* The code at an address, named for a person. */
typedef struct ll_code_line {
    char function[128]; /* the function holding it ("" when no symbol does) */
    uint64_t offset;    /* from the function's start */
    char object[256];   /* the file it was loaded from (a module's library,
                           not its private copy) */
    char file[256];     /* source file, from DWARF ("" without) */
    int line;           /* source line, 0 without */
    char no_line[128];  /* why there is no line: built without -g, no libdw */
} ll_code_line;

/* Names the code at addr in this process (any loaded object; module, when
 * given, lets a build's private copy be named by its library's path): the
 * function and offset from the symbol tables (static functions too), the
 * source file and line from the DWARF line table when the object was built
 * with -g. DWARF is read with elfutils' libdw, loaded with dlopen at the
 * first call (libdw1); without it, or without -g, only the function and
 * offset are filled and no_line says why. Returns 0, or -1 when addr lies
 * in no loaded object. */
int ll_module_line_find(const ll_module *module, uint64_t addr, ll_code_line *out, ll_error *err);

/* Makes build `version` (one that loaded and is still mapped) the code in
 * use, as a rollback does: its functions run their own bytes again and
 * every other build, the newest too, forwards to it; the symbol table
 * binds to it. Meant for a forked process that re-simulates a recording
 * with an earlier build (the text it patches is its own copy); in the
 * process that watches, the next load or rollback moves on as usual.
 * Fails when no such build is loaded or its code cannot be patched. */
int ll_module_version_set(ll_module *module, uint64_t version, ll_error *err);

/* Names a code address for a report: "name+0x12 (lib.so version 3)", a
 * library and offset outside the module, or the bare address. Takes the
 * loader's lock (dladdr): not for a forked child or a signal handler. */
void ll_module_address_describe(const ll_module *module, uint64_t addr, char *buf, size_t cap);

/* ---- globals: the library's variables kept with the block --------------
 *
 * Opened with .globals_room (the last bytes of .block, from
 * ll_module_info.globals_room of a first open; `looplive run` and
 * `looplive replay` do this), the module keeps the library's mutable
 * globals (the variables of its .data and .bss, static locals too, as its
 * symbol table names them; not those of a section of their own, nor
 * thread-locals) with the block: before each protected call the values in
 * the block go to the library, after it the library's go back, copying
 * only the pages that differ. So snapshots, restores, rewinds, recordings
 * and saved files hold them, and a reload or another process's build
 * takes them over: each global takes the value of the one of the same
 * name (file:name for a static) and size, a new one starts from its
 * initial value. The application sees the block without that room. */

/* Brings the globals of the state in the block into the build in use now:
 * -1 naming the globals whose size changed (the state keeps their old
 * values and no call writes them) unless accept, when they start from
 * their initial values. The loop calls it before each frame, with accept
 * when the layout version changed and the build migrates. */
int ll_module_globals_check(ll_module *module, int accept, ll_error *err);

/* The global kept with the block that holds the byte at offset (from the
 * block's base): writes "the global 'NAME' of LIB +0xOFF" into out and
 * returns 1, or 0 when no global of the state in the block holds it. A
 * name_of for ll_block_pointers_check (ctx: the module). */
int ll_module_global_name_get(uint64_t offset, char *out, size_t cap, void *module);

/* The block to hand the application: .block less .globals_room. */
ll_block *ll_module_app_block_get(ll_module *module);

/* What a protected call does around the application, for code that calls
 * it directly (a forked re-simulation): pull copies the globals of the
 * state in the block into the build in use (as ll_module_globals_check
 * with accept 0, and the values too), push the build's back into the
 * block (only the pages that differ). Without .globals_room both do
 * nothing. */
int ll_module_globals_pull(ll_module *module, ll_error *err);
void ll_module_globals_push(ll_module *module);

/* Fills info with the module's counters and reports. */
void ll_module_info_get(const ll_module *module, ll_module_info *info);

/* The version in use (ll_module_info.version) without copying the rest. */
uint64_t ll_module_version_get(const ll_module *module);

/* Unloads every build (each gets its own entry bytes back first) and removes
 * the private copies: no pointer into any build may be called after. Safe
 * with NULL. */
void ll_module_close(ll_module *module);

/* ==== loop: record input, play it back in a loop, rewind, replay ======= */

/* Scripted input: keys pressed at a frame and held down for hold frames
 * (pressed on the first). `run --keys 20:right:30` and the script line
 * `30 right` at frame 20 are the same event, and give the same frames. */
typedef struct ll_key_event {
    uint64_t frame; /* frame the key goes down */
    uint64_t hold;  /* frames it stays down, from 1 */
    int key;        /* key code, maybe with LL_KEY_ALT */
} ll_key_event;

typedef struct ll_keys {
    ll_key_event *events; /* in frame order */
    size_t count, cap;
} ll_keys;

/* Appends the events of a --keys text, "FRAME:KEY[:FRAMES],...", e.g.
 * "10:alt+l,20:right:30,70:alt+l". Frames must not go down. */
int ll_keys_parse(ll_keys *keys, const char *text, ll_error *err);

/* Appends the events of one script line, "COUNT [KEY...]" ('#' starts a
 * comment; a blank line adds nothing): the keys go down at *frame and stay
 * down COUNT frames; *frame moves on by COUNT. Host keys are refused. */
int ll_keys_parse_line(ll_keys *keys, const char *line, uint64_t *frame, ll_error *err);

/* The application's input at frame: keys[] for the keys down, pressed[] for
 * those going down at this frame, typed[] for those too, in order. Events
 * with LL_KEY_ALT are the host's and are left out. Other fields of in are
 * kept. */
void ll_keys_input_get(const ll_keys *keys, uint64_t frame, ll_platform_input *in);

/* The index in ll_platform_input's keys[] and pressed[] a key code sets:
 * the code without Shift or Ctrl, but the control code (1-26) for
 * Ctrl+letter, as a terminal sends it; -1 for a host key (LL_KEY_ALT). */
int ll_key_index_get(int key);

/* Frees the events (keys is then empty and reusable). */
void ll_keys_free(ll_keys *keys);

/* The loop: drives an application one frame at a time and keeps, around the
 * live run, recording slots, a rewind window and a state hash.
 *
 *     ll_loop *loop = ll_loop_create(&block, &err, .module = mod, .fps = 60);
 *     for (;;) {
 *         ll_platform_input in = read_platform();
 *         if (in.pressed['l']) ll_loop_record(loop, 1, &err);  // again: play
 *         if (in.pressed[' ']) ll_loop_pause(loop, !ll_loop_status_get(loop).paused);
 *         if (ll_loop_frame_run(loop, &in, &err) < 0) show(err.msg);
 *         render(loop);
 *     }
 *
 * Each simulated frame: the input is the live one (through app->translate)
 * or, while a slot plays, the recorded one; update runs (under the module's
 * crash protection when a module is given); the pages it wrote are rehashed
 * and a snapshot taken for the rewind window. Every step costs time in
 * proportion to the pages written, never to the block size, plus one page
 * table walk per frame: the loop's snapshot of the state before the frame is
 * also what a crash in update rolls back to. */
typedef struct ll_loop ll_loop;

/* Recording slots: 0..LL_LOOP_SLOTS-1. */
#define LL_LOOP_SLOTS 10

typedef enum ll_loop_mode {
    LL_LOOP_LIVE = 0,  /* live input */
    LL_LOOP_RECORDING, /* live input, appended to a slot */
    LL_LOOP_PLAYING,   /* a slot's inputs, looping back to its start state */
} ll_loop_mode;

typedef struct ll_loop_params {
    int _ll;               /* reserved: first, 0 (lets a call with no options compile everywhere) */
    const ll_app *app;     /* the table to drive when module is NULL */
    ll_module *module;     /* else: looplive_app() is bound at app_symbol */
    size_t app_symbol;     /* index of looplive_app in the module's table */
    double fps;            /* simulated frames per second: dt = 1/fps; default:
                              the application's tick_hz (ll_app, API 3), else 60 */
    double rewind_seconds; /* length of the rewind window; default 2; < 0: none */
    int reinit_on_layout;  /* 1: a build whose layout_version differs from the
                              state's and has no migrate starts the state
                              over (ll_loop_reinit) instead of being refused */
    uint64_t keyframe_frames; /* the timeline keeps a keyframe every this many
                                 frames of a slot (see ll_loop_timeline_seek);
                                 0: 60 */
} ll_loop_params;

/* Creates a loop over a block the application was initialised in (or will
 * be: pages written before the first frame are picked up then). Hashes the
 * pages holding data once (ll_snap_pages_visit). */
ll_loop *ll_loop_create_(ll_block *block, ll_error *err, const ll_loop_params *params);
#define ll_loop_create(block, ...)                                                                 \
    ll_loop_create_((block), LL_FIRST_(__VA_ARGS__, ~),                                            \
                    LL_PARAMS_(ll_loop_params, LL_REST_(__VA_ARGS__, )))

/* Drops the loop's snapshots and slots; the block keeps its current state. */
void ll_loop_destroy(ll_loop *loop);

/* One host frame: runs 0 or more simulated frames depending on pause, step
 * and speed, and returns how many, or -1 (err says why) when the application
 * table is unusable or update crashed (the block is then as the previous
 * frame left it, so writes made to the block between frames are undone too).
 * After a crash the next call tries again, except while a slot plays and
 * the module could not roll back to an earlier version (the version that
 * faulted is the last good one): the same input would fault at the same
 * frame on every pass, so the loop pauses there (status fault_paused)
 * until a new build loads (the next call then resumes) or ll_loop_skip
 * passes the frame. err->code
 * ENOTRECOVERABLE: the fault left the C library unusable (see
 * ll_module_protect); the loop does nothing more. live may be NULL. */
int ll_loop_frame_run(ll_loop *loop, const ll_platform_input *live, ll_error *err);

/* The application table the next frame will use (the module's current
 * version, or the one given), checked: what a host renders with. NULL with
 * err filled when the table is missing or unusable. */
const ll_app *ll_loop_app_get(ll_loop *loop, ll_error *err);

/* Replaces the application table used when no module is given (a host that
 * reloads code itself, or a test). Takes effect on the next frame; the
 * timeline's keyframes count it as a new build (ll_loop_timeline_seek). */
void ll_loop_app_set(ll_loop *loop, const ll_app *app);

/* A call into the application: the block it works on, the frame it
 * simulates and the seconds per frame. looplive_compat.h answers malloc,
 * rand and the clocks from the call in progress (ll_app_block_get). */
typedef struct ll_app_call {
    ll_block *block;   /* NULL: no call */
    uint64_t frame;    /* the frame update simulates; 0 for init */
    double dt;         /* seconds per frame; 0 for init */
    int read_only;     /* render, audio: the call must not change the block */
    ll_canvas *canvas; /* render: the canvas it draws on, where the ncurses
                          names of looplive_text.h draw; NULL otherwise */
} ll_app_call;

/* Runs fn(ctx), which calls into the application, as call: under the
 * module's crash protection when module is given (snap as .snap of
 * ll_module_protect), directly when it is NULL, with call the call in
 * progress in this thread until it returns or faults. The loop,
 * ll_app_init_run, `looplive replay` and the host make every call into an
 * application through it (a re-simulation's child processes, unprotected,
 * through ll_app_call_set). Returns what ll_module_protect returns, or 0. */
int ll_app_call_run(ll_module *module, const ll_app_call *call, void (*fn)(void *ctx), void *ctx,
                    ll_snap *snap, ll_error *err);

/* Makes call (NULL: none) the call in progress in this thread and returns
 * the one it replaces (put it back after): what ll_app_call_run does, for
 * a host that calls the application itself. ll_app_call_get reads it. */
ll_app_call ll_app_call_set(const ll_app_call *call);
ll_app_call ll_app_call_get(void);

/* Runs the application's init on the block once: under the module's crash
 * protection when module is given (a fault restores the block to snap, or
 * to a snapshot taken before the call when snap is NULL: see
 * ll_module_protect), directly when it is NULL. Returns 0 when init accepted
 * the block or the application has none; -1 with err for a fault, or, when
 * init returned non-zero, "NAME's init refused the block (it returned N)"
 * (EINVAL; the block then holds what init wrote). The loop, the host and
 * `looplive replay` all start a state through it. */
int ll_app_init_run(ll_module *module, const ll_app *app, ll_block *block, ll_snap *snap,
                    ll_error *err);

/* Starts the state over with the code in use: zeroes the block, runs the
 * application's init (protected: a crash or a refusal leaves the state as
 * it was), goes back to live input at frame 0 and empties the rewind
 * window; slots keep their recordings. The way out of a layout change the
 * build cannot migrate. */
int ll_loop_reinit(ll_loop *loop, ll_error *err);

/* Starts recording into slot: snapshots the block now and from the next
 * frame on appends each frame's input. Replaces what the slot held. */
int ll_loop_record(ll_loop *loop, int slot, ll_error *err);

/* Plays slot in a loop: restores its start state and feeds its inputs; at
 * the end restores the start state again, until ll_loop_stop. Stops a
 * recording first (so record then play is the Handmade `L` key). */
int ll_loop_play(ll_loop *loop, int slot, ll_error *err);

/* Back to live input; the block keeps the state it has now. */
void ll_loop_stop(ll_loop *loop);

/* Jumps back exactly frames simulated frames (1 ..
 * ll_loop_status_get().rewind_frames): the block, the frame number, the play
 * position and a recording's length return to what they were. */
int ll_loop_rewind(ll_loop *loop, uint64_t frames, ll_error *err);

/* Turns the rewind window (the last rewind_frames frames) into slot: its
 * start state is the oldest state kept, its inputs the frames since; the
 * window keeps going. ll_loop_play(loop, slot) then loops what just happened
 * ("save the last 2 seconds"). */
int ll_loop_keep(ll_loop *loop, int slot, ll_error *err);

/* Writes slot to path as one recording file: versioned and checksummed,
 * holding the start state (only pages that differ from zero take space), the
 * inputs, the application's layout version and input size, and the block's
 * base and size. Written from the slot's start snapshot (ll_snap_pages_visit: swapped
 * out pages count): the block is not touched. Replaces path atomically. */
int ll_loop_save(ll_loop *loop, int slot, const char *path, ll_error *err);

/* Loads a recording file into slot and the block (the block then holds the
 * recording's start state; ll_loop_play starts it). Fails with nothing
 * changed on a truncated or corrupted file, another layout version or input
 * size than the application's, or a block of another base or size. The
 * recording's arena layout may differ from the block's (a build without
 * guard pages and one with): the block is made writable first, then the
 * guards of the recording's arena table are armed. */
int ll_loop_load(ll_loop *loop, int slot, const char *path, ll_error *err);

/* Pause: frames run only on ll_loop_step. */
void ll_loop_pause(ll_loop *loop, int paused);

/* While paused: the next ll_loop_frame_run runs exactly one simulated frame. */
void ll_loop_step(ll_loop *loop);

/* Passes over the next frame without running it: the state stays, the
 * frame number (and a playing slot's position) moves on, the input is
 * dropped. A loop paused by a fault (see fault_paused) resumes after it:
 * the way past a frame that only some input makes the code fault on. */
int ll_loop_skip(ll_loop *loop, ll_error *err);

/* Simulated frames per host frame, from 1/16 (slow motion) to 16. dt stays
 * 1/fps so that a run is the same at every speed. */
void ll_loop_speed_set(ll_loop *loop, double speed);

typedef struct ll_loop_status {
    ll_loop_mode mode;
    int slot; /* slot recording or playing; -1 when live */
    int paused;
    int fault_paused; /* paused because update faulted at this frame of a
                         playing slot and no earlier version took over
                         (it would fault on every pass): ll_loop_frame_run
                         resumes when a new build loads, ll_loop_skip
                         passes the frame; stop, play, record, rewind and
                         load end the pause too */
    double speed;
    uint64_t frame;         /* frame number the next update gets */
    uint64_t play_pos;      /* frames of the slot played in this pass */
    uint64_t slot_frames;   /* frames recorded in the slot */
    uint64_t loops;         /* times playback went back to the start */
    uint64_t rewind_frames; /* frames ll_loop_rewind can go back now */
    uint64_t hash;          /* ll_loop_hash_get() */
    uint64_t layout;        /* layout version of the state in the block */
    uint64_t reinits;       /* states started over by .reinit_on_layout */
    double fps;             /* simulated frames per second of live frames */
    char quit[256];         /* what the application's quit (ll_app, API 3)
                               returned after the last frame, cut to fit; ""
                               while it returns NULL, or it has none */
    int quit_asked;         /* 1 when it returned a message (maybe "") */
} ll_loop_status;

/* Where the loop is: mode, frame, slot, pause, speed, window, hash. */
ll_loop_status ll_loop_status_get(const ll_loop *loop);

/* The state hash of the block now: xxh3 of every page that is not all zero,
 * combined with its page index. Kept up to date at O(pages written). With a
 * module, a word that points into a loaded build counts as its symbol +
 * offset (ll_module_code_canonicalize): a run with code pointers in its state
 * hashes the same in every process. */
uint64_t ll_loop_hash_get(const ll_loop *loop);

/* The loop's snapshot of the block as the last frame (or the last restore)
 * left it; the loop keeps it, valid until the next call into the loop. A
 * host calling module code between frames that does not write the block
 * (render, audio) passes it as ll_module_protect(..., .snap = ...): the
 * call then takes no snapshot of its own (no page table walk), and a crash
 * there puts the block back to the end of the frame. */
ll_snap *ll_loop_snap_get(const ll_loop *loop);

/* Frames recorded in slot (0 when empty or out of range). */
uint64_t ll_loop_slot_frames_get(const ll_loop *loop, int slot);

/* ---- the timeline: any frame of a recording ----------------------------
 *
 * While a slot records or plays, the loop keeps a keyframe, a snapshot of
 * the state, every keyframe_frames frames of it (ll_loop_params). A
 * snapshot holds the pages that differ from the next one, so a keyframe
 * costs the pages written in between, not the state's size. Any frame of a
 * recording minutes long is then reached by restoring the keyframe at or
 * before it and running at most keyframe_frames - 1 frames; a seek past
 * the keyframes made so far runs from the last one, making the missing
 * ones on the way. Keyframes belong to the build that made them: after a
 * reload (another module version) they are dropped, and remade as the new
 * build plays the slot or seeks. Recording into the slot again, loading
 * it, or keeping the rewind window in it drops them too. */

/* What a slot's timeline holds. */
typedef struct ll_loop_timeline {
    uint64_t frames;          /* frames recorded in the slot */
    uint64_t keyframe_frames; /* frames between two keyframes */
    uint64_t keyframes;       /* keyframes held, the recording's start included */
    uint64_t known;           /* keyframes leave no gap from the start to here:
                                 a seek up to known + keyframe_frames - 1 runs
                                 at most keyframe_frames - 1 frames */
    uint64_t bytes;           /* memory the keyframes hold (ll_snap_size_get) */
} ll_loop_timeline;

/* Fills out for slot; -1 when the slot is out of range or holds no
 * recording (out then says only keyframe_frames). Drops keyframes a reload
 * made stale first. */
int ll_loop_timeline_get(ll_loop *loop, int slot, ll_loop_timeline *out);

/* Plays slot from frame pos (0 .. its frames): the block holds the state
 * before the recording's frame pos, the state a straight replay of frames
 * 0 .. pos - 1 from the start reaches (the same ll_loop_hash_get), the loop
 * plays the slot from there (status play_pos pos) and keeps its pause. A
 * recording in progress is ended first (as ll_loop_play does). Costs the
 * restore of the nearest keyframe at or before pos and the frames from it
 * to pos; a seek forward within reach of where the slot plays now runs on
 * from there instead. Errors: no such slot, an empty one, pos past its end,
 * a slot of another input size than the application's, and any error of a
 * frame run on the way (the loop then stops where that frame left it). */
int ll_loop_timeline_seek(ll_loop *loop, int slot, uint64_t pos, ll_error *err);

/* Like rewinding a tape and recording over it: while a slot plays, cuts its
 * recording at the position (the frames from there on are dropped, with
 * their keyframes) and records live input from there. Fails when no slot
 * plays. */
int ll_loop_timeline_cut(ll_loop *loop, ll_error *err);

/* What a recording file says about itself. */
typedef struct ll_loop_file {
    uint64_t layout_version;
    uint64_t block_base, block_size, page_size;
    uint64_t frames;      /* inputs recorded */
    uint64_t start_frame; /* frame number of the first */
    uint64_t pages;       /* pages of start state stored */
    uint32_t input_size;
    double fps;
    char app_name[32];
} ll_loop_file;

/* Reads and verifies a recording's header and checksum, without a block:
 * what a replayer needs to reserve the block the recording wants. */
int ll_loop_file_read(const char *path, ll_loop_file *out, ll_error *err);

/* Where two runs of the same frame first differ. */
typedef struct ll_loop_diff {
    int differs;                      /* 0: every frame ran the same twice */
    uint64_t frames;                  /* frames compared */
    uint64_t frame;                   /* index in the slot of the first differing frame */
    uint64_t offset;                  /* first differing byte, from the block's base */
    uint8_t first, second;            /* its value in each run */
    uint64_t hash_first, hash_second; /* the state hashes after the frame */
} ll_loop_diff;

/* Plays slot once from its start, running every frame twice from the same
 * state (through the rewind window, which must hold a frame) and comparing
 * the results: a frame whose result depends on anything but the block, its
 * input and dt shows up at the first frame it affects, with the first byte
 * that differs. The second run sees another stack (the application's calls
 * start 1104 bytes deeper, over 64 KiB filled with another byte), so this
 * catches a clock, state outside the block, a stack address or a byte of
 * stack read before it was written, and any heap address or uninitialised
 * heap byte that differs between the two runs (one that happens to be the
 * same both times, as a malloc freed and made again often is, is missed).
 * Leaves the block in the state after the last frame, live. */
int ll_loop_determinism_check(ll_loop *loop, int slot, ll_loop_diff *diff, ll_error *err);

/* ---- who wrote this value? ---------------------------------------------- */

#define LL_LOOP_WATCH_MAX  64 /* bytes one question watches at most */
#define LL_LOOP_WRITES_MAX 64 /* writes of the frame kept */

/* One write to the watched bytes. */
typedef struct ll_loop_write {
    uint64_t pc;  /* the writing instruction, or the one after it: */
    int pc_after; /* 1 when a hardware breakpoint trapped after the write
                     (name pc - 1 with ll_module_line_find) */
    uint8_t before[LL_LOOP_WATCH_MAX], after[LL_LOOP_WATCH_MAX];
} ll_loop_write;

/* The answer of ll_loop_writes_find. */
typedef struct ll_loop_writes {
    int found;                        /* 0: no frame up to the one asked changed the bytes */
    uint64_t frame;                   /* the last frame at or before it that changed them */
    uint8_t start[LL_LOOP_WATCH_MAX]; /* the bytes before that frame */
    uint8_t end[LL_LOOP_WATCH_MAX];   /* and after it */
    const char *how;                  /* "breakpoint" (perf_event_open) or "page" */
    char refused[192];                /* why hardware breakpoints were not used, or "" */
    uint32_t count;                   /* writes seen in that frame */
    ll_loop_write writes[LL_LOOP_WRITES_MAX]; /* the first of them */
} ll_loop_writes;

/* Who wrote the len bytes (1 to LL_LOOP_WATCH_MAX) at offset in the block,
 * as they are after frame (an index in slot, from 0)? Plays slot from its
 * start to frame, comparing the bytes after every frame, which finds the
 * last frame at or before it that changed them (exactly: a value that
 * changes and changes back counts; the cost is one plain replay). Then
 * seeks back to that frame (ll_loop_timeline_seek: the replay made the
 * keyframes) and runs it once more under a write watch: a
 * hardware write breakpoint per aligned 1, 2, 4 or 8 bytes (perf_event_open,
 * Linux 5.13+), or, where the kernel refuses those (containers,
 * perf_event_paranoid) or LOOPLIVE_WATCH=page is set, write protection of
 * the pages holding the bytes with a single step per write (x86_64; every
 * write to those pages costs two signals, for this one frame). Every write
 * is logged with the bytes before and after it; name each with
 * ll_module_line_find. Leaves the loop live, the block as the watched
 * frame left it. Errors: an empty slot, frame past its end, bytes outside
 * the block or in a guard page. One thread: writes by others are missed. */
int ll_loop_writes_find(ll_loop *loop, int slot, uint64_t offset, uint32_t len, uint64_t frame,
                        ll_loop_writes *out, ll_error *err);

/* ---- re-simulation: what a code change did across a whole recording ----
 * After a reload, a recording is played from its start with the previous
 * build and with the build in use, each in a forked process that shares the
 * block's pages copy-on-write, while the caller's frames go on; the state
 * hash after every frame (ll_loop_hash_get's, code pointers counted by name)
 * comes back through a pipe, and the two builds' hashes are compared frame
 * by frame. The forked processes run only the application's code, the
 * snapshot layer's page walk and the hash (the C library's heap, which
 * glibc's fork hands over unlocked, and system calls; no stdio, no loader):
 * other threads of the caller (the module's watcher, a sound thread) may
 * hold any other lock when the fork happens. A process that faults sends
 * the frame, signal and address and ends; the caller's frames are not
 * affected. Memory: each process copies the block's data once (its first
 * snapshot) and writes its own pages; the caller keeps 8 bytes per frame
 * per build and one mark per frame. */
typedef struct ll_resim ll_resim;

typedef struct ll_resim_params {
    int _ll;              /* reserved: first, 0 */
    int slot;             /* the loop's slot to re-simulate (when .path is NULL) */
    const char *path;     /* or a recording file (ll_loop_save's) */
    uint64_t old_version; /* the build to compare with: its module version */
    /* An earlier comparison of the same recording (same slot recording, or
     * the same unchanged file) whose newer build is old_version and which
     * finished: its hashes stand for the old build's, so only the build in
     * use runs. Anything else is ignored. The caller still owns it. */
    const ll_resim *reuse;
} ll_resim_params;

/* Starts comparing build .old_version with the build in use on a recording
 * of loop (slot, or file), in the background; returns at once. Fails when
 * the slot holds no recording, the file cannot be read or does not fit the
 * block, the loop has no module or no such build is loaded, or a process
 * cannot be made. */
ll_resim *ll_resim_start_(ll_loop *loop, ll_error *err, const ll_resim_params *params);
#define ll_resim_start(loop, ...)                                                                  \
    ll_resim_start_((loop), LL_FIRST_(__VA_ARGS__, ~),                                             \
                    LL_PARAMS_(ll_resim_params, LL_REST_(__VA_ARGS__, )))

/* Takes in what the processes sent so far, without waiting (a read per
 * process): call it once a frame. Returns 1 once the comparison is over
 * (every frame compared, or a process failed), else 0. */
int ll_resim_poll(ll_resim *resim);

typedef struct ll_resim_status {
    uint64_t frames;       /* the recording's length */
    uint64_t start_frame;  /* the frame number of its first frame */
    uint64_t compared;     /* frames whose hashes from both builds are in */
    uint64_t changed;      /* how many of those differ */
    int64_t first_changed; /* the recording's index of the first that differs; -1: none yet */
    int done;              /* 1: over (all compared, or failed) */
    int failed;            /* a process crashed or could not run: error says what */
    uint64_t old_version, new_version;
    uint64_t elapsed_ns; /* from the start to the end (or to now) */
    char error[LL_ERROR_MSG];
} ll_resim_status;

/* What the comparison knows now. */
void ll_resim_status_get(const ll_resim *resim, ll_resim_status *out);

/* One mark per frame of the recording (status.frames of them), for a
 * timeline bar: LL_RESIM_UNKNOWN until both builds ran the frame, then
 * LL_RESIM_SAME or LL_RESIM_CHANGED. Valid until ll_resim_destroy. */
enum { LL_RESIM_UNKNOWN = 0, LL_RESIM_SAME = 1, LL_RESIM_CHANGED = 2 };
const uint8_t *ll_resim_marks_get(const ll_resim *resim);

/* Ends the processes still running (SIGKILL), waits for them and frees
 * everything. Safe with NULL. */
void ll_resim_destroy(ll_resim *resim);

/* ---- side by side: the previous and the current build at one frame ----
 * One forked process plays the slot's first .frames frames with the build
 * in use and renders its picture, then the same frames with build
 * .old_version and renders that, into canvases shaped like .canvas (in
 * memory shared with the caller), and finds the byte ranges of the block
 * whose contents differ between the two states. The builds run their own
 * code (ll_module_version_set in the process). */
typedef struct ll_resim_view ll_resim_view;

enum { LL_RESIM_DIFFS = 16 };

typedef struct ll_resim_view_params {
    int _ll;                 /* reserved: first, 0 */
    int slot;                /* the loop's slot */
    uint64_t old_version;    /* the build to compare with the one in use */
    uint64_t frames;         /* frames from the recording's start: 1 .. its length */
    const ll_canvas *canvas; /* the pictures' size and kind (cells or pixels) */
} ll_resim_view_params;

/* Starts the process; returns at once. Fails like ll_resim_start, and when
 * .frames is outside the recording or .canvas has no cells or pixels. */
ll_resim_view *ll_resim_view_start_(ll_loop *loop, ll_error *err,
                                    const ll_resim_view_params *params);
#define ll_resim_view_start(loop, ...)                                                             \
    ll_resim_view_start_((loop), LL_FIRST_(__VA_ARGS__, ~),                                        \
                         LL_PARAMS_(ll_resim_view_params, LL_REST_(__VA_ARGS__, )))

/* Takes in what the process sent, without waiting; 1 once it is over. */
int ll_resim_view_poll(ll_resim_view *view);

typedef struct ll_resim_view_status {
    int done, failed; /* over; crashed or could not run (error) */
    uint64_t frame;   /* the frame number both pictures show */
    uint64_t old_version, new_version;
    uint64_t diff_count, diff_bytes; /* ranges of the block that differ, bytes in them */
    ll_range diffs[LL_RESIM_DIFFS];  /* the first ranges: block offsets [start, end) */
    char error[LL_ERROR_MSG];
} ll_resim_view_status;

void ll_resim_view_status_get(const ll_resim_view *view, ll_resim_view_status *out);

/* The old build's picture (which 0) or the current build's (1), once the
 * process is done without failing; NULL before. Valid until destroy. */
const ll_canvas *ll_resim_view_canvas_get(const ll_resim_view *view, int which);

/* Ends the process if it still runs, and frees everything. Safe with NULL. */
void ll_resim_view_destroy(ll_resim_view *view);

/* ==== host: ready-made platform layers that drive an application ======== */

/* A host: the platform side of Handmade Hero's split, ready-made. It loads
 * an application library (the module layer, with crash protection), reserves
 * its block at a static address, and drives translate/update/render at a
 * fixed frame rate on a platform: "terminal" (ANSI cells, raw keyboard) or
 * "sdl" (a window with a software framebuffer; SDL2 is loaded with dlopen,
 * so liblooplive does not link against it); headless runs draw into the
 * same canvas with no I/O (for tests and CI). The loop controls (record,
 * loop, rewind, pause, step, speed, slots) are bound to Alt+key, listed by
 * ll_host_keys_help_get(), so that every key without Alt is the application's.
 *
 *     ll_error err;
 *     ll_host *host = ll_host_open("build/examples/bounce.so", &err,
 *                                  .platform = "terminal", .fps = 60);
 *     if (!host || ll_host_run(host, &err) != 0) fprintf(stderr, "%s\n", err.msg);
 *     ll_host_close(host);
 */
typedef struct ll_host ll_host;

#define LL_HOST_SHOTS 4 /* screenshots one run can take */

typedef struct ll_host_params {
    int _ll;               /* reserved: first, 0 (lets a call with no options compile everywhere) */
    const char *platform;  /* "terminal" (default) or "sdl" */
    int headless;          /* 1: no I/O; the canvas the platform would give */
    int width, height;     /* canvas in cells or pixels; 0: the platform's choice */
    int scale;             /* sdl: window pixels per canvas pixel; 0: 1 */
    void *base;            /* block address; NULL: chosen by ll_base_advise */
    int os_base;           /* 1: let the OS choose the address (release builds) */
    uint64_t size;         /* block bytes; 0: the application's block_size */
    int fps;               /* frames per second; 0: 60 */
    uint64_t frames;       /* stop after this many frames; 0: run until quit */
    const char *watch_dir; /* rebuild when a file under this directory changes, */
    const char *build_cmd; /* by running this command with /bin/sh -c */
    const char *keys;      /* scripted keys (ll_keys_parse), "10:alt+l,20:right:30" */
    struct {
        uint64_t frame;   /* after this frame, write what is on screen ... */
        const char *path; /* ... to this file: a PNG picture for a .png name
                             (cells drawn as the window draws them), else
                             PPM for pixels, text for cells */
    } shots[LL_HOST_SHOTS];
    const char *slot_dir;    /* slots are saved to and loaded from DIR/slotN.llrec;
                                refused at open unless a writable directory */
    int unprotected;         /* 1: no crash protection (let a debugger see faults) */
    int no_overlay;          /* 1: no status lines; the canvas gets their rows */
    int reinit;              /* 1: a build of another layout_version without a
                                migrate starts the state over instead of being
                                refused (the re-init key does it by hand) */
    const char *resume;      /* start from this saved state (ll_snap_save, or the
                                file a fatal fault saved) instead of init */
    int audio;               /* sdl: play what the application's optional
                                looplive_audio() writes (see below) */
    int cells;               /* sdl: give the application a canvas of cells,
                                drawn in the window with the host's font */
    const char *capture_dir; /* where the picture key (alt+p) and the clip
                                key (alt+v) write; NULL: slot_dir */
} ll_host_params;

/* Sound, optional: an application library may also export
 *
 *     void looplive_audio(const ll_block *block, int16_t *samples,
 *                         uint32_t frames, uint32_t rate);
 *
 * which fills frames stereo frames (interleaved left, right) at rate Hz
 * for the frame just drawn, from the state alone (it must not change the
 * block). With .audio (`looplive run --audio`) the SDL platform queues
 * them to the audio device, 1/fps of a second per frame; it is looked up
 * again after every reload. */
typedef void ll_app_audio(const ll_block *block, int16_t *samples, uint32_t frames, uint32_t rate);

/* Loads the library, reserves the block, runs the application's init and
 * opens the platform. Fails on a missing or incompatible library, a block
 * that cannot be reserved, or a platform that cannot start (no terminal, no
 * display), saying which. */
ll_host *ll_host_open_(const char *lib, ll_error *err, const ll_host_params *params);
#define ll_host_open(lib, ...)                                                                     \
    ll_host_open_((lib), LL_FIRST_(__VA_ARGS__, ~),                                                \
                  LL_PARAMS_(ll_host_params, LL_REST_(__VA_ARGS__, )))

/* Runs one frame: rebuild and reload when due, platform input, host keys,
 * loop controls, update (as often as the speed says), render, overlay,
 * present. Does not sleep. Returns 1 to go on, 0 when asked to quit or the
 * frame limit is reached. */
int ll_host_frame_run(ll_host *host);

/* Runs frames at the fixed rate (headless: as fast as it can) until quit or
 * the frame limit, and returns 0. Errors during the run (builds, loads,
 * rolled-back crashes) do not stop it: they show in the overlay.
 *
 * Except one: a fault inside a library that leaves the C library unusable
 * (a failed heap check aborting with malloc's lock held; see
 * ll_module_protect). Then the host saves the last good frame's state with
 * ll_snap_save_newest (to --slots DIR/rescue.llsnap, or
 * $TMPDIR/looplive-rescue-PID.llsnap), gives the terminal back, and returns
 * -1 with err->code ENOTRECOVERABLE and one line naming the fault and the
 * file. The caller must then write the line with write(2), not stdio, and
 * leave with _exit: ll_host_close does nothing any more (freeing could
 * wait forever on the lock). `looplive run LIB --resume FILE` goes on
 * from the saved state. ll_host_frame_run returns 0 in that case. */
int ll_host_run(ll_host *host, ll_error *err);

/* Presses a key for the next frame, as if typed: LL_KEY_ALT | key for
 * the host's keys. Every press counts: presses of one key in the same frame
 * are given to the frames after it, one each. */
void ll_host_press(ll_host *host, int key);

/* The platform input the application was given in the last frame (the
 * host's keys taken out, --keys and presses put in). */
const ll_platform_input *ll_host_input_get(const ll_host *host);

/* What the overlay shows, for tests and reports. */
typedef struct ll_host_status {
    uint64_t frame;             /* frames run by the host */
    uint64_t app_frame;         /* the application's frame number (goes back with
                                   a loop pass or a rewind) */
    double fps;                 /* measured over the last second */
    double target_fps;          /* the rate it runs at (dt = 1/target_fps): --fps,
                                   else the application's tick_hz, else 60 */
    int recording, looping;     /* the slot's state */
    int paused;                 /* alt+space */
    int fault_paused;           /* paused at a frame of the loop that faults
                                   (see ll_loop_status): alt+. skips it, a
                                   new build resumes */
    int slot;                   /* the selected slot, 1..9 */
    uint64_t loop_pos;          /* frames of the slot played in this pass */
    uint64_t loop_len;          /* frames recorded in the slot */
    uint64_t hash;              /* the state hash (ll_loop_hash_get) */
    double speed;               /* simulated frames per host frame */
    uint64_t reloads;           /* new builds loaded and kept (one that faulted
                                   and was rolled back does not count) */
    uint64_t crashes;           /* faults in application code, rolled back */
    uint64_t builds;            /* --build runs finished */
    uint64_t key_failures;      /* host keys whose action failed (a save, a
                                   slot, a rewind...), typed or from --keys */
    uint64_t host_ns;           /* time in frames outside the calls below */
    uint64_t app_ns;            /* time in the loop layer's frame and the
                                   application's render and audio */
    char error[LL_ERROR_MSG];   /* the last error, whole; "" when none (the
                                   overlay shows a build error until a build
                                   succeeds, any other for five seconds) */
    char message[LL_ERROR_MSG]; /* the last confirmation ("saved slot 1 to
                                   DIR/slot1.llrec (90 frames)"), "" when none;
                                   the overlay shows it for five seconds */
    char quit[256];             /* the application's message when it ended
                                   the run (ll_app quit), else "" */
    int quit_asked;             /* 1 when the application ended the run */
} ll_host_status;
void ll_host_status_get(const ll_host *host, ll_host_status *out);

/* The overlay as drawn: the status line ("60 fps | frame 120 | LOOP 1
 * 20/90 | x1 | reloads 2"), '\n', then the error while it is shown
 * ("error: SIGSEGV at address 0x0 in update+0x9 (app.so version 3); rolled
 * back to version 2") or a hint of the keys. */
char *ll_host_overlay_format(const ll_host *host, char *buf, size_t cap);

/* The canvas the application draws into (cells or pixels), as it was
 * after the last frame's render. A text canvas is the terminal's size less
 * LL_HOST_STATUS_LINES rows (the timeline bar, the status, the error or
 * hint): 80x21 in an 80x24 terminal; replay's pictures default to that. */
#define LL_HOST_STATUS_LINES 3
const ll_canvas *ll_host_canvas_get(const ll_host *host);

/* The key bindings, one per line, as alt+? and `looplive run --help` show. */
const char *ll_host_keys_help_get(void);

/* Restores the platform (terminal modes), releases the block and unloads
 * the library. Safe with NULL. */
void ll_host_close(ll_host *host);

/* ==== host: pictures and clips of a canvas ============================== */

/* What a canvas looks like in pixels, the same in a window and in a file.
 * A canvas of pixels is itself (made opaque); a canvas of cells is drawn
 * with the host's built-in font, LL_CELL_WIDTH x LL_CELL_HEIGHT pixels a
 * cell, each character (its code point, else cells[]) in its colour on its
 * background with its attributes, as ll_text_put draws on pixels
 * (looplive_text.h: colour 0 the terminal's own light grey on black).
 *
 *     int w, h;
 *     ll_canvas_pixels_size_get(canvas, &w, &h);
 *     uint32_t *picture = malloc((size_t)w * h * 4);
 *     ll_canvas_pixels_render(canvas, picture);
 *     if (ll_png_write("frame.png", picture, w, h, &err) != 0) ...
 */
#define LL_CELL_WIDTH  LL_TEXT_CELL_W /* 6: the font's cell, as looplive_text.h draws it */
#define LL_CELL_HEIGHT LL_TEXT_CELL_H /* 9 */

/* A canvas of width x height cells with every array (cells, colors,
 * backgrounds, attrs, codepoints), cleared: what a platform of cells
 * gives. Free it with ll_canvas_free, which frees any canvas's arrays. */
int ll_canvas_cells_alloc(ll_canvas *canvas, int width, int height, ll_error *err);
void ll_canvas_free(ll_canvas *canvas);

/* Clears a canvas as the host does before each render: black pixels, or
 * spaces in the default colours without attributes. */
void ll_canvas_clear(ll_canvas *canvas);

/* The size of the canvas's picture in pixels. */
void ll_canvas_pixels_size_get(const ll_canvas *canvas, int *width, int *height);

/* Draws the canvas's picture into out (the size above, 0xAARRGGBB). */
void ll_canvas_pixels_render(const ll_canvas *canvas, uint32_t *out);

/* Writes pixels (0xAARRGGBB, alpha dropped) as an 8-bit RGB PNG, whole or
 * not at all (a temporary file renamed over path). Fails on a folder that
 * cannot be written, naming it. */
int ll_png_write(const char *path, const uint32_t *pixels, int width, int height, ll_error *err);

/* Reads a PNG of any kind into new 0xAARRGGBB pixels (free them); refuses
 * a file that is not a PNG or a picture over 65536 pixels a side. */
int ll_png_read(const char *path, uint32_t **pixels, int *width, int *height, ll_error *err);

/* A video file made from frames of pixels by an ffmpeg process: the kind
 * by the name's extension (.mp4 H.264, .webm VP8, .gif), at fps frames per
 * second, each pixel scale x scale. Fails at open on an unknown extension,
 * a folder that cannot be written, or no ffmpeg on PATH. The file appears
 * at close, whole; a failed clip leaves what was there. */
typedef struct ll_video ll_video;
ll_video *ll_video_open(const char *path, int width, int height, double fps, int scale,
                        ll_error *err);

/* Adds one frame (width * height pixels, as at open). Fails when ffmpeg
 * stopped, with its message; the video must still be closed. */
int ll_video_frame_write(ll_video *video, const uint32_t *pixels, ll_error *err);

/* Frames written so far. */
uint64_t ll_video_frames_get(const ll_video *video);

/* Waits for ffmpeg to finish the file and frees the video (safe with
 * NULL). Fails when ffmpeg did, or when no frame was written. */
int ll_video_close(ll_video *video, ll_error *err);

#ifdef __cplusplus
}
#endif

#endif /* LOOPLIVE_HOST_H */
