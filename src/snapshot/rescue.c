/* rescue.c - save the newest snapshot when the process can no longer trust
 * its C library (a fault inside it may have left malloc's lock taken).
 * Nothing here allocates, uses stdio or takes a lock: open, pread, pwrite,
 * fsync, rename, and XXH3 with its state on the stack. The file is the
 * format of ll_snap_save (snapshot.h), written the same way: data pages at
 * their block offset, holes for zeros, then the index, then the header. */
#define XXH_STATIC_LINKING_ONLY
#include "snapshot/snapshot.h"

#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

enum { RESCUE_PAGE_MAX = 64 * 1024 };

typedef struct rescue {
    int in, out;
    uint64_t in_off;      /* file offset of block offset 0 in `in` */
    uint64_t data_offset; /* of the output */
    uint64_t index_offset;
    uint64_t page;
    snap_extent open; /* the extent being written; len 0 when none */
    uint64_t count, data_bytes;
    XXH3_state_t *extent_hash, *index_hash;
    const void *extra; /* written after the index: the caller's section */
    uint64_t extra_size;
    uint32_t extra_tag;
} rescue;

static int close_extent(rescue *r)
{
    if (!r->open.len) return 0;
    r->open.hash = XXH3_64bits_digest(r->extent_hash);
    XXH3_64bits_update(r->index_hash, &r->open, sizeof r->open);
    int rc = ll_file_pwrite_all(r->out, &r->open, sizeof r->open,
                                r->index_offset + r->count * sizeof r->open);
    r->count++;
    r->open.len = 0;
    return rc;
}

static int add_page(rescue *r, uint64_t off, const uint8_t *bytes)
{
    if (r->open.len && (r->open.off + r->open.len != off || r->open.len >= SNAP_EXTENT_MAX))
        if (close_extent(r) != 0) return -1;
    if (!r->open.len) {
        r->open = (snap_extent){off, 0, 0};
        XXH3_64bits_reset(r->extent_hash);
    }
    r->open.len += r->page;
    r->data_bytes += r->page;
    XXH3_64bits_update(r->extent_hash, bytes, r->page);
    return ll_file_pwrite_all(r->out, bytes, r->page, r->data_offset + off);
}

static int all_zero(const uint8_t *p, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        if (p[i]) return 0;
    return 1;
}

/* Every non-zero page of the baseline; holes are skipped with SEEK_DATA
 * where the file system has it (tmpfs, the memfd, does). */
static int copy_pages(rescue *r, uint64_t size)
{
    static uint8_t buf[RESCUE_PAGE_MAX];
    int seek = 1;
    for (uint64_t off = 0; off < size; off += r->page) {
        off_t data = seek ? lseek(r->in, (off_t)(r->in_off + off), SEEK_DATA) : -1;
        if (data < 0 && seek && errno == ENXIO) break; /* only holes from here on */
        if (data < 0) seek = 0;                        /* no SEEK_DATA: read every page */
        uint64_t at = data < 0 ? off : ll_align_down((uint64_t)data - r->in_off, r->page);
        if (at > off) off = at;
        if (off >= size) break;
        if (pread(r->in, buf, r->page, (off_t)(r->in_off + off)) != (ssize_t)r->page) return -1;
        if (!all_zero(buf, r->page) && add_page(r, off, buf) != 0) return -1;
    }
    return close_extent(r);
}

static int write_header(const rescue *r, const ll_block *block, uint64_t layout_version)
{
    snap_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, SNAP_MAGIC, sizeof h.magic);
    h.format_version = SNAP_FORMAT_VERSION;
    h.header_size = sizeof h;
    h.arch = SNAP_ARCH;
    h.pointer_bits = (uint32_t)(sizeof(void *) * 8);
    h.base = (uint64_t)(uintptr_t)block->base;
    h.size = block->size;
    h.page_size = block->page_size;
    h.layout_version = layout_version;
    h.data_offset = r->data_offset;
    h.index_offset = r->index_offset;
    h.extent_count = r->count;
    h.data_bytes = r->data_bytes;
    h.index_hash = XXH3_64bits_digest(r->index_hash);
    if (r->extra_size) {
        h.extra_tag = r->extra_tag;
        h.extra_size = r->extra_size;
        h.extra_hash = XXH3_64bits(r->extra, r->extra_size); /* no allocation */
    }
    h.header_hash = snap_header_hash(&h);
    return ll_file_pwrite_all(r->out, &h, sizeof h, 0);
}

