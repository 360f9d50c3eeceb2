/* file.c - save a snapshot (or the block as it is) to a file, map a saved
 * file back over the block lazily, verify a file's data. The format is in
 * snapshot.h; the data region mirrors the block so a load is one mmap. */
#include "snapshot/snapshot.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

/* What to do about a file that is not what it says: the state it held is
 * gone from this copy, the block is untouched (a refusal changes nothing). */
#define SNAP_AGAIN "(try: copy the file again, or save the state again)"
#define SNAP_WHICH "(try: a file saved by ll_snap_save)"

const char *snap_arch_name(uint32_t arch)
{
    switch (arch) {
    case 62:
        return "x86_64";
    case 183:
        return "aarch64";
    case 243:
        return "riscv";
    case 3:
        return "i386";
    default:
        return "unknown";
    }
}

uint64_t snap_header_hash(const snap_header *h)
{
    return XXH3_64bits(h, offsetof(snap_header, header_hash));
}

/* ---- save ------------------------------------------------------------ */

typedef struct save_ctx {
    int fd;
    uint64_t data_offset;
    snap_extent *extents;
    size_t count, cap;
    XXH3_state_t *hash; /* of the open extent (the last one) */
    uint64_t data_bytes;
    ll_error *err;
} save_ctx;

static void extent_close(save_ctx *c)
{
    if (c->count && c->extents) c->extents[c->count - 1].hash = XXH3_64bits_digest(c->hash);
}

/* Appends one non-zero page: extends the open extent or starts one. */
static int save_page(uint64_t off, const uint8_t *bytes, void *ctx)
{
    save_ctx *c = ctx;
    uint64_t page = ll_page_size();
    snap_extent *last = c->count ? &c->extents[c->count - 1] : NULL;
    if (!last || last->off + last->len != off || last->len >= SNAP_EXTENT_MAX) {
        extent_close(c);
        if (c->count == c->cap || !c->extents) {
            size_t cap = c->cap ? c->cap * 2 : 256;
            snap_extent *e = realloc(c->extents, cap * sizeof *e);
            if (!e) return ll_fail(c->err, ENOMEM, "out of memory for the snapshot index");
            c->extents = e;
            c->cap = cap;
        }
        c->extents[c->count++] = (snap_extent){off, 0, 0};
        XXH3_64bits_reset(c->hash);
        last = &c->extents[c->count - 1];
    }
    last->len += page;
    c->data_bytes += page;
    XXH3_64bits_update(c->hash, bytes, page);
    if (pwrite(c->fd, bytes, page, (off_t)(c->data_offset + off)) != (ssize_t)page)
        return ll_fail(c->err, errno ? errno : ENOSPC, "writing the snapshot data: %s",
                       strerror(errno ? errno : ENOSPC));
    return 0;
}

/* Writes the index and then the header, which makes the file valid. */
static int save_finish(save_ctx *c, ll_block *block, const ll_snap_save_params *p)
{
    extent_close(c);
    snap_header h = {
        .format_version = SNAP_FORMAT_VERSION,
        .header_size = sizeof h,
        .arch = SNAP_ARCH,
        .pointer_bits = (uint32_t)(sizeof(void *) * 8),
        .base = (uint64_t)(uintptr_t)block->base,
        .size = block->size,
        .page_size = block->page_size,
        .layout_version = p->layout_version,
        .data_offset = c->data_offset,
        .index_offset = c->data_offset + block->size,
        .extent_count = c->count,
        .data_bytes = c->data_bytes,
        .index_hash = XXH3_64bits(c->extents, c->count * sizeof *c->extents),
        .extra_tag = p->extra ? p->extra_tag : 0,
        .extra_size = p->extra ? p->extra_size : 0,
        .extra_hash = p->extra ? XXH3_64bits(p->extra, p->extra_size) : 0,
    };
    memcpy(h.magic, SNAP_MAGIC, sizeof h.magic);
    h.header_hash = snap_header_hash(&h);
    uint64_t index_bytes = c->count * sizeof *c->extents;
    if (ftruncate(c->fd, (off_t)(h.index_offset + index_bytes + h.extra_size)) != 0 ||
        ll_file_pwrite_all(c->fd, c->extents, index_bytes, h.index_offset) != 0 ||
        (h.extra_size &&
         ll_file_pwrite_all(c->fd, p->extra, h.extra_size, h.index_offset + index_bytes) != 0) ||
        ll_file_pwrite_all(c->fd, &h, sizeof h, 0) != 0)
        return ll_fail(c->err, errno ? errno : EIO, "writing the snapshot index: %s",
                       strerror(errno ? errno : EIO));
    return 0;
}

