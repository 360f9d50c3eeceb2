/* snap.c - take, restore and drop snapshots in time proportional to the
 * pages written (see snapshot.h for the model). */
#include "snapshot/snapshot.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- fork ------------------------------------------------------------
 * After fork() parent and child map the same baseline memfd. If either
 * wrote into it, the other's untouched pages would change under it. So
 * neither writes it: the first take after a fork copies the baseline into a
 * fresh memfd (O(baseline data), once). Forks are counted from library load
 * (a constructor registers the handlers). A memfd this layer did not see
 * being made (its state was ended and begun again) is treated as shared once
 * any fork happened: a clock comparison with its birth time would be wrong
 * whenever the wall clock steps back, and a wrong guess here corrupts the
 * other process's pages, where a needless copy only costs time. */

static uint64_t fork_epoch;

static void on_fork(void)
{
    __atomic_add_fetch(&fork_epoch, 1, __ATOMIC_RELAXED);
}

__attribute__((constructor)) static void fork_register(void)
{
    pthread_atfork(NULL, on_fork, on_fork);
}

uint64_t snap_fork_epoch(void)
{
    return __atomic_load_n(&fork_epoch, __ATOMIC_RELAXED);
}

/* Whether another process may map a memfd made before this state began. */
static int maybe_shared(void)
{
    return snap_fork_epoch() != 0;
}

/* ---- per-block state -------------------------------------------------
 * Kept here, in a table keyed by the block's base (a block never moves and
 * two live blocks never share a base), so that the memory layer carries
 * nothing of this layer's: ll_block_release tells us through ll_released.
 * A slot's state is set before its key and its key cleared before its
 * state is freed, so that a lookup (also from a fault handler, rescue.c)
 * needs no lock. */

#define MAX_SNAP_BLOCKS 64

typedef struct snap_slot {
    const void *base;
    snap_state *st;
} snap_slot;

static snap_slot snap_slots[MAX_SNAP_BLOCKS];
static pthread_mutex_t snap_slots_lock = PTHREAD_MUTEX_INITIALIZER;

snap_state *snap_state_of(const ll_block *block)
{
    if (!block || !block->base) return NULL;
    for (int i = 0; i < MAX_SNAP_BLOCKS; i++)
        if (__atomic_load_n(&snap_slots[i].base, __ATOMIC_ACQUIRE) == block->base)
            return snap_slots[i].st;
    return NULL;
}

static void snap_free(ll_snap *s);

static void state_free(snap_state *st)
{
    while (st->newest) {
        ll_snap *s = st->newest;
        st->newest = s->older;
        snap_free(s);
    }
    track_close(st);
    free(st->runs);
    free(st->mark);
    free(st->scan_buf);
    free(st);
}

/* Takes the state of the block at base out of the table and frees it. */
static void forget(const void *base)
{
    snap_state *st = NULL;
    pthread_mutex_lock(&snap_slots_lock);
    for (int i = 0; i < MAX_SNAP_BLOCKS && base; i++)
        if (snap_slots[i].base == base) {
            st = snap_slots[i].st;
            __atomic_store_n(&snap_slots[i].base, NULL, __ATOMIC_RELEASE);
            snap_slots[i].st = NULL;
            break;
        }
    pthread_mutex_unlock(&snap_slots_lock);
    if (st) state_free(st);
}

