/* module.c - load the code library from private copies, bind its entry
 * points, reload it, roll back to the last good version. */
#include "module/module.h"

#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <limits.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <unistd.h>

/* ---- private copies -------------------------------------------------------- */

static int copy_fd(int in, int out)
{
    for (;;) {
        ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
        if (n == 0) return 0;
        if (n > 0) continue;
        if (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP) return -1;
        break;
    }
    for (;;) { /* copy_file_range refused: across file systems on old kernels */
        ssize_t n = sendfile(out, in, NULL, 1 << 30);
        if (n == 0) return 0;
        if (n < 0) return -1;
    }
}

/* Copies the library to a new path in copy_dir and checks the copy: what is
 * checked is exactly what gets loaded, however the original changes. */
static char *make_copy(ll_module *m, ll_error *err)
{
    int in = open(m->path, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        ll_fail(err, errno, "cannot open module '%s': %s", m->path, strerror(errno));
        return NULL;
    }
    char *copy = malloc(PATH_MAX);
    if (!copy) {
        close(in);
        ll_fail(err, ENOMEM, "out of memory copying module '%s'", m->path);
        return NULL;
    }
    /* A new name per attempt: the loader hands back an image still loaded
     * under the same name, and a failed attempt may not have unloaded. */
    snprintf(copy, PATH_MAX, "%s/%s.%llu", m->copy_dir, m->name, (unsigned long long)++m->attempts);
    int out = open(copy, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0700);
    int rc = -1;
    if (out < 0)
        ll_fail(err, errno, "cannot copy '%s' to '%s': %s", m->path, copy, strerror(errno));
    else if (copy_fd(in, out) != 0)
        ll_fail(err, errno, "cannot copy '%s' to '%s': %s", m->path, copy, strerror(errno));
    else
        rc = module_elf_check(out, m->path, err);
    close(in);
    if (out >= 0) close(out);
    if (rc != 0) {
        unlink(copy);
        free(copy);
        return NULL;
    }
    return copy;
}

/* ---- images ----------------------------------------------------------------- */

typedef struct find_ctx {
    uint64_t base;
    const char *name;
    module_image *img;
} find_ctx;

static int find_segments(struct dl_phdr_info *info, size_t size, void *arg)
{
    find_ctx *c = arg;
    if (info->dlpi_addr != c->base || strcmp(info->dlpi_name, c->name) != 0) return 0;
    module_image *img = c->img;
    uint64_t page = ll_page_size_get();
    img->lo = UINT64_MAX;
    for (int i = 0; i < info->dlpi_phnum && img->range_count < MODULE_RANGE_MAX; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD) continue;
        module_range *r = &img->ranges[img->range_count++];
        r->start = ll_align_down(info->dlpi_addr + ph->p_vaddr, page);
        r->end = ll_align_up(info->dlpi_addr + ph->p_vaddr + ph->p_memsz, page);
        r->flags = ph->p_flags;
        if (r->start < img->lo) img->lo = r->start;
        if (r->end > img->hi) img->hi = r->end;
    }
    return 1;
}

/* Records where the image is mapped, for the fault handler and the scan. */
static int record_ranges(module_image *img, ll_error *err)
{
    struct link_map *lm = NULL;
    if (dlinfo(img->handle, RTLD_DI_LINKMAP, &lm) != 0 || !lm)
        return ll_fail(err, EINVAL, "cannot find where '%s' is mapped: %s", img->copy_path,
                       dlerror());
    find_ctx c = {.base = lm->l_addr, .name = lm->l_name, .img = img};
    if (!dl_iterate_phdr(find_segments, &c) || img->range_count == 0)
        return ll_fail(err, EINVAL, "cannot find the segments of '%s'", img->copy_path);
    img->base = lm->l_addr;
    return 0;
}

/* Only at close, or for a build that never ran: an image that ran stays
 * mapped (its functions forward to the code in use). */
static void image_unload(module_image *img)
{
    if (img->handle) dlclose(img->handle);
    if (img->copy_path) unlink(img->copy_path);
    free(img->copy_path);
    free(img->table);
    free(img->funcs);
    free(img->by_addr);
    free(img->strings);
    free(img->globals);
    free(img->gruns);
    free(img->gkeys);
    free(img->ginit);
    free(img);
}

static int bind_table(ll_module *m, module_image *img, ll_error *err)
{
    img->table = calloc(m->count ? m->count : 1, sizeof *img->table);
    if (!img->table) return ll_fail(err, ENOMEM, "out of memory binding '%s'", m->path);
    for (size_t i = 0; i < m->count; i++) {
        dlerror();
        img->table[i] = dlsym(img->handle, m->names[i]);
        if (!img->table[i])
            return ll_fail(err, ENOENT,
                           "'%s' has no entry point '%s' (export it: a non-static function "
                           "with default visibility)",
                           m->path, m->names[i]);
    }
    return 0;
}