int ll_snap_save_(ll_block *block, const char *path, ll_error *err, const ll_snap_save_params *p)
{
    if (!snap_state_get(block, err)) return -1;
    char tmp[PATH_MAX];
    int fd = ll_file_begin(path, tmp, sizeof tmp, err);
    if (fd < 0) return -1;
    save_ctx c = {.fd = fd, .data_offset = block->page_size, .err = err};
    c.hash = XXH3_createState();
    int rc = c.hash ? 0 : ll_fail(err, ENOMEM, "out of memory");
    /* Holes first, so that untouched pages take no disk. */
    if (rc == 0 && ftruncate(fd, (off_t)(c.data_offset + block->size)) != 0)
        rc = ll_fail(err, errno, "sizing '%s': %s", tmp, strerror(errno));
    if (rc == 0) rc = snap_each_page(block, p->snap, save_page, &c, err);
    if (rc == 0) rc = save_finish(&c, block, p);
    if (rc == 0)
        rc = ll_file_commit(fd, tmp, path, err);
    else
        ll_file_abort(fd, tmp);
    if (c.hash) XXH3_freeState(c.hash);
    free(c.extents);
    return rc;
}

/* ---- reading a file -------------------------------------------------- */

typedef struct snap_file {
    int fd;
    uint64_t file_size;
    snap_header h;
    snap_extent *extents;
} snap_file;

static void file_close(snap_file *f)
{
    if (f->fd >= 0) close(f->fd);
    free(f->extents);
    f->fd = -1;
    f->extents = NULL;
}

static int check_fits(const snap_header *h, const ll_block *block, const char *path,
                      uint64_t layout_version, ll_error *err)
{
    char a[32], b[32];
    if (h->base != (uint64_t)(uintptr_t)block->base)
        return ll_fail(err, EINVAL,
                       "'%s' holds a block at base 0x%llx; this block is at 0x%llx (try: "
                       "reserve the block at 0x%llx to load it)",
                       path, (unsigned long long)h->base,
                       (unsigned long long)(uintptr_t)block->base, (unsigned long long)h->base);
    if (h->size != block->size)
        return ll_fail(err, EINVAL,
                       "'%s' holds a block of %s; this block is %s (try: reserve a block of %s "
                       "to load it)",
                       path, ll_size_format(h->size, a, sizeof a),
                       ll_size_format(block->size, b, sizeof b), a);
    if (h->page_size != block->page_size)
        return ll_fail(err, EINVAL,
                       "'%s' was saved with %s pages; this system uses %s (try: load it on a "
                       "system with %s pages)",
                       path, ll_size_format(h->page_size, a, sizeof a),
                       ll_size_format(block->page_size, b, sizeof b), a);
    if (h->layout_version != layout_version)
        return ll_fail(err, EINVAL,
                       "'%s' has state layout version 0x%llx; the program expects 0x%llx: the "
                       "state structs changed since it was saved (try: load it with a build of "
                       "that layout, or start the state over)",
                       path, (unsigned long long)h->layout_version,
                       (unsigned long long)layout_version);
    return 0;
}

/* The sizes and offsets, with no arithmetic that can wrap: a real page
 * size, the index inside the file, at most one extent per page. */
static int check_sizes(const snap_file *f, const char *path, ll_error *err)
{
    const snap_header *h = &f->h;
    uint64_t index_end, index_bytes;
    if (!ll_is_pow2(h->page_size) || h->page_size < SNAP_PAGE_MIN || h->page_size > SNAP_PAGE_MAX ||
        h->data_offset % h->page_size || h->data_offset < sizeof *h || h->size % h->page_size ||
        !h->size || __builtin_add_overflow(h->data_offset, h->size, &index_end) ||
        h->index_offset != index_end || h->extent_count > h->size / h->page_size ||
        h->data_bytes > h->size)
        return ll_fail(err, EINVAL,
                       "'%s' is corrupted: inconsistent sizes in its header " SNAP_AGAIN, path);
    /* extent_count <= size / page_size <= 2^52: the product fits. */
    index_bytes = h->extent_count * sizeof(snap_extent);
    if (__builtin_add_overflow(index_end, index_bytes, &index_end) ||
        __builtin_add_overflow(index_end, h->extra_size, &index_end) || f->file_size < index_end)
        return ll_fail(err, EINVAL,
                       "'%s' is truncated: %llu bytes, the header says %llu: was the save "
                       "interrupted? " SNAP_AGAIN,
                       path, (unsigned long long)f->file_size,
                       (unsigned long long)(index_end < h->index_offset ? UINT64_MAX : index_end));
    return 0;
}

