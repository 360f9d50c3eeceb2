/* recfile.c - the recording file: one versioned, checksummed file holding a
 * start state, the inputs and what they need to be replayed.
 *
 * Layout (little-endian, as on every machine looplive runs on):
 *
 *     0   magic "LLREC\r\n\032"  (8 bytes: text-mode and truncation mangling show)
 *     8   u32 format version, u32 header size (128)
 *     16  u64 checksum: xxh3-64 of the whole file with this field zero
 *     24  u64 file size
 *     32  u64 layout version, block base, block size, page size
 *     64  u64 frames, start frame, page count
 *     88  u32 input size, u32 code map size
 *     96  f64 frames per second
 *     104 char application name[24]
 *     128 page count x (u64 offset in the block, page bytes), ascending
 *         frames x input size bytes
 *         the module's code map (ll_module_codemap_build), code map size bytes
 *
 * Only pages that hold non-zero bytes (ll_snap_pages_visit) are stored, so the pages an
 * application never touched take no space. */
#include "loop/loop.h"
#include "base/base.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

enum { HEADER_SIZE = 128, CHECKSUM_AT = 16 };

typedef struct rec_header {
    char magic[8];
    uint32_t version, header_size;
    uint64_t checksum, file_size;
    uint64_t layout_version, block_base, block_size, page_size;
    uint64_t frames, start_frame, page_count;
    uint32_t input_size, codemap_size;
    double fps;
    char app_name[24];
} rec_header;

_Static_assert(sizeof(rec_header) == HEADER_SIZE, "recording header is 128 bytes");

static char *hex(uint64_t v, char *buf)
{
    snprintf(buf, 24, "0x%llx", (unsigned long long)v);
    return buf;
}

/* ---- reading ------------------------------------------------------------ */

static int check_header(const rec_header *h, uint64_t file_size, const char *path, ll_error *err)
{
    if (h->version != LOOP_REC_VERSION || h->header_size != HEADER_SIZE)
        return loop_fail(err, EINVAL,
                         "%s: recording format version %u, this looplive reads version %u "
                         "(try: record it again with this version)",
                         path, h->version, LOOP_REC_VERSION);
    if (h->file_size != file_size)
        return loop_fail(err, EINVAL,
                         "%s: truncated or extended recording: header says %llu bytes, file has "
                         "%llu (try: copy the file again)",
                         path, (unsigned long long)h->file_size, (unsigned long long)file_size);
    uint64_t ps = h->page_size;
    if (!ll_is_pow2(ps) || ps < 512 || h->input_size == 0 || h->input_size > (1u << 20) ||
        h->block_size % ps)
        return loop_fail(err, EINVAL, "%s: corrupted recording: bad page or input size", path);
    if (!(h->fps > 0 && h->fps <= LOOP_FPS_MAX)) { /* also NaN */
        char rate[32] = "NaN";
        if (h->fps == h->fps) snprintf(rate, sizeof rate, "%g", h->fps);
        return loop_fail(err, EINVAL,
                         "%s: corrupted recording: frame rate %s is not above 0 and at most %d "
                         "frames a second (try: record it again)",
                         path, rate, LOOP_FPS_MAX);
    }
    uint64_t need = HEADER_SIZE;
    if (__builtin_mul_overflow(h->page_count, 8 + ps, &need) ||
        __builtin_add_overflow(need, (uint64_t)HEADER_SIZE, &need))
        return loop_fail(err, EINVAL, "%s: corrupted recording: page count", path);
    uint64_t in_bytes;
    if (__builtin_mul_overflow(h->frames, (uint64_t)h->input_size, &in_bytes) ||
        __builtin_add_overflow(need, in_bytes, &need) ||
        __builtin_add_overflow(need, (uint64_t)h->codemap_size, &need) || need != file_size)
        return loop_fail(err, EINVAL,
                         "%s: corrupted recording: sections do not add up to %llu bytes", path,
                         (unsigned long long)file_size);
    return 0;
}

static int check_pages(const loop_rec *rec, const char *path, ll_error *err)
{
    const loop_rec_info *in = &rec->info;
    uint64_t prev = 0;
    for (uint64_t i = 0; i < in->pages; i++) {
        uint64_t off;
        memcpy(&off, rec->pages + i * (8 + in->page_size), 8);
        if (off % in->page_size || off >= in->block_size || (i && off <= prev))
            return loop_fail(err, EINVAL, "%s: corrupted recording: page %llu at offset 0x%llx",
                             path, (unsigned long long)i, (unsigned long long)off);
        prev = off;
    }
    return 0;
}