static module_image *image_load(ll_module *m, ll_error *err)
{
    uint64_t version = m->next_version;
    module_image *img = calloc(1, sizeof *img);
    if (!img) {
        ll_fail(err, ENOMEM, "out of memory loading '%s'", m->path);
        return NULL;
    }
    img->version = version;
    img->copy_path = make_copy(m, err);
    if (!img->copy_path) {
        free(img);
        return NULL;
    }
    dlerror();
    img->handle = dlopen(img->copy_path, RTLD_NOW | RTLD_LOCAL);
    if (!img->handle) {
        const char *why = dlerror();
        ll_fail(err, ENOEXEC, "cannot load '%s': %s", m->path, why ? why : "dlopen failed");
        image_unload(img);
        return NULL;
    }
    if (record_ranges(img, err) != 0 || bind_table(m, img, err) != 0 ||
        module_symbols_read(img, img->base, err) != 0) {
        image_unload(img);
        return NULL;
    }
    /* The copy stays until close: a debugger reads symbols from it. */
    return img;
}

static void use_image(ll_module *m, module_image *img)
{
    m->cur = img;
    m->table = img->table;
    m->info.version = img->version;
    m->info.copy_path = img->copy_path;
    uint64_t page = ll_page_size_get(), need = module_globals_need(img, page);
    m->info.globals_size = need;
    m->info.globals_room = need ? ll_align_up(2 * need + 64 * 1024, page) : 0;
}

/* ---- reload ----------------------------------------------------------------- */

/* Sends every earlier build to img; on failure puts them back on cur. */
static int forward_to(ll_module *m, module_image *img, ll_error *err)
{
    if (module_forward(m, img, err) == 0) return 0;
    ll_error ignored;
    if (m->cur) module_forward(m, m->cur, &ignored);
    return -1;
}

int ll_module_reload(ll_module *m, ll_error *err)
{
    ll_error local;
    if (!err) err = &local;
    module_image *img = image_load(m, err);
    if (img && forward_to(m, img, err) != 0) {
        image_unload(img); /* it never ran */
        img = NULL;
    }
    if (!img) {
        m->info.failures++;
        if (!m->cur) return -1;
        size_t len = strlen(err->msg);
        snprintf(err->msg + len, sizeof err->msg - len, "; version %llu keeps running",
                 (unsigned long long)m->info.version);
        return -1;
    }
    m->next_version++;
    img->next = m->images;
    m->images = img;
    if (!m->span_hi || img->lo < m->span_lo) m->span_lo = img->lo;
    if (img->hi > m->span_hi) m->span_hi = img->hi;
    use_image(m, img);
    /* Without protection nothing rolls back: the build in use is the good one. */
    if (m->unprotected || !m->good) m->good = img;
    m->info.loads++;
    return 0;
}

int ll_module_poll(ll_module *m, ll_error *err)
{
    if (!atomic_load_explicit(&m->watch.ready, memory_order_acquire)) return 0;
    atomic_store_explicit(&m->watch.ready, 0, memory_order_relaxed);
    return ll_module_reload(m, err) == 0 ? 1 : -1;
}

int ll_module_version_set(ll_module *m, uint64_t version, ll_error *err)
{
    module_image *img = m->images;
    while (img && img->version != version) img = img->next;
    if (!img)
        return ll_fail(err, ENOENT,
                       "no build version %llu of '%s' is loaded (try: a version that loaded, "
                       "1 to %llu)",
                       (unsigned long long)version, m->name, (unsigned long long)m->info.version);
    if (img == m->cur) return 0;
    if (forward_to(m, img, err) != 0) return -1;
    use_image(m, img);
    return 0;
}

void module_rollback(ll_module *m)
{
    if (!m->good || m->good == m->cur) return;
    ll_error ignored; /* the text was made writable before: it is again */
    module_forward(m, m->good, &ignored);
    use_image(m, m->good);
    m->info.rollbacks++;
}

void module_mark_good(ll_module *m)
{
    m->good = m->cur;
}

/* ---- open and close ----------------------------------------------------- */

static int split_path(ll_module *m, const char *path, ll_error *err)
{
    char *abs = realpath(path, NULL);
    if (!abs) return ll_fail(err, errno, "cannot open module '%s': %s", path, strerror(errno));
    m->path = abs;
    char *slash = strrchr(abs, '/');
    m->dir = strndup(abs, (size_t)(slash - abs) + (slash == abs));
    m->name = strdup(slash + 1);
    size_t n = strlen(abs) + 6;
    m->lock_path = malloc(n);
    if (!m->dir || !m->name || !m->lock_path)
        return ll_fail(err, ENOMEM, "out of memory opening module '%s'", path);
    snprintf(m->lock_path, n, "%s.lock", abs);
    return 0;
}

static void remove_dir(const char *path)
{
    DIR *d = opendir(path);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue; /* copies are never dot files */
        char file[PATH_MAX];
        if (snprintf(file, sizeof file, "%s/%s", path, e->d_name) < (int)sizeof file) unlink(file);
    }
    closedir(d);
    rmdir(path);
}

/* A process that died without ll_module_close (killed, crashed) leaves its
 * copies behind: remove those of this library whose process is gone. The
 * directory names carry the owner's pid for that. */