/* The header, in the order that gives the most useful refusal first; the
 * block checks only when loading (block not NULL). */
static int check_header(const snap_file *f, const char *path, const ll_block *block,
                        uint64_t layout_version, ll_error *err)
{
    const snap_header *h = &f->h;
    if (memcmp(h->magic, SNAP_MAGIC, sizeof h->magic) != 0)
        return ll_fail(err, EINVAL,
                       "'%s' is not a looplive snapshot file (no LLSNAP magic) " SNAP_WHICH, path);
    if (h->format_version != SNAP_FORMAT_VERSION)
        return ll_fail(err, EINVAL,
                       "'%s' has snapshot format version %u; this build reads version %u (try: "
                       "load it with the looplive that saved it)",
                       path, h->format_version, SNAP_FORMAT_VERSION);
    if (h->header_size != sizeof *h || snap_header_hash(h) != h->header_hash)
        return ll_fail(err, EINVAL,
                       "'%s' is corrupted: its header checksum does not match " SNAP_AGAIN, path);
    if (h->arch != SNAP_ARCH || h->pointer_bits != sizeof(void *) * 8)
        return ll_fail(err, EINVAL,
                       "'%s' was saved on %s (%u-bit); this is %s (%u-bit): pointers in it "
                       "mean nothing here (try: load it on %s)",
                       path, snap_arch_name(h->arch), h->pointer_bits, snap_arch_name(SNAP_ARCH),
                       (unsigned)(sizeof(void *) * 8), snap_arch_name(h->arch));
    if (block && check_fits(h, block, path, layout_version, err) != 0) return -1;
    return check_sizes(f, path, err);
}

static int check_index(const snap_file *f, const char *path, ll_error *err)
{
    const snap_header *h = &f->h;
    if (XXH3_64bits(f->extents, h->extent_count * sizeof *f->extents) != h->index_hash)
        return ll_fail(err, EINVAL,
                       "'%s' is corrupted: its page index checksum does not match " SNAP_AGAIN,
                       path);
    uint64_t next = 0, total = 0;
    for (uint64_t i = 0; i < h->extent_count; i++) {
        const snap_extent *e = &f->extents[i];
        if (e->off < next || e->off % h->page_size || !e->len || e->len % h->page_size ||
            e->len > h->size || e->off > h->size - e->len)
            return ll_fail(err, EINVAL,
                           "'%s' is corrupted: page index entry %llu is out of order " SNAP_AGAIN,
                           path, (unsigned long long)i);
        next = e->off + e->len;
        total += e->len; /* extents are disjoint inside size: no wrap */
    }
    if (total != h->data_bytes)
        return ll_fail(err, EINVAL, "'%s' is corrupted: the page index does not add up " SNAP_AGAIN,
                       path);
    return 0;
}

/* Opens path and checks its header and index: O(index), never O(data). */
static int file_open(snap_file *f, const char *path, const ll_block *block, uint64_t layout_version,
                     ll_error *err)
{
    memset(f, 0, sizeof *f);
    /* O_NONBLOCK: a FIFO's open would wait for a writer forever. */
    f->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (f->fd < 0)
        return ll_fail(err, errno, "cannot open '%s': %s (try: check the path)", path,
                       strerror(errno));
    struct stat st;
    if (fstat(f->fd, &st) != 0) return ll_fail(err, errno, "stat '%s': %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return ll_fail(err, EINVAL,
                       "'%s' is not a looplive snapshot file: it is not a regular file " SNAP_WHICH,
                       path);
    f->file_size = (uint64_t)st.st_size;
    ssize_t got = pread(f->fd, &f->h, sizeof f->h, 0);
    if (got < 0) return ll_fail(err, errno, "reading '%s': %s", path, strerror(errno));
    if ((size_t)got < sizeof f->h) {
        if (got >= 8 && memcmp(f->h.magic, SNAP_MAGIC, 8) == 0)
            return ll_fail(err, EINVAL,
                           "'%s' is truncated: %zd bytes, shorter than a header " SNAP_AGAIN, path,
                           got);
        return ll_fail(err, EINVAL, "'%s' is not a looplive snapshot file (%zd bytes) " SNAP_WHICH,
                       path, got);
    }
    if (check_header(f, path, block, layout_version, err) != 0) return -1;
    size_t bytes = f->h.extent_count * sizeof *f->extents;
    f->extents = malloc(bytes ? bytes : 1);
    if (!f->extents) return ll_fail(err, ENOMEM, "out of memory for the index of '%s'", path);
    if (pread(f->fd, f->extents, bytes, (off_t)f->h.index_offset) != (ssize_t)bytes)
        return ll_fail(err, EIO, "'%s' is truncated: its page index is incomplete " SNAP_AGAIN,
                       path);
    return check_index(f, path, err);
}