/* path + ".tmp" + the pid in decimal, without snprintf. */
static int temp_name(const char *path, char *out, size_t cap)
{
    size_t n = strlen(path);
    if (n + 32 > cap) return -1;
    memcpy(out, path, n);
    memcpy(out + n, ".tmp.", 5);
    n += 5;
    char digits[16];
    int d = 0;
    for (unsigned v = (unsigned)getpid(); d == 0 || v; v /= 10) digits[d++] = (char)('0' + v % 10);
    while (d) out[n++] = digits[--d];
    out[n] = 0;
    return 0;
}

static void sync_parent(const char *path)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : 0;
    if (n >= sizeof dir) return;
    memcpy(dir, slash ? path : ".", slash ? n : 1);
    dir[slash ? (n ? n : 1) : 1] = 0;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    fsync(fd);
    close(fd);
}

static int rescue_write(rescue *r, const ll_block *block, uint64_t layout_version)
{
    if (ftruncate(r->out, (off_t)r->index_offset) != 0 || copy_pages(r, block->size) != 0)
        return -1;
    uint64_t index_end = r->index_offset + r->count * sizeof(snap_extent);
    if (r->extra_size && (ftruncate(r->out, (off_t)(index_end + r->extra_size)) != 0 ||
                          ll_file_pwrite_all(r->out, r->extra, r->extra_size, index_end) != 0))
        return -1;
    if (write_header(r, block, layout_version) != 0 || fsync(r->out) != 0) return -1;
    return 0;
}

int ll_snap_save_newest(const ll_block *block, const char *path, uint64_t layout_version,
                        ll_error *err)
{
    return ll_snap_save_newest_extra(block, path, layout_version, NULL, 0, 0, err);
}

int ll_snap_save_newest_extra(const ll_block *block, const char *path, uint64_t layout_version,
                              const void *extra, uint64_t extra_size, uint32_t extra_tag,
                              ll_error *err)
{
    const snap_state *st = snap_state_of(block);
    if (!st || st->base_fd < 0)
        return ll_fail(err, EINVAL,
                       "cannot save the newest snapshot: the block has none (try: ll_snap_take "
                       "first)");
    if (block->page_size > RESCUE_PAGE_MAX)
        return ll_fail(err, EINVAL,
                       "cannot save the newest snapshot: pages of %llu bytes are "
                       "larger than %d (try: ll_snap_save)",
                       (unsigned long long)block->page_size, RESCUE_PAGE_MAX);
    char tmp[PATH_MAX];
    if (!path || temp_name(path, tmp, sizeof tmp) != 0)
        return ll_fail(err, ENAMETOOLONG,
                       "cannot save the newest snapshot: the path is missing or longer than %d "
                       "bytes (try: a shorter path)",
                       PATH_MAX - 32);
    XXH3_state_t extent_hash, index_hash;
    XXH3_INITSTATE(&extent_hash);
    XXH3_INITSTATE(&index_hash);
    XXH3_64bits_reset(&index_hash);
    rescue r = {.in = st->base_fd,
                .in_off = st->base_off,
                .data_offset = block->page_size,
                .index_offset = block->page_size + block->size,
                .page = block->page_size,
                .extent_hash = &extent_hash,
                .index_hash = &index_hash,
                .extra = extra,
                .extra_size = extra ? extra_size : 0,
                .extra_tag = extra_tag};
    /* A new file, never one a link points at (as every save makes it). */
    unlink(tmp);
    r.out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    /* strerrordesc_np, not strerror: no locale, no lock. */
    if (r.out < 0)
        return ll_fail(err, errno, "cannot create '%s': %s (is the directory writable?)", tmp,
                       strerrordesc_np(errno));
    int rc = rescue_write(&r, block, layout_version);
    int e = errno;
    close(r.out);
    if (rc == 0 && rename(tmp, path) != 0) rc = -1, e = errno;
    if (rc != 0) {
        unlink(tmp);
        return ll_fail(err, e, "cannot write '%s': %s (is the disk full?)", path,
                       strerrordesc_np(e));
    }
    sync_parent(path);
    return 0;
}