static int remember(const ll_block *block, snap_state *st, ll_error *err)
{
    if (ll_release_listen(forget) != 0)
        return ll_fail(err, ENOSPC, "cannot hear of the block's release: too many listeners");
    pthread_mutex_lock(&snap_slots_lock);
    int i = 0;
    while (i < MAX_SNAP_BLOCKS && snap_slots[i].base) i++;
    if (i < MAX_SNAP_BLOCKS) {
        snap_slots[i].st = st;
        __atomic_store_n(&snap_slots[i].base, block->base, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&snap_slots_lock);
    if (i == MAX_SNAP_BLOCKS)
        return ll_fail(err, ENOSPC,
                       "cannot snapshot more than %d blocks at once (try: ll_snap_end or "
                       "ll_block_release a block you no longer snapshot)",
                       MAX_SNAP_BLOCKS);
    return 0;
}

snap_state *snap_state_get(ll_block *block, ll_error *err)
{
    snap_state *known = snap_state_of(block);
    if (known) return known;
    if (!block->base || !block->size || !block->page_size) {
        ll_fail(err, EINVAL, "the block is not reserved (call ll_block_reserve first)");
        return NULL;
    }
    if (block->size / block->page_size > UINT32_MAX) {
        ll_fail(err, EINVAL, "the block has more than 2^32 pages: too large to snapshot");
        return NULL;
    }
    snap_state *st = calloc(1, sizeof *st);
    uint64_t words = (block->size / block->page_size + 63) / 64;
    if (st) st->mark = calloc(words, sizeof *st->mark);
    if (!st || !st->mark) {
        free(st);
        ll_fail(err, ENOMEM, "out of memory for the snapshot state");
        return NULL;
    }
    st->tracker = track_detect();
    st->pagemap_fd = st->pidfd = -1;
    st->base_fd = block->fd;
    st->base_writable = block->fd >= 0 && !maybe_shared();
    st->fork_epoch = snap_fork_epoch();
    if (track_open(st, err) != 0 || remember(block, st, err) != 0) {
        state_free(st);
        return NULL;
    }
    return st;
}

const char *ll_snap_mechanism_get(const ll_block *block)
{
    const snap_state *st = snap_state_of(block);
    return track_name(st ? st->tracker : track_detect());
}

/* ---- deltas ---------------------------------------------------------- */

static snap_entry *delta_find(const ll_snap *s, uint32_t page)
{
    if (!s->slot_cap) return NULL;
    size_t mask = s->slot_cap - 1;
    for (size_t i = (page * 0x9e3779b1u) & mask;; i = (i + 1) & mask) {
        uint32_t slot = s->slots[i];
        if (!slot) return NULL;
        if (s->entries[slot - 1].page == page) return &s->entries[slot - 1];
    }
}

static void slot_insert(ll_snap *s, uint32_t page, uint32_t index)
{
    size_t mask = s->slot_cap - 1;
    size_t i = (page * 0x9e3779b1u) & mask;
    while (s->slots[i]) i = (i + 1) & mask;
    s->slots[i] = index + 1;
}

/* Room for `more` entries, keeping the table at most half full. */
static int delta_reserve(ll_snap *s, size_t more)
{
    size_t need = s->count + more;
    if (need > s->cap) {
        size_t cap = s->cap ? s->cap : 64;
        while (cap < need) cap *= 2;
        snap_entry *e = realloc(s->entries, cap * sizeof *e);
        if (!e) return -1;
        s->entries = e;
        s->cap = cap;
    }
    if (need * 2 > s->slot_cap) {
        size_t cap = s->slot_cap ? s->slot_cap : 128;
        while (cap < need * 2) cap *= 2;
        uint32_t *slots = calloc(cap, sizeof *slots);
        if (!slots) return -1;
        free(s->slots);
        s->slots = slots;
        s->slot_cap = cap;
        for (size_t i = 0; i < s->count; i++) slot_insert(s, s->entries[i].page, (uint32_t)i);
    }
    return 0;
}

static void delta_add(ll_snap *s, uint32_t page, uint32_t slab, uint8_t *bytes)
{
    s->entries[s->count] = (snap_entry){page, slab, bytes};
    slot_insert(s, page, (uint32_t)s->count);
    s->count++;
}

static int delta_adopt_slab(ll_snap *s, void *slab)
{
    if (s->slab_count == s->slab_cap) {
        size_t cap = s->slab_cap ? s->slab_cap * 2 : 4;
        void **slabs = realloc(s->slabs, cap * sizeof *slabs);
        if (!slabs) return -1;
        s->slabs = slabs;
        s->slab_cap = cap;
    }
    s->slabs[s->slab_count++] = slab;
    return 0;
}

static void snap_free(ll_snap *s)
{
    for (size_t i = 0; i < s->slab_count; i++) free(s->slabs[i]); /* NULL: handed over */
    free(s->slabs);
    free(s->entries);
    free(s->slots);
    free(s);
}

static int is_zero(const uint8_t *p, uint64_t n)
{
    static const uint8_t zeros[256];
    for (uint64_t i = 0; i < n; i += sizeof zeros)
        if (memcmp(p + i, zeros, n - i < sizeof zeros ? n - i : sizeof zeros)) return 0;
    return 1;
}

/* Reads the baseline's bytes of [off, off + len) (zeros without one). */
static int base_read(const snap_state *st, uint8_t *buf, uint64_t off, uint64_t len, ll_error *err)
{
    if (st->base_fd < 0) {
        memset(buf, 0, len);
        return 0;
    }
    for (uint64_t done = 0; done < len;) {
        uint64_t at = off + done;
        ssize_t n = pread(st->base_fd, buf + done, len - done, (off_t)(st->base_off + at));
        if (n <= 0)
            return ll_fail(err, n < 0 ? errno : EIO,
                           "reading the baseline at block offset 0x%llx: %s",
                           (unsigned long long)at, n < 0 ? strerror(errno) : "end of file");
        done += (uint64_t)n;
    }
    return 0;
}

/* Saves the baseline's current bytes of the written pages that `s` does not
 * hold yet: the baseline is about to take the written bytes, and s (the
 * newest snapshot) still needs the old ones. */
static int record_undo(snap_state *st, ll_snap *s, uint64_t page, ll_error *err)
{
    size_t fresh = 0;
    for (size_t r = 0; r < st->run_count; r++)
        for (uint64_t o = st->runs[r].off; o < st->runs[r].off + st->runs[r].len; o += page)
            fresh += !delta_find(s, (uint32_t)(o / page));
    if (!fresh) return 0;
    uint8_t *slab = malloc(fresh * page);
    if (!slab || delta_reserve(s, fresh) != 0 || delta_adopt_slab(s, slab) != 0) {
        free(slab);
        return ll_fail(err, ENOMEM, "out of memory saving %zu pages of undo data", fresh);
    }
    uint8_t *at = slab;
    for (size_t r = 0; r < st->run_count; r++) {
        for (uint64_t o = st->runs[r].off; o < st->runs[r].off + st->runs[r].len; o += page) {
            uint32_t p = (uint32_t)(o / page);
            if (delta_find(s, p)) continue;
            if (base_read(st, at, o, page, err) != 0) return -1;
            int zero = is_zero(at, page);
            delta_add(s, p, (uint32_t)(s->slab_count - 1), zero ? NULL : at);
            if (!zero) at += page;
        }
    }
    return 0;
}

/* ---- baseline migration ---------------------------------------------- */

/* Copies [off, off + len) of the old baseline into fd through buf. */
static int copy_base_range(const snap_state *st, int fd, uint64_t off, uint64_t len, uint8_t *buf,
                           uint64_t cap, ll_error *err)
{
    for (uint64_t done = 0; done < len;) {
        uint64_t n = len - done < cap ? len - done : cap;
        if (base_read(st, buf, off + done, n, err) != 0) return -1;
        if (pwrite(fd, buf, n, (off_t)(off + done)) != (ssize_t)n)
            return ll_fail(err, errno ? errno : EIO, "writing the new baseline memfd: %s",
                           strerror(errno));
        done += n;
    }
    return 0;
}

/* Copies [from, to) of the old baseline into fd, except the written pages
 * (st->runs, from *run on), which the caller writes from the block. */
static int copy_uncovered(const snap_state *st, int fd, uint64_t from, uint64_t to, size_t *run,
                          uint8_t *buf, uint64_t cap, ll_error *err)
{
    while (from < to) {
        while (*run < st->run_count && st->runs[*run].off + st->runs[*run].len <= from) (*run)++;
        const snap_run *r = *run < st->run_count ? &st->runs[*run] : NULL;
        if (r && r->off <= from) {
            from = r->off + r->len;
            continue;
        }
        uint64_t stop = r && r->off < to ? r->off : to;
        if (copy_base_range(st, fd, from, stop - from, buf, cap, err) != 0) return -1;
        from = stop;
    }
    return 0;
}

/* Copies the old baseline's data (its holes stay holes) into fd. */
static int copy_base(const snap_state *st, const ll_block *block, int fd, ll_error *err)
{
    if (st->base_fd < 0) return 0;
    enum { BUF = 1 << 20 };
    uint8_t *buf = malloc(BUF);
    if (!buf) return ll_fail(err, ENOMEM, "out of memory copying the baseline");
    int rc = 0;
    size_t run = 0;
    off_t end = (off_t)(st->base_off + block->size);
    for (off_t at = (off_t)st->base_off; rc == 0 && at < end;) {
        off_t data = lseek(st->base_fd, at, SEEK_DATA);
        if (data < 0 || data >= end) break;
        off_t hole = lseek(st->base_fd, data, SEEK_HOLE);
        if (hole < 0 || hole > end) hole = end;
        rc = copy_uncovered(st, fd, (uint64_t)data - st->base_off, (uint64_t)hole - st->base_off,
                            &run, buf, BUF, err);
        at = hole;
    }
    free(buf);
    return rc;
}

/* Moves the block onto a fresh memfd holding its current bytes: on the
 * first take (a block is reserved anonymous), after a load (the baseline is
 * a file we must never write), and after a fork (the old memfd is shared
 * with the other process). The memfd carries the block's name, so that
 * /proc/PID/maps shows memfd:NAME. */
static int migrate(snap_state *st, ll_block *block, ll_error *err)
{
    int fd = memfd_create(block->name[0] ? block->name : "looplive", MFD_CLOEXEC);
    if (fd < 0)
        return ll_fail(err, errno, "cannot create the memfd behind the block: %s", strerror(errno));
    if (ftruncate(fd, (off_t)block->size) != 0) {
        int code = errno;
        close(fd);
        char a[32];
        return ll_fail(err, code, "cannot size the memfd behind the block to %s: %s",
                       ll_size_format(block->size, a, sizeof a), strerror(code));
    }
    if (copy_base(st, block, fd, err) != 0) goto fail;
    for (size_t r = 0; r < st->run_count; r++) {
        const snap_run *run = &st->runs[r];
        if (pwrite(fd, block->base + run->off, run->len, (off_t)run->off) != (ssize_t)run->len) {
            ll_fail(err, errno ? errno : EIO, "writing the new baseline memfd: %s",
                    strerror(errno));
            goto fail;
        }
    }
    void *at = mmap(block->base, block->size, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_FIXED | MAP_NORESERVE, fd, 0);
    if (at == MAP_FAILED) {
        ll_fail(err, errno, "mapping the new baseline over the block: %s", strerror(errno));
        goto fail;
    }
    if (block->fd >= 0) close(block->fd);
    block->fd = fd;
    block->flags &= ~(uint32_t)(LL_BLOCK_ANONYMOUS | LL_BLOCK_HUGE | LL_BLOCK_LOADED);
    st->base_fd = fd;
    st->base_off = 0;
    st->base_writable = 1;
    st->fork_epoch = snap_fork_epoch();
    /* The new mapping has no guard pages: arm the arena table's again. A
     * block without an arena header has none to arm. */
    ll_block_attach(block, NULL);
    return 0;
fail:
    close(fd);
    return -1;
}

/* ---- take, restore, drop --------------------------------------------- */

/* Writes the written pages into the baseline and drops the private copies. */
static int commit_runs(snap_state *st, ll_block *block, ll_error *err)
{
    if (!st->base_writable || st->fork_epoch != snap_fork_epoch()) return migrate(st, block, err);
    for (size_t r = 0; r < st->run_count; r++) {
        const snap_run *run = &st->runs[r];
        if (pwrite(st->base_fd, block->base + run->off, run->len, (off_t)run->off) !=
            (ssize_t)run->len)
            return ll_fail(err, errno ? errno : EIO, "writing %llu bytes into the baseline: %s",
                           (unsigned long long)run->len, strerror(errno));
    }
    return track_drop(st, block, err);
}

static void visit_runs(const snap_state *st, uint64_t page, ll_page_visit *visit, void *ctx)
{
    for (size_t r = 0; r < st->run_count; r++)
        for (uint64_t o = st->runs[r].off; o < st->runs[r].off + st->runs[r].len; o += page)
            visit(o, ctx);
}

ll_snap *ll_snap_take_visit(ll_block *block, ll_page_visit *visit, void *ctx, ll_error *err)
{
    snap_state *st = snap_state_get(block, err);
    if (!st) return NULL;
    ll_snap *s = calloc(1, sizeof *s);
    if (!s) {
        ll_fail(err, ENOMEM, "out of memory for a snapshot");
        return NULL;
    }
    if (track_scan(st, block, err) != 0) goto fail;
    if (visit) visit_runs(st, block->page_size, visit, ctx);
    if ((st->newest && record_undo(st, st->newest, block->page_size, err) != 0) ||
        commit_runs(st, block, err) != 0)
        goto fail;
    s->older = st->newest;
    if (st->newest)
        st->newest->newer = s;
    else
        st->oldest = s;
    st->newest = s;
    st->live++;
    return s;
fail:
    free(s);
    return NULL;
}

ll_snap *ll_snap_take(ll_block *block, ll_error *err)
{
    return ll_snap_take_visit(block, NULL, NULL, err);
}

static void mark_set(uint64_t *mark, uint32_t p)
{
    mark[p / 64] |= 1ull << (p % 64);
}

static int mark_test(const uint64_t *mark, uint32_t p)
{
    return (int)((mark[p / 64] >> (p % 64)) & 1);
}

static void mark_clear(uint64_t *mark, uint32_t p)
{
    mark[p / 64] &= ~(1ull << (p % 64));
}

static int snap_is_live(const snap_state *st, const ll_snap *snap)
{
    for (const ll_snap *s = st->newest; s; s = s->older)
        if (s == snap) return 1;
    return 0;
}

/* Whether the block's arena table lists guard pages: every layer that
 * changes the table or the block's contents as a whole (arena creation,
 * ll_block_attach after a restore, a load or a move) leaves exactly those
 * armed. */
static int has_guards(const ll_block *block)
{
    for (uint32_t i = 0; i < LL_BLOCK_MAX_ARENAS; i++) {
        const ll_arena *a = ll_block_arena_get(block, i);
        if (!a) return 0;
        if (a->guard_size) return 1;
    }
    return 0;
}

int ll_snap_restore(ll_block *block, ll_snap *snap, ll_error *err)
{
    snap_state *st = snap_state_of(block);
    if (!snap) return ll_fail(err, EINVAL, "no snapshot to restore (NULL)");
    if (!st || !st->live)
        return ll_fail(err, EINVAL,
                       "the block has no live snapshots: this one was dropped or "
                       "belongs to another block");
    /* Checking membership costs a walk of the list; only for older ones. */
    if (snap != st->newest && !snap_is_live(st, snap))
        return ll_fail(err, EINVAL, "this snapshot was dropped or belongs to another block");
    if (track_scan(st, block, err) != 0 || track_drop(st, block, err) != 0) return -1;
    /* The arena layout may have changed since snap: a page it holds data in
     * may be a guard page now. With guards armed, everything is made
     * writable before a byte is written, and the guards of the table that
     * comes back are armed after. */
    int guarded = has_guards(block);
    if (guarded && mprotect(block->base, block->size, PROT_READ | PROT_WRITE) != 0)
        return ll_fail(err, errno,
                       "cannot make the block writable to restore it: %s (try: keep the "
                       "block mapped whole; only ll_block_release unmaps it)",
                       strerror(errno));
    /* Back at the baseline; lay the older deltas over it, oldest first wins. */
    uint64_t page = block->page_size;
    for (const ll_snap *s = snap; s; s = s->newer) {
        for (size_t i = 0; i < s->count; i++) {
            const snap_entry *e = &s->entries[i];
            if (mark_test(st->mark, e->page)) continue;
            mark_set(st->mark, e->page);
            uint8_t *dst = block->base + (uint64_t)e->page * page;
            if (e->bytes)
                memcpy(dst, e->bytes, page);
            else
                memset(dst, 0, page);
        }
    }
    for (const ll_snap *s = snap; s; s = s->newer)
        for (size_t i = 0; i < s->count; i++) mark_clear(st->mark, s->entries[i].page);
    return guarded || has_guards(block) ? ll_block_attach(block, err) : 0;
}

/* Per slab of a snapshot being merged: its pages, and how many move. */
typedef struct slab_use {
    uint32_t pages, moving;
    uint32_t to; /* its number in the receiver, when it moves whole */
} slab_use;

/* Counts, per slab of gone, the pages older lacks; returns the pages that
 * must be copied (those of slabs that do not move whole) in *copy. */
static size_t merge_plan(const ll_snap *older, const ll_snap *gone, slab_use *use, size_t *copy)
{
    size_t fresh = 0;
    for (size_t i = 0; i < gone->count; i++) {
        const snap_entry *e = &gone->entries[i];
        int moving = !delta_find(older, e->page);
        fresh += moving;
        if (!e->bytes) continue;
        use[e->slab].pages++;
        use[e->slab].moving += moving;
    }
    *copy = 0;
    for (size_t k = 0; k < gone->slab_count; k++)
        if (use[k].moving < use[k].pages) *copy += use[k].moving;
    return fresh;
}

/* Moves into `older` (whose delta is relative to gone) exactly the pages of
 * gone it lacks, so that what stays with gone is freed whole with it: a
 * slab of gone whose pages all move is handed over as it is, the moving
 * pages of the others are copied into one new slab of older's. Handing
 * over every slab instead kept every page of gone alive, merged or not,
 * for as long as older lived: the heap grew with every frame under a held
 * snapshot (issue 11). */
static int merge_into(ll_snap *older, ll_snap *gone, uint64_t page)
{
    slab_use *use = calloc(gone->slab_count + 1, sizeof *use);
    if (!use) return -1;
    size_t copy, fresh = merge_plan(older, gone, use, &copy);
    size_t whole = 0;
    for (size_t k = 0; k < gone->slab_count; k++)
        whole += use[k].pages && use[k].moving == use[k].pages;
    uint8_t *slab = copy ? malloc(copy * page) : NULL;
    int rc = -1;
    if ((copy && !slab) || delta_reserve(older, fresh) != 0) goto done;
    /* Room in older's slab list for all of them first: nothing below fails. */
    for (size_t need = older->slab_count + whole + (slab != NULL); older->slab_cap < need;) {
        void **slabs = realloc(older->slabs, need * sizeof *slabs);
        if (!slabs) goto done;
        older->slabs = slabs;
        older->slab_cap = need;
    }
    for (size_t k = 0; k < gone->slab_count; k++) {
        if (!use[k].pages || use[k].moving < use[k].pages) continue;
        use[k].to = (uint32_t)older->slab_count;
        older->slabs[older->slab_count++] = gone->slabs[k];
        gone->slabs[k] = NULL;
    }
    uint32_t copy_to = (uint32_t)older->slab_count;
    if (slab) older->slabs[older->slab_count++] = slab;
    uint8_t *at = slab;
    for (size_t i = 0; i < gone->count; i++) {
        const snap_entry *e = &gone->entries[i];
        if (delta_find(older, e->page)) continue;
        if (!e->bytes)
            delta_add(older, e->page, 0, NULL);
        else if (!gone->slabs[e->slab])
            delta_add(older, e->page, use[e->slab].to, e->bytes);
        else if (at) {
            delta_add(older, e->page, copy_to, memcpy(at, e->bytes, page));
            at += page;
        }
    }
    slab = NULL;
    rc = 0;
done:
    free(slab);
    free(use);
    return rc;
}

void ll_snap_drop(ll_block *block, ll_snap *snap)
{
    snap_state *st = snap_state_of(block);
    if (!snap || !st) return;
    if (snap->older && merge_into(snap->older, snap, block->page_size) != 0) {
        /* Out of memory: keep it alive rather than corrupt older ones. */
        return;
    }
    if (snap->older)
        snap->older->newer = snap->newer;
    else
        st->oldest = snap->newer;
    if (snap->newer)
        snap->newer->older = snap->older;
    else
        st->newest = snap->older;
    st->live--;
    snap_free(snap);
}

int ll_snap_changed_visit(ll_block *block, ll_page_visit *visit, void *ctx, ll_error *err)
{
    snap_state *st = snap_state_get(block, err);
    if (!st || track_scan(st, block, err) != 0) return -1;
    visit_runs(st, block->page_size, visit, ctx);
    return 0;
}

uint64_t ll_snap_size_get(const ll_block *block, const ll_snap *snap)
{
    if (!block || !snap) return 0;
    uint64_t bytes = sizeof *snap + snap->cap * sizeof *snap->entries +
                     snap->slot_cap * sizeof *snap->slots + snap->slab_cap * sizeof *snap->slabs;
    for (size_t i = 0; i < snap->count; i++)
        if (snap->entries[i].bytes) bytes += block->page_size;
    return bytes;
}

size_t ll_snap_count_get(const ll_block *block)
{
    const snap_state *st = snap_state_of(block);
    return st ? st->live : 0;
}

void ll_snap_end(ll_block *block)
{
    if (block && block->base) forget(block->base);
}

/* ---- reading a snapshot page by page (for saving) -------------------- */

/* The bytes of page p in snapshot `snap`: the first delta from snap onward
 * holding p, else NULL (the baseline has it). *zero is set for zero pages. */
static const snap_entry *overlay_find(const ll_snap *snap, uint32_t p)
{
    for (const ll_snap *s = snap; s; s = s->newer) {
        const snap_entry *e = delta_find(s, p);
        if (e) return e;
    }
    return NULL;
}

/* Marks every page that may hold data: the baseline's data ranges, plus
 * the written pages (now) or the overlay pages (a snapshot). */
static int mark_candidates(snap_state *st, ll_block *block, ll_snap *snap, ll_error *err)
{
    uint64_t page = block->page_size;
    if (st->base_fd >= 0) {
        off_t end = (off_t)(st->base_off + block->size);
        for (off_t at = (off_t)st->base_off; at < end;) {
            off_t data = lseek(st->base_fd, at, SEEK_DATA);
            if (data < 0 || data >= end) break;
            off_t hole = lseek(st->base_fd, data, SEEK_HOLE);
            if (hole < 0 || hole > end) hole = end;
            for (uint64_t o = ll_align_down((uint64_t)data - st->base_off, page);
                 o < (uint64_t)hole - st->base_off; o += page)
                mark_set(st->mark, (uint32_t)(o / page));
            at = hole;
        }
    }
    if (!snap) {
        if (track_scan(st, block, err) != 0) return -1;
        for (size_t r = 0; r < st->run_count; r++)
            for (uint64_t o = st->runs[r].off; o < st->runs[r].off + st->runs[r].len; o += page)
                mark_set(st->mark, (uint32_t)(o / page));
        return 0;
    }
    for (const ll_snap *s = snap; s; s = s->newer)
        for (size_t i = 0; i < s->count; i++) mark_set(st->mark, s->entries[i].page);
    return 0;
}

/* The bytes of the page at off in snap (NULL: the block now), into *bytes;
 * NULL when the page is known to be zero. *run walks st->runs upwards. */
static int page_bytes(snap_state *st, ll_block *block, const ll_snap *snap, uint64_t off,
                      size_t *run, uint8_t *buf, const uint8_t **bytes, ll_error *err)
{
    *bytes = block->base + off;
    if (snap) {
        const snap_entry *e = overlay_find(snap, (uint32_t)(off / block->page_size));
        if (e) {
            *bytes = e->bytes;
            return 0;
        }
    } else {
        while (*run < st->run_count && st->runs[*run].off + st->runs[*run].len <= off) (*run)++;
        /* Only written pages are read through the block: the others may be
         * guard pages (PROT_NONE), and read the same from the baseline. */
        if (*run < st->run_count && st->runs[*run].off <= off) return 0;
    }
    *bytes = buf;
    return base_read(st, buf, off, block->page_size, err);
}

int snap_each_page(ll_block *block, ll_snap *snap, snap_page_fn *fn, void *ctx, ll_error *err)
{
    snap_state *st = snap_state_get(block, err);
    if (!st) return -1;
    if (snap && !snap_is_live(st, snap))
        return ll_fail(err, EINVAL, "this snapshot was dropped or belongs to another block");
    uint64_t page = block->page_size, pages = block->size / page, words = (pages + 63) / 64;
    uint8_t *buf = malloc(page);
    if (!buf) return ll_fail(err, ENOMEM, "out of memory");
    int rc = mark_candidates(st, block, snap, err);
    size_t run = 0;
    for (uint64_t w = 0; w < words; w++) {
        uint64_t bits = st->mark[w];
        st->mark[w] = 0;
        while (rc == 0 && bits) {
            uint64_t off = (w * 64 + (uint64_t)__builtin_ctzll(bits)) * page;
            bits &= bits - 1;
            const uint8_t *bytes;
            rc = page_bytes(st, block, snap, off, &run, buf, &bytes, err);
            if (rc == 0 && bytes && !is_zero(bytes, page)) rc = fn(off, bytes, ctx);
        }
    }
    free(buf);
    return rc;
}

int ll_snap_pages_visit(ll_block *block, ll_snap *snap, ll_page_bytes_fn *fn, void *ctx,
                        ll_error *err)
{
    if (!block || !fn) return ll_fail(err, EINVAL, "no block or no page function (NULL)");
    return snap_each_page(block, snap, fn, ctx, err);
}