/* Reads [at, at + len) of the file, hashing it, or checking it is zero. */
static int read_range(const snap_file *f, uint64_t at, uint64_t len, XXH3_state_t *hash,
                      uint8_t *buf, uint64_t cap, const char *path, ll_error *err)
{
    for (uint64_t done = 0; done < len;) {
        uint64_t n = len - done < cap ? len - done : cap;
        if (pread(f->fd, buf, n, (off_t)(at + done)) != (ssize_t)n)
            return ll_fail(err, EIO, "'%s' is truncated: reading its data failed " SNAP_AGAIN,
                           path);
        if (hash)
            XXH3_64bits_update(hash, buf, n);
        else
            for (uint64_t i = 0; i < n; i++)
                if (buf[i])
                    return ll_fail(err, EINVAL,
                                   "'%s' is corrupted: non-zero bytes at block offset 0x%llx, "
                                   "outside every indexed page " SNAP_AGAIN,
                                   path, (unsigned long long)(at + done + i - f->h.data_offset));
        done += n;
    }
    return 0;
}

/* Checks every extent's checksum, and that the data region holds nothing
 * outside the extents (the file's data ranges are found with SEEK_DATA). */
static int file_verify(const snap_file *f, const char *path, ll_error *err)
{
    enum { BUF = 1 << 20 };
    uint8_t *buf = malloc(BUF);
    XXH3_state_t *hash = XXH3_createState();
    if (!buf || !hash) {
        free(buf);
        if (hash) XXH3_freeState(hash);
        return ll_fail(err, ENOMEM, "out of memory");
    }
    int rc = 0;
    uint64_t region_end = f->h.index_offset, at = f->h.data_offset;
    for (uint64_t i = 0; rc == 0 && i <= f->h.extent_count; i++) {
        /* The gap before extent i (or the tail) must read as zeros. */
        uint64_t gap_end =
            i < f->h.extent_count ? f->h.data_offset + f->extents[i].off : region_end;
        while (rc == 0 && at < gap_end) {
            off_t data = lseek(f->fd, (off_t)at, SEEK_DATA);
            if (data < 0 || (uint64_t)data >= gap_end) break;
            off_t hole = lseek(f->fd, data, SEEK_HOLE);
            uint64_t stop = hole < 0 || (uint64_t)hole > gap_end ? gap_end : (uint64_t)hole;
            rc = read_range(f, (uint64_t)data, stop - (uint64_t)data, NULL, buf, BUF, path, err);
            at = stop;
        }
        if (rc != 0 || i == f->h.extent_count) break;
        const snap_extent *e = &f->extents[i];
        XXH3_64bits_reset(hash);
        uint64_t extent_end = e->off + e->len;
        rc = read_range(f, f->h.data_offset + e->off, e->len, hash, buf, BUF, path, err);
        if (rc == 0 && XXH3_64bits_digest(hash) != e->hash)
            rc = ll_fail(err, EINVAL,
                         "'%s' is corrupted: the checksum of block offsets 0x%llx-0x%llx does not "
                         "match " SNAP_AGAIN,
                         path, (unsigned long long)e->off, (unsigned long long)extent_end);
        at = f->h.data_offset + e->off + e->len;
    }
    free(buf);
    if (hash) XXH3_freeState(hash);
    return rc;
}

static int read_extra(const snap_file *f, const char *path, uint32_t tag, void **out,
                      ll_error *err);

int ll_snap_verify(const char *path, ll_error *err)
{
    snap_file f;
    int rc = file_open(&f, path, NULL, 0, err);
    if (rc == 0) rc = file_verify(&f, path, err);
    void *extra = NULL;
    if (rc == 0) rc = read_extra(&f, path, f.h.extra_tag, &extra, err); /* its checksum */
    free(extra);
    file_close(&f);
    return rc;
}

/* ---- load ------------------------------------------------------------ */

