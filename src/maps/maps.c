/* maps.c - parse /proc/PID/maps into regions.
 *
 * Built for processes with 65,530 mappings: the text is read in 64 KiB
 * pieces and never held whole; a path is stored once per run of regions
 * that share it (a library's segments), anonymous regions store none. */
#include "maps/maps.h"
#include "base/base.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- string pool ----------------------------------------------------- */

typedef struct pool_block {
    struct pool_block *next;
    size_t used, cap;
    char data[];
} pool_block;

const char *maps_strdup(ll_maps *m, const char *s, size_t len)
{
    pool_block *b = m->pool;
    if (!b || b->cap - b->used < len + 1) {
        size_t cap = len + 1 > 60000 ? len + 1 : 60000;
        pool_block *nb = malloc(sizeof *nb + cap);
        if (!nb) return NULL;
        nb->next = b;
        nb->used = 0;
        nb->cap = cap;
        m->pool = b = nb;
    }
    char *out = b->data + b->used;
    memcpy(out, s, len);
    out[len] = 0;
    b->used += len + 1;
    return out;
}

void ll_maps_free(ll_maps *maps)
{
    if (!maps) return;
    for (pool_block *b = maps->pool, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    free(maps->regions);
    memset(maps, 0, sizeof *maps);
}

/* ---- one line -------------------------------------------------------- */

typedef struct builder {
    ll_maps *m;
    size_t cap;
    size_t line_no;
    int unsorted;
} builder;

static int hex_field(const char **p, const char *end, char stop, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    int n = 0;
    for (; s < end && *s != stop; s++, n++) {
        unsigned c = (unsigned char)*s, d;
        if (c - '0' < 10)
            d = c - '0';
        else if ((c | 32) - 'a' < 6)
            d = (c | 32) - 'a' + 10;
        else
            return -1;
        if (n >= 16) return -1;
        v = v << 4 | d;
    }
    if (!n || s >= end) return -1;
    *out = v;
    *p = s + 1;
    return 0;
}

static int dec_field(const char **p, const char *end, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    int n = 0;
    for (; s < end && (unsigned)(*s - '0') < 10; s++, n++) {
        if (v > (UINT64_MAX - 9) / 10) return -1;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    if (!n || (s < end && !strchr(" \t\r\n", *s))) return -1;
    *out = v;
    *p = s;
    return 0;
}

/* The kernel pads the fields to column 73 before a path; a hand-written
 * file may not, so a path is whatever follows the inode and its spaces. */
static void path_field(const char *line, const char *p, const char *end, const char **path,
                       size_t *len)
{
    while (end > p && (end[-1] == '\n' || end[-1] == '\r')) end--;
    const char *s = p;
    if (p - line < 73 && end - line > 73) {
        s = line + 73;
        for (const char *q = p; q < s; q++)
            if (*q != ' ') s = NULL;
        if (!s)
            s = p;
        else
            goto done;
    }
    while (s < end && (*s == ' ' || *s == '\t')) s++;
done:
    *path = s;
    *len = (size_t)(end - s);
}

static int grow(builder *b)
{
    if (b->m->count < b->cap) return 0;
    size_t cap = b->cap ? b->cap * 2 : 256;
    ll_region *r = realloc(b->m->regions, cap * sizeof *r);
    if (!r) return -1;
    b->m->regions = r;
    b->cap = cap;
    return 0;
}

static int malformed(builder *b, const char *line, size_t len, ll_error *err)
{
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) len--;
    int shown = len > 80 ? 80 : (int)len;
    return ll_fail(err, EINVAL,
                   "maps line %zu is malformed: '%.*s%s' (expected 'START-END PERMS OFFSET "
                   "MAJOR:MINOR INODE [PATH]' as in /proc/PID/maps)",
                   b->line_no, shown, line, len > 80 ? "..." : "");
}

static int add_line(builder *b, const char *line, size_t len, ll_error *err)
{
    b->line_no++;
    const char *p = line, *end = line + len;
    if (len == 0 || (len == 1 && line[0] == '\n')) return 0; /* blank line */
    ll_region r = {0};
    uint64_t maj, min;
    if (hex_field(&p, end, '-', &r.start) || hex_field(&p, end, ' ', &r.end) || end - p < 5 ||
        p[4] != ' ')
        return malformed(b, line, len, err);
    memcpy(r.perms, p, 4);
    for (int i = 0; i < 4; i++)
        if (!r.perms[i] || !strchr("rwxps-", r.perms[i])) /* strchr finds the NUL too */
            return malformed(b, line, len, err);
    p += 5;
    if (hex_field(&p, end, ' ', &r.offset) || hex_field(&p, end, ':', &maj) ||
        hex_field(&p, end, ' ', &min) || dec_field(&p, end, &r.inode) || r.end <= r.start ||
        maj > UINT32_MAX || min > UINT32_MAX)
        return malformed(b, line, len, err);
    r.dev_major = (uint32_t)maj;
    r.dev_minor = (uint32_t)min;
    const char *path;
    size_t plen;
    path_field(line, p, end, &path, &plen);
    if (grow(b) != 0) return ll_fail(err, ENOMEM, "out of memory reading maps");
    ll_maps *m = b->m;
    const ll_region *prev = m->count ? &m->regions[m->count - 1] : NULL;
    if (plen == 0) {
        r.path = "";
    } else if (prev && strlen(prev->path) == plen && !memcmp(prev->path, path, plen)) {
        r.path = prev->path;
    } else if (!(r.path = maps_strdup(m, path, plen))) {
        return ll_fail(err, ENOMEM, "out of memory reading maps");
    }
    if (prev && r.start < prev->start) b->unsorted = 1;
    m->regions[m->count++] = r;
    return 0;
}

/* ---- readers --------------------------------------------------------- */

static int cmp_region(const void *a, const void *b)
{
    const ll_region *x = a, *y = b;
    return (x->start > y->start) - (x->start < y->start);
}

static void finish(builder *b)
{
    if (b->unsorted) qsort(b->m->regions, b->m->count, sizeof *b->m->regions, cmp_region);
    ll_maps_classify(b->m, NULL);
}

static int parse_into(builder *b, const char *text, size_t len, size_t *consumed, int final,
                      ll_error *err)
{
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl && !final) break;
        const char *stop = nl ? nl + 1 : end;
        if (add_line(b, p, (size_t)(stop - p), err) != 0) return -1;
        p = stop;
    }
    *consumed = (size_t)(p - text);
    return 0;
}