static void info_from_header(loop_rec_info *in, const rec_header *h)
{
    memset(in, 0, sizeof *in);
    in->layout_version = h->layout_version;
    in->block_base = h->block_base;
    in->block_size = h->block_size;
    in->page_size = h->page_size;
    in->frames = h->frames;
    in->start_frame = h->start_frame;
    in->pages = h->page_count;
    in->input_size = h->input_size;
    in->fps = h->fps;
    memcpy(in->app_name, h->app_name, sizeof h->app_name);
    in->app_name[sizeof h->app_name] = 0;
}

#define NOT_A_RECORDING                                                                            \
    "%s: not a looplive recording (no LLREC magic; try: a file saved by the s key of looplive "    \
    "run, ll_loop_save or replay --script)"

/* A file shorter than the header: the start of a recording cut short, or
 * something else altogether (a text file). */
static int short_file(int fd, const char *path, long long size, ll_error *err)
{
    char head[8];
    ssize_t n = pread(fd, head, sizeof head, 0);
    close(fd);
    if (n <= 0 || memcmp(head, LOOP_REC_MAGIC, (size_t)n) != 0)
        return loop_fail(err, EINVAL, NOT_A_RECORDING, path);
    return loop_fail(err, EINVAL,
                     "%s: truncated recording: %lld bytes, shorter than its %d-byte header "
                     "(try: copy the file again)",
                     path, size, HEADER_SIZE);
}