/* The caller's extra section, when the file has one of the wanted tag. */
static int read_extra(const snap_file *f, const char *path, uint32_t tag, void **out, ll_error *err)
{
    *out = NULL;
    if (!f->h.extra_size || f->h.extra_tag != tag) return 0;
    void *buf = malloc(f->h.extra_size);
    if (!buf) return ll_fail(err, ENOMEM, "out of memory for the extra section of '%s'", path);
    uint64_t at = f->h.index_offset + f->h.extent_count * sizeof(snap_extent);
    if (pread(f->fd, buf, f->h.extra_size, (off_t)at) != (ssize_t)f->h.extra_size ||
        XXH3_64bits(buf, f->h.extra_size) != f->h.extra_hash) {
        free(buf);
        return ll_fail(err, EINVAL,
                       "'%s' is corrupted: its extra section checksum does not match " SNAP_AGAIN,
                       path);
    }
    *out = buf;
    return 0;
}

/* Maps the saved state somewhere free, lets the caller's hook rewrite it
 * (or refuse, with the block untouched), then moves it over the block. */
static int map_state(ll_block *block, const snap_file *f, const char *path,
                     const ll_snap_load_params *p, ll_error *err)
{
    void *extra;
    if (read_extra(f, path, p->extra_tag, &extra, err) != 0) return -1;
    int direct = !extra || !p->extra_fn;
    uint8_t *at = mmap(direct ? block->base : NULL, block->size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_NORESERVE | (direct ? MAP_FIXED : 0), f->fd,
                       (off_t)f->h.data_offset);
    int rc = at == MAP_FAILED ? ll_fail(err, errno, "mapping '%s': %s", path, strerror(errno)) : 0;
    if (rc == 0 && !direct) {
        ll_range *data = malloc((f->h.extent_count ? f->h.extent_count : 1) * sizeof *data);
        for (uint64_t i = 0; data && i < f->h.extent_count; i++)
            data[i] = (ll_range){f->extents[i].off, f->extents[i].off + f->extents[i].len};
        rc = data ? p->extra_fn(p->extra_ctx, at, block->size, extra, f->h.extra_size, data,
                                (size_t)f->h.extent_count, err)
                  : ll_fail(err, ENOMEM, "out of memory loading '%s'", path);
        free(data);
        if (rc == 0 && mremap(at, block->size, block->size, MREMAP_MAYMOVE | MREMAP_FIXED,
                              block->base) == MAP_FAILED)
            rc = ll_fail(err, errno, "mapping '%s': %s", path, strerror(errno));
        if (rc != 0) munmap(at, block->size);
    }
    free(extra);
    return rc;
}

/* The arena table the file would bring, checked from the file's bytes
 * before anything is mapped: a refused load leaves the block as it was. */
static int check_table(const snap_file *f, const ll_block *block, const char *path, ll_error *err)
{
    uint8_t head[LL_BLOCK_TABLE_BYTES];
    uint64_t len = f->h.size < sizeof head ? f->h.size : sizeof head;
    ssize_t got = pread(f->fd, head, len, (off_t)f->h.data_offset);
    if (got != (ssize_t)len)
        return ll_fail(err, EIO, "'%s' is truncated: reading its arena table failed " SNAP_AGAIN,
                       path);
    ll_error why;
    if (ll_block_check_table(block, head, len, &why) != 0)
        return ll_fail(err, EINVAL, "cannot load '%s': %s%s", path, why.msg,
                       strstr(why.msg, "(try: ") ? "" : " " SNAP_AGAIN);
    return 0;
}

int ll_snap_load_(ll_block *block, const char *path, ll_error *err, const ll_snap_load_params *p)
{
    snap_state *st = snap_state_get(block, err);
    if (!st) return -1;
    if (st->live)
        return ll_fail(err, EBUSY,
                       "cannot load '%s': the block has %zu live snapshots (try: ll_snap_drop "
                       "them first)",
                       path, st->live);
    snap_file f;
    int rc = file_open(&f, path, block, p->layout_version, err);
    if (rc == 0 && p->verify) rc = file_verify(&f, path, err);
    if (rc == 0) rc = check_table(&f, block, path, err);
    if (rc == 0) rc = map_state(block, &f, path, p, err);
    if (rc != 0) {
        file_close(&f);
        return -1;
    }
    /* The file is now the baseline: never written; the next take copies it
     * into a fresh memfd. The old memfd's pages are freed here. */
    if (block->fd >= 0) close(block->fd);
    block->fd = f.fd;
    block->flags &= ~(uint32_t)(LL_BLOCK_ANONYMOUS | LL_BLOCK_HUGE);
    block->flags |= LL_BLOCK_LOADED;
    st->base_fd = f.fd;
    st->base_off = f.h.data_offset;
    st->base_writable = 0;
    f.fd = -1;
    file_close(&f);
    /* Arm the guard pages of the arena table that came with the state. */
    return ll_block_attach(block, err);
}