int ll_maps_parse(const char *text, size_t len, ll_maps *out, ll_error *err)
{
    memset(out, 0, sizeof *out);
    builder b = {.m = out};
    size_t used;
    if (parse_into(&b, text, len, &used, 1, err) != 0) {
        ll_maps_free(out);
        return -1;
    }
    finish(&b);
    return 0;
}

int maps_read_fd(int fd, int pid, ll_maps *out, ll_error *err)
{
    memset(out, 0, sizeof *out);
    builder b = {.m = out};
    size_t cap = 64 * 1024, have = 0;
    char *buf = malloc(cap);
    if (!buf) return ll_fail(err, ENOMEM, "out of memory reading maps");
    int rc = 0;
    for (;;) {
        if (have == cap) { /* one line longer than the buffer */
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                rc = ll_fail(err, ENOMEM, "out of memory reading maps");
                break;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + have, cap - have);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            rc = pid > 0 ? maps_explain(pid, errno, err)
                         : ll_fail(err, errno, "cannot read maps: %s", strerror(errno));
            break;
        }
        size_t used;
        if (parse_into(&b, buf, have + (size_t)n, &used, n == 0, err) != 0) {
            rc = -1;
            break;
        }
        have = have + (size_t)n - used;
        memmove(buf, buf + used, have);
        if (n == 0) break;
    }
    free(buf);
    if (rc == 0 && out->count == 0 && pid > 0) rc = maps_explain(pid, 0, err);
    if (rc != 0) {
        ll_maps_free(out);
        return -1;
    }
    out->pid = pid;
    finish(&b);
    return 0;
}