static void sweep_dead_copies(const char *tmp, const char *name)
{
    DIR *d = opendir(tmp);
    if (!d) return;
    char prefix[96];
    int n = snprintf(prefix, sizeof prefix, "looplive-%.64s-", name);
    for (struct dirent *e; (e = readdir(d));) {
        if (strncmp(e->d_name, prefix, (size_t)n) != 0) continue;
        char *end;
        long pid = strtol(e->d_name + n, &end, 10);
        if (pid <= 0 || *end != '-') continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue; /* alive, or pid reused */
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/%s", tmp, e->d_name) < (int)sizeof path)
            remove_dir(path);
    }
    closedir(d);
}

static int make_copy_dir(ll_module *m, ll_error *err)
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp) tmp = "/tmp";
    sweep_dead_copies(tmp, m->name);
    snprintf(m->copy_dir, sizeof m->copy_dir, "%s/looplive-%.64s-%ld-XXXXXX", tmp, m->name,
             (long)getpid());
    if (!mkdtemp(m->copy_dir))
        return ll_fail(err, errno, "cannot create a directory for copies of '%s' in %s: %s",
                       m->path, tmp, strerror(errno));
    m->info.copy_dir = m->copy_dir;
    return 0;
}

static int copy_names(ll_module *m, const ll_module_params *p, ll_error *err)
{
    if (p->symbol_count && !p->symbols)
        return ll_fail(err, EINVAL, "module '%s': symbol_count is %zu but symbols is NULL", m->path,
                       p->symbol_count);
    m->count = p->symbol_count;
    m->names = calloc(m->count ? m->count : 1, sizeof *m->names);
    if (!m->names) return ll_fail(err, ENOMEM, "out of memory opening module '%s'", m->path);
    for (size_t i = 0; i < m->count; i++) {
        if (!p->symbols[i])
            return ll_fail(err, EINVAL, "module '%s': entry point name %zu is NULL", m->path, i);
        if (!(m->names[i] = strdup(p->symbols[i])))
            return ll_fail(err, ENOMEM, "out of memory opening module '%s'", m->path);
    }
    return 0;
}

ll_module *ll_module_open_(const char *path, ll_error *err, const ll_module_params *p)
{
    static const ll_module_params none;
    if (!p) p = &none;
    ll_module *m = calloc(1, sizeof *m);
    if (!m) {
        ll_fail(err, ENOMEM, "out of memory for a module handle");
        return NULL;
    }
    m->watch.inotify_fd = m->watch.wake_fd = -1;
    m->block = p->block;
    m->unprotected = p->unprotected;
    m->next_version = 1;
    m->globals_room = p->block ? p->globals_room : 0;
    if (!path) {
        ll_fail(err, EINVAL, "no module path given");
        free(m);
        return NULL;
    }
    if (m->globals_room &&
        (m->globals_room % p->block->page_size || m->globals_room >= p->block->size)) {
        char a[32], b[32];
        ll_fail(err, EINVAL,
                "module '%s': .globals_room of %s does not fit a block of %s in whole pages "
                "(try: ll_module_info.globals_room of a first open, added to the block's size)",
                path, ll_size_format(m->globals_room, a, sizeof a),
                ll_size_format(p->block->size, b, sizeof b));
        free(m);
        return NULL;
    }
    if (split_path(m, path, err) != 0 || copy_names(m, p, err) != 0 || make_copy_dir(m, err) != 0 ||
        ll_module_reload(m, err) != 0 || (!m->unprotected && module_signals_acquire(err) != 0)) {
        m->unprotected = 1; /* no fault handlers to release */
        ll_module_close(m);
        return NULL;
    }
    m->info.watch = p->no_watch ? "none" : "inotify";
    if (!p->no_watch &&
        module_watch_start(m, p->watch_stat, p->stable_ms, p->stat_interval_ms, err) != 0) {
        ll_module_close(m);
        return NULL;
    }
    if (m->watch.stat_mode) m->info.watch = "stat";
    return m;
}

void *ll_module_symbol_get(const ll_module *m, size_t index)
{
    return index < m->count ? m->table[index] : NULL;
}

void ll_module_info_get(const ll_module *m, ll_module_info *info)
{
    *info = m->info;
}

uint64_t ll_module_version_get(const ll_module *m)
{
    return m->info.version;
}

void ll_module_close(ll_module *m)
{
    if (!m) return;
    module_watch_stop(m);
    ll_error ignored; /* each image's own bytes back before its unload runs */
    module_forward(m, NULL, &ignored);
    while (m->images) {
        module_image *img = m->images;
        m->images = img->next;
        image_unload(img);
    }
    if (m->copy_dir[0]) rmdir(m->copy_dir);
    if (!m->unprotected) module_signals_release();
    for (size_t i = 0; m->names && i < m->count; i++) free((char *)m->names[i]);
    free(m->names);
    free(m->path);
    free(m->dir);
    free(m->name);
    free(m->lock_path);
    free(m);
}
