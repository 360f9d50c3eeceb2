/* snapshot.h - internals of the snapshot layer shared by track.c (which
 * pages were written), snap.c (take, restore, drop) and file.c (save, load,
 * verify).
 *
 * The model: the block is a MAP_PRIVATE mapping of a baseline file (the
 * block's memfd, or a loaded snapshot file). A page the program wrote since
 * the last take is a private copy-on-write page; every other page reads the
 * baseline. So
 *   - the pages written since the last take are the block's present pages
 *     that are not file pages (PAGEMAP_SCAN, or /proc/self/pagemap);
 *   - restoring the newest snapshot is MADV_DONTNEED of those pages;
 *   - taking a snapshot writes those pages into the baseline memfd and drops
 *     them, after saving the baseline's old bytes of the same pages into the
 *     previous snapshot's delta (its undo record).
 * Snapshot k's bytes are therefore: for each page, the delta of the oldest
 * snapshot j >= k that holds the page, else the baseline. */
#ifndef LL_SNAPSHOT_H
#define LL_SNAPSHOT_H

#include "base/base.h"

/* A run of written pages, in bytes from the block's base. */
typedef struct snap_run {
    uint64_t off, len;
} snap_run;

enum { TRACK_PAGEMAP_SCAN = 1, TRACK_PAGEMAP = 2 };

/* One page of an undo delta: the page index and its old bytes (NULL: the
 * page was all zeros, which costs no memory), in the owner's slab number
 * `slab`. */
typedef struct snap_entry {
    uint32_t page;
    uint32_t slab;
    uint8_t *bytes;
} snap_entry;

struct ll_snap {
    ll_snap *older, *newer;
    snap_entry *entries;
    size_t count, cap;
    uint32_t *slots; /* open addressing: entry index + 1, 0 empty */
    size_t slot_cap;
    /* The page bytes the entries point into: slabs this snapshot owns
     * alone and frees whole with itself. A merge moves exactly the pages
     * the receiver lacks: a slab all of whose pages move changes owner
     * whole, the moving pages of any other slab are copied into a slab of
     * the receiver's. No slab is ever shared. */
    void **slabs;
    size_t slab_count, slab_cap;
};

/* Per-block state, kept by this layer in a table keyed by the block's base
 * (snap.c): the memory layer knows nothing of it. */
typedef struct snap_state {
    int tracker;         /* TRACK_* */
    int pagemap_fd;      /* /proc/self/pagemap of pid */
    int pidfd;           /* for process_madvise; -1 when unavailable */
    int pid;             /* the process the fds above belong to */
    int base_fd;         /* the baseline file; -1 for an anonymous block */
    uint64_t base_off;   /* file offset of block offset 0 in base_fd */
    int base_writable;   /* base_fd is our own memfd (not a loaded file) */
    uint64_t fork_epoch; /* snap_fork_epoch() when base_fd was created */
    ll_snap *oldest, *newest;
    size_t live;
    snap_run *runs; /* written pages found by the last scan */
    size_t run_count, run_cap;
    uint64_t *mark; /* one bit per page, all clear between calls */
    void *scan_buf; /* the tracker's buffer */
} snap_state;

/* ---- track.c ---- */

/* The tracker this kernel supports (or LOOPLIVE_SNAP_TRACKER=pagemap|
 * pagemap_scan asks for), and its name. */
int track_detect(void);
const char *track_name(int tracker);

/* Opens the per-process handles (again after a fork). */
int track_open(snap_state *st, ll_error *err);
void track_close(snap_state *st);

/* Fills st->runs with the pages of the block written since the last take. */
int track_scan(snap_state *st, const ll_block *block, ll_error *err);

/* MADV_DONTNEED of every run in st->runs (batched when the kernel allows). */
int track_drop(snap_state *st, const ll_block *block, ll_error *err);

/* ---- snap.c ---- */

/* The block's state, created on first use; NULL and err filled on failure. */
snap_state *snap_state_get(ll_block *block, ll_error *err);

/* The block's state, or NULL when it has none (no lock: safe in a fault
 * handler). */
snap_state *snap_state_of(const ll_block *block);

/* Counts fork() calls in this process and its parents since load. */
uint64_t snap_fork_epoch(void);

/* Calls fn(off, bytes) for every page the snapshot (NULL: the block as it
 * is now) may hold non-zero bytes in, in ascending order. bytes points at
 * the page's content (valid until the next call); fn returns 0 to go on. */
typedef ll_page_bytes_fn snap_page_fn;
int snap_each_page(ll_block *block, ll_snap *snap, snap_page_fn *fn, void *ctx, ll_error *err);

/* ---- file.c: the on-disk format ---- */

#define SNAP_MAGIC          "LLSNAP\r\n"
#define SNAP_FORMAT_VERSION 2u
#define SNAP_EXTENT_MAX     (1ull << 20) /* bytes one checksum covers at most */
#define SNAP_PAGE_MIN       4096ull      /* the page sizes Linux uses */
#define SNAP_PAGE_MAX       (64ull << 10)

/* Little-endian, at offset 0 of the file. The data region mirrors the
 * block (block offset o at data_offset + o) so a load maps it directly;
 * pages outside the index are holes and read as zeros. The index follows
 * the data region. */
typedef struct snap_header {
    char magic[8];
    uint32_t format_version;
    uint32_t header_size;
    uint32_t arch; /* SNAP_ARCH of the writer */
    uint32_t pointer_bits;
    uint64_t base, size, page_size;
    uint64_t layout_version; /* the caller's */
    uint64_t data_offset;    /* page aligned */
    uint64_t index_offset;   /* data_offset + size */
    uint64_t extent_count;
    uint64_t data_bytes; /* sum of the extents' lengths */
    uint64_t index_hash; /* XXH3-64 of the index */
    uint32_t extra_tag;  /* the caller's extra section, right after the index */
    uint32_t extra_pad;
    uint64_t extra_size;
    uint64_t extra_hash;  /* XXH3-64 of the extra section */
    uint64_t header_hash; /* XXH3-64 of the bytes above */
} snap_header;

/* A run of non-zero pages and the XXH3-64 of its bytes. */
typedef struct snap_extent {
    uint64_t off, len, hash;
} snap_extent;

#if defined(__x86_64__)
#define SNAP_ARCH 62 /* ELF e_machine numbers */
#elif defined(__aarch64__)
#define SNAP_ARCH 183
#elif defined(__riscv)
#define SNAP_ARCH 243
#elif defined(__i386__)
#define SNAP_ARCH 3
#else
#define SNAP_ARCH 0
#endif

const char *snap_arch_name(uint32_t arch);
uint64_t snap_header_hash(const snap_header *h);

#endif