int ll_maps_read_file(const char *path, ll_maps *out, ll_error *err)
{
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ll_fail(err, errno,
                       "cannot read maps file '%s': %s (try: cat /proc/PID/maps > FILE)", path,
                       strerror(errno));
    int rc = maps_read_fd(fd, 0, out, err);
    if (rc == 0 && out->count == 0) {
        close(fd);
        return ll_fail(err, EINVAL,
                       "maps file '%s' has no mappings (try: cat /proc/PID/maps > FILE)", path);
    }
    if (rc != 0 && err && err->code != ENOMEM && strncmp(err->msg, "maps line", 9) == 0) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        ll_fail(err, EINVAL, "%s: %s", path, msg);
    } else if (rc != 0 && err && err->code != ENOMEM) {
        ll_fail(err, err->code, "cannot read maps file '%s': %s", path, strerror(err->code));
    }
    close(fd);
    return rc;
}

int ll_maps_read_pid(int pid, ll_maps *out, ll_error *err)
{
    memset(out, 0, sizeof *out);
    if (pid < 0) return ll_fail(err, EINVAL, "pid %d is not valid (a pid is positive)", pid);
    int self = pid == 0;
    if (self) pid = (int)getpid();
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/maps", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return maps_explain(pid, errno, err);
    int rc = maps_read_fd(fd, pid, out, err);
    close(fd);
    if (rc != 0) return -1;
    char exe[4096];
    snprintf(path, sizeof path, "/proc/%d/exe", pid);
    ssize_t n = readlink(path, exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        out->exe = maps_strdup(out, exe, (size_t)n);
        ll_maps_classify(out, out->exe);
    }
    return 0;
}

/* ---- queries --------------------------------------------------------- */

const ll_region *ll_maps_overlap_find(const ll_maps *maps, uint64_t start, uint64_t end)
{
    if (!maps || start >= end) return NULL;
    /* The first region whose end is above start; regions do not overlap. */
    size_t lo = 0, hi = maps->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (maps->regions[mid].end <= start)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < maps->count && maps->regions[lo].start < end) return &maps->regions[lo];
    return NULL;
}

uint64_t ll_maps_total_get(const ll_maps *maps)
{
    uint64_t t = 0;
    for (size_t i = 0; i < maps->count; i++) t += maps->regions[i].end - maps->regions[i].start;
    return t;
}

ll_span ll_maps_span_get(const ll_maps *maps, ll_chunk chunk)
{
    ll_span s = {0};
    for (size_t i = 0; i < maps->count; i++) {
        const ll_region *r = &maps->regions[i];
        if (r->chunk != chunk) continue;
        if (!s.count || r->start < s.lo) s.lo = r->start;
        if (r->end > s.hi) s.hi = r->end;
        s.count++;
        s.bytes += r->end - r->start;
    }
    return s;
}

size_t ll_maps_gaps_find(const ll_maps *maps, uint64_t lo, uint64_t hi, ll_range *out, size_t cap)
{
    size_t n = 0;
    uint64_t at = lo;
    for (size_t i = 0; i < maps->count && at < hi; i++) {
        const ll_region *r = &maps->regions[i];
        if (r->end <= at) continue;
        if (r->start > at) {
            uint64_t e = r->start < hi ? r->start : hi;
            if (n < cap) out[n] = (ll_range){at, e};
            n++;
        }
        at = r->end;
    }
    if (at < hi) {
        if (n < cap) out[n] = (ll_range){at, hi};
        n++;
    }
    return n;
}