static int map_file(loop_rec *rec, const char *path, ll_error *err)
{
    /* O_NONBLOCK: a FIFO's open would wait for a writer, freezing the host. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return loop_fail(err, errno, "cannot open recording %s: %s (try: check the path)", path,
                         strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) st.st_size = 0;
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return loop_fail(err, EINVAL,
                         "%s: not a looplive recording: it is not a regular file (try: a file "
                         "saved by the s key of looplive run, ll_loop_save or replay --script)",
                         path);
    }
    if (st.st_size < HEADER_SIZE) return short_file(fd, path, (long long)st.st_size, err);
    rec->map_size = (uint64_t)st.st_size;
    rec->map = mmap(NULL, rec->map_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (rec->map == MAP_FAILED) {
        rec->map = NULL;
        return loop_fail(err, errno, "cannot map recording %s: %s", path, strerror(errno));
    }
    return 0;
}

static uint64_t file_checksum(const uint8_t *data, uint64_t size)
{
    XXH3_state_t *st = XXH3_createState();
    uint64_t zero = 0;
    XXH3_64bits_reset(st);
    XXH3_64bits_update(st, data, CHECKSUM_AT);
    XXH3_64bits_update(st, &zero, sizeof zero);
    XXH3_64bits_update(st, data + CHECKSUM_AT + 8, size - CHECKSUM_AT - 8);
    uint64_t h = XXH3_64bits_digest(st);
    XXH3_freeState(st);
    return h;
}

int loop_rec_open(loop_rec *rec, const char *path, ll_error *err)
{
    memset(rec, 0, sizeof *rec);
    if (map_file(rec, path, err) != 0) return -1;
    rec_header h;
    memcpy(&h, rec->map, sizeof h);
    if (memcmp(h.magic, LOOP_REC_MAGIC, 8) != 0) {
        loop_rec_close(rec);
        return loop_fail(err, EINVAL, NOT_A_RECORDING, path);
    }
    if (check_header(&h, rec->map_size, path, err) != 0) {
        loop_rec_close(rec);
        return -1;
    }
    uint64_t sum = file_checksum(rec->map, rec->map_size);
    if (sum != h.checksum) {
        char a[24], b[24];
        loop_rec_close(rec);
        return loop_fail(err, EINVAL,
                         "%s: corrupted recording: checksum %s, header says %s (try: copy the "
                         "file again or record it again)",
                         path, hex(sum, a), hex(h.checksum, b));
    }
    info_from_header(&rec->info, &h);
    rec->pages = (const uint8_t *)rec->map + HEADER_SIZE;
    rec->inputs = rec->pages + rec->info.pages * (8 + rec->info.page_size);
    rec->codemap_size = h.codemap_size;
    rec->codemap = h.codemap_size ? rec->inputs + rec->info.frames * rec->info.input_size : NULL;
    if (check_pages(rec, path, err) != 0) {
        loop_rec_close(rec);
        return -1;
    }
    return 0;
}

void loop_rec_close(loop_rec *rec)
{
    if (rec->map) munmap(rec->map, rec->map_size);
    memset(rec, 0, sizeof *rec);
}

/* The arena table the start state brings, checked before any byte of it
 * is copied into the block (pages are ascending: the table's come first). */
static int check_table(const loop_rec *rec, const ll_block *block, ll_error *err)
{
    uint8_t head[LL_BLOCK_TABLE_BYTES] = {0};
    uint64_t ps = rec->info.page_size;
    for (uint64_t i = 0; i < rec->info.pages; i++) {
        uint64_t off;
        memcpy(&off, rec->pages + i * (8 + ps), 8);
        if (off >= sizeof head) break;
        uint64_t n = sizeof head - off < ps ? sizeof head - off : ps;
        memcpy(head + off, rec->pages + i * (8 + ps) + 8, n);
    }
    ll_error why;
    if (ll_block_table_check(block, head, sizeof head, &why) != 0)
        return loop_fail(err, EINVAL, "recording's start state: %s", why.msg);
    return 0;
}

int loop_rec_check(const loop_rec *rec, const ll_block *block, const ll_app *app, ll_error *err)
{
    const loop_rec_info *in = &rec->info;
    char a[24], b[24], c[24], s1[32], s2[32];
    /* Another application's recording would fail on its layout or block
     * size below, which names the wrong cause. The file keeps 23 bytes. */
    if (app && app->name && in->app_name[0] &&
        strncmp(in->app_name, app->name, sizeof in->app_name - 1) != 0)
        return loop_fail(err, EINVAL,
                         "recording was made by the application %s, this is %s (try: play it "
                         "with %s's library)",
                         in->app_name, app->name, in->app_name);
    if (in->block_base != (uint64_t)(uintptr_t)block->base || in->block_size != block->size)
        return loop_fail(err, EINVAL,
                         "recording was made in a %s block at %s, this block is %s at %s (try: "
                         "reserve the block at the recording's base and size, e.g. looplive run "
                         "--base %s --size %s)",
                         ll_size_format(in->block_size, s1, sizeof s1), hex(in->block_base, a),
                         ll_size_format(block->size, s2, sizeof s2),
                         hex((uint64_t)(uintptr_t)block->base, b), a, hex(in->block_size, c));
    if (in->page_size != (block->page_size ? block->page_size : ll_page_size_get()))
        return loop_fail(err, EINVAL,
                         "recording has %llu-byte pages, this block %llu (try: play it on a "
                         "machine with %llu-byte pages)",
                         (unsigned long long)in->page_size, (unsigned long long)block->page_size,
                         (unsigned long long)in->page_size);
    int migrates = app && app->api_version >= 2 && app->migrate;
    if (app && in->layout_version != app->layout_version && !migrates)
        return loop_fail(err, EINVAL,
                         "recording has layout version %llu, the application %s has %llu (try: "
                         "record it again with this build, or give its ll_app a migrate "
                         "function)",
                         (unsigned long long)in->layout_version, app->name ? app->name : "",
                         (unsigned long long)app->layout_version);
    if (app && in->input_size != app->input_size)
        return loop_fail(err, EINVAL,
                         "recording has %u-byte inputs, the application %s takes %u (try: "
                         "record it again with this build)",
                         in->input_size, app->name ? app->name : "", app->input_size);
    return check_table(rec, block, err);
}

/* ---- applying ----------------------------------------------------------- */

static int zero_page(uint64_t off, const uint8_t *bytes, void *ctx)
{
    (void)bytes;
    ll_block *block = ctx;
    memset(block->base + off, 0, block->page_size);
    return 0;
}

int loop_rec_apply(const loop_rec *rec, ll_block *block, ll_error *err)
{
    /* The recording's arena layout may put data where this block has guard
     * pages now (a build with guards loading one made without): the whole
     * block is made writable first, and ll_block_attach arms the guards of
     * the table that came back with the pages. */
    if (mprotect(block->base, block->size, PROT_READ | PROT_WRITE) != 0)
        return loop_fail(err, errno,
                         "cannot make the block writable to load a recording: %s (try: keep "
                         "the block mapped whole; only ll_block_release unmaps it)",
                         strerror(errno));
    if (ll_snap_pages_visit(block, NULL, zero_page, block, err) != 0) return -1;
    uint64_t ps = rec->info.page_size;
    for (uint64_t i = 0; i < rec->info.pages; i++) {
        const uint8_t *entry = rec->pages + i * (8 + ps);
        uint64_t off;
        memcpy(&off, entry, 8);
        memcpy(block->base + off, entry + 8, ps);
    }
    return ll_block_attach(block, err);
}

/* Merges the recording's pages into ranges for the code map. */
int loop_rec_repoint(const loop_rec *rec, ll_module *module, ll_block *block, ll_error *err)
{
    if (!rec->codemap || !module) return 0;
    uint64_t ps = rec->info.page_size, n = 0;
    ll_range *r = malloc((rec->info.pages ? rec->info.pages : 1) * sizeof *r);
    if (!r) return loop_fail(err, ENOMEM, "out of memory re-pointing the recording's state");
    for (uint64_t i = 0; i < rec->info.pages; i++) {
        uint64_t off;
        memcpy(&off, rec->pages + i * (8 + ps), 8);
        if (n && r[n - 1].end == off)
            r[n - 1].end += ps;
        else
            r[n++] = (ll_range){off, off + ps};
    }
    int rc = ll_module_codemap_apply(module, block->base, block->size, rec->codemap,
                                     rec->codemap_size, r, (size_t)n, err);
    free(r);
    return rc;
}

/* ---- writing ------------------------------------------------------------ */

/* What is written: the pages of snap (NULL: the block now), as
 * ll_snap_pages_visit lists them, counted first for the header. */
typedef struct page_list {
    ll_block *block;
    ll_snap *snap;
    uint64_t count;
} page_list;

static int count_page(uint64_t off, const uint8_t *bytes, void *ctx)
{
    (void)off;
    (void)bytes;
    ((page_list *)ctx)->count++;
    return 0;
}

static int write_all(int fd, XXH3_state_t *st, const void *data, uint64_t size)
{
    if (st) XXH3_64bits_update(st, data, size);
    const uint8_t *p = data;
    while (size) {
        ssize_t n = write(fd, p, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        p += n;
        size -= (uint64_t)n;
    }
    return 0;
}

typedef struct page_writer {
    int fd;
    XXH3_state_t *st;
    uint64_t page_size, count;
} page_writer;

static int write_page(uint64_t off, const uint8_t *bytes, void *ctx)
{
    page_writer *w = ctx;
    w->count++;
    if (write_all(w->fd, w->st, &off, 8) != 0) return -1;
    return write_all(w->fd, w->st, bytes, w->page_size);
}

static void fill_header(rec_header *h, const loop_rec_info *info, const page_list *l,
                        uint64_t codemap_size)
{
    memset(h, 0, sizeof *h);
    memcpy(h->magic, LOOP_REC_MAGIC, 8);
    h->version = LOOP_REC_VERSION;
    h->header_size = HEADER_SIZE;
    h->layout_version = info->layout_version;
    h->block_base = (uint64_t)(uintptr_t)l->block->base;
    h->block_size = l->block->size;
    h->page_size = l->block->page_size;
    h->frames = info->frames;
    h->start_frame = info->start_frame;
    h->page_count = l->count;
    h->input_size = info->input_size;
    h->fps = info->fps;
    size_t n = strnlen(info->app_name, sizeof h->app_name - 1);
    memcpy(h->app_name, info->app_name, n);
    h->codemap_size = (uint32_t)codemap_size;
    h->file_size = HEADER_SIZE + l->count * (8 + h->page_size) + info->frames * info->input_size +
                   codemap_size;
}

static int write_body(int fd, const page_list *l, const loop_rec_info *info, const uint8_t *inputs,
                      const void *codemap, uint64_t codemap_size)
{
    rec_header h;
    fill_header(&h, info, l, codemap_size);
    XXH3_state_t *st = XXH3_createState();
    XXH3_64bits_reset(st);
    int rc = write_all(fd, st, &h, sizeof h);
    page_writer w = {fd, st, h.page_size, 0};
    if (rc == 0) rc = ll_snap_pages_visit(l->block, l->snap, write_page, &w, NULL);
    if (rc == 0 && w.count != l->count) rc = -1, errno = EAGAIN; /* written during the save */
    if (rc == 0) rc = write_all(fd, st, inputs, info->frames * info->input_size);
    if (rc == 0 && codemap_size) rc = write_all(fd, st, codemap, codemap_size);
    h.checksum = XXH3_64bits_digest(st);
    XXH3_freeState(st);
    if (rc == 0 && pwrite(fd, &h.checksum, 8, CHECKSUM_AT) != 8) rc = -1;
    return rc;
}

int loop_rec_write(const char *path, ll_block *block, ll_snap *snap, const loop_rec_info *info,
                   const uint8_t *inputs, const void *codemap, uint64_t codemap_size, ll_error *err)
{
    if (codemap_size > UINT32_MAX)
        return loop_fail(err, EFBIG, "the code map of %llu bytes is too large for a recording",
                         (unsigned long long)codemap_size);
    page_list l = {.block = block, .snap = snap};
    if (ll_snap_pages_visit(block, snap, count_page, &l, err) != 0) return -1;
    char tmp[4096];
    int fd = ll_file_begin(path, tmp, sizeof tmp, err);
    if (fd < 0) {
        return -1;
    }
    int rc = write_body(fd, &l, info, inputs, codemap, codemap_size);
    int saved = errno;
    if (rc != 0) {
        ll_file_abort(fd, tmp);
        return loop_fail(err, saved, "cannot write recording %s: %s", path, strerror(saved));
    }
    return ll_file_commit(fd, tmp, path, err);
}

int ll_loop_file_read(const char *path, ll_loop_file *out, ll_error *err)
{
    loop_rec rec;
    if (loop_rec_open(&rec, path, err) != 0) return -1;
    *out = rec.info;
    loop_rec_close(&rec);
    return 0;
}
