/* resim.c - re-simulate a recording with two builds in forked processes
 * and compare their state hashes frame by frame (see looplive_host.h).
 *
 * The child is a copy of a process that may have other threads, so it
 * keeps to what cannot wait on a lock one of them held at the fork: the
 * application's code, the snapshot walk, the hash, the heap (glibc's fork
 * takes every malloc lock around the fork and hands them over free) and
 * system calls. Its fault handler writes to the pipe and ends the process.
 * The pipe carries chunks: a word of kind << 56 | count, then count words
 * (hashes), or the words of a fault, or count bytes of an error message. */
#include "loop/loop.h"
#include "base/base.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

enum { CHUNK_HASHES = 1, CHUNK_DONE = 2, CHUNK_FAULT = 3, CHUNK_ERROR = 4 };
enum { BATCH = 256, FAULT_WORDS = 6, READ_BUF = 1 << 16 };
#define CHUNK(kind, n) ((uint64_t)(kind) << 56 | (uint64_t)(n))

/* One process: one recording with one build. */
typedef struct resim_run {
    pid_t pid; /* 0: none (reused, or reaped) */
    int fd;    /* the pipe's read end; -1 once closed */
    uint64_t version;
    uint64_t *hashes; /* one per frame */
    uint64_t done;    /* hashes in */
    int over, failed;
    uint8_t *buf; /* bytes read, not yet a whole chunk */
    size_t len;
} resim_run;

struct ll_resim {
    ll_module *module;
    int slot;
    char path[4096];
    uint64_t gen;     /* the slot recording's generation */
    struct stat file; /* the file as it was read */
    loop_rec rec;     /* the file, mapped; the child applies it */
    int rec_open;
    uint64_t frames, start_frame, t0, t1;
    resim_run run[2]; /* [0] the old build, [1] the build in use */
    uint64_t compared, changed;
    int64_t first_changed;
    uint8_t *marks;
    char error[LL_ERROR_MSG];
};

/* ---- the child ---------------------------------------------------------- */

typedef struct child_job {
    loop_recording r;
    const loop_rec *rec; /* a file's recording, else r.start */
    uint64_t version;
} child_job;

static int child_fd = -1;
static volatile uint64_t child_pos, child_version;
static uint64_t child_batch[1 + BATCH];
static volatile size_t child_count;

static void child_write(const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t w = write(child_fd, b, n);
        if (w <= 0) _exit(3); /* the parent went away */
        b += w;
        n -= (size_t)w;
    }
}

static void child_flush(void)
{
    if (!child_count) return;
    child_batch[0] = CHUNK(CHUNK_HASHES, child_count);
    child_write(child_batch, (1 + child_count) * 8);
    child_count = 0;
}

/* Async-signal-safe: the frames already hashed, then what faulted where. */
static void child_fault(int sig, siginfo_t *si, void *uc)
{
    uint64_t pc = 0;
#if defined(__x86_64__)
    pc = (uint64_t)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
    pc = (uint64_t)((ucontext_t *)uc)->uc_mcontext.pc;
#else
    (void)uc;
#endif
    child_flush();
    uint64_t w[1 + FAULT_WORDS] = {CHUNK(CHUNK_FAULT, FAULT_WORDS),
                                   (uint64_t)sig,
                                   (uint64_t)(int64_t)si->si_code,
                                   (uint64_t)(uintptr_t)si->si_addr,
                                   pc,
                                   child_pos,
                                   child_version};
    child_write(w, sizeof w);
    _exit(2);
}

/* The parent's handlers would roll back, name, print or give a terminal
 * back: none of that is the child's. Keys typed at the terminal are the
 * parent's too. */
static void child_signals(void)
{
    static const int faults[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP};
    static const int others[] = {SIGTERM, SIGHUP, SIGPIPE};
    static const int keys[] = {SIGINT, SIGQUIT, SIGTSTP, SIGTTOU, SIGTTIN};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = child_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND;
    sigset_t open;
    sigemptyset(&open);
    for (size_t i = 0; i < LL_ARRAY_COUNT(faults); i++) {
        sigaction(faults[i], &sa, NULL);
        sigaddset(&open, faults[i]);
    }
    sigprocmask(SIG_UNBLOCK, &open, NULL);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    for (size_t i = 0; i < LL_ARRAY_COUNT(others); i++) sigaction(others[i], &sa, NULL);
    sa.sa_handler = SIG_IGN;
    for (size_t i = 0; i < LL_ARRAY_COUNT(keys); i++) sigaction(keys[i], &sa, NULL);
}

static const ll_app *child_app(const child_job *j, ll_error *err)
{
    const ll_app *app = j->r.app;
    child_version = j->version;
    if (j->r.module) {
        if (ll_module_version_set(j->r.module, j->version, err) != 0) return NULL;
        ll_app_get *get = (ll_app_get *)ll_module_symbol_get(j->r.module, j->r.app_symbol);
        app = get ? get() : NULL;
    }
    if (!app || !app->update)
        return ll_fail(err, EINVAL, "version %llu has no looplive_app table with an update",
                       (unsigned long long)j->version),
               NULL;
    return app;
}

/* The recording's start state in the block, as the build sees it. */
static int child_start(const child_job *j, const ll_app *app, ll_error *err)
{
    if (j->rec) {
        if (loop_rec_check(j->rec, j->r.block, app, err) != 0 ||
            loop_rec_apply(j->rec, j->r.block, err) != 0)
            return -1;
        return loop_rec_repoint(j->rec, j->r.module, j->r.block, err);
    }
    if (j->r.input_size != app->input_size)
        return loop_fail(err, EINVAL, "the recording has %u-byte inputs, version %llu takes %u",
                         j->r.input_size, (unsigned long long)j->version, app->input_size);
    if (j->r.layout_version != app->layout_version && (app->api_version < 2 || !app->migrate))
        return loop_fail(err, EINVAL,
                         "the recording has layout version %llu, version %llu has %llu and no "
                         "migrate",
                         (unsigned long long)j->r.layout_version, (unsigned long long)j->version,
                         (unsigned long long)app->layout_version);
    return ll_snap_restore(j->r.block, j->r.start, err);
}

typedef struct child_hash {
    loop_hash hash;
    const ll_block *block;
} child_hash;

static void child_page(uint64_t offset, void *ctx)
{
    child_hash *c = ctx;
    loop_hash_page(&c->hash, c->block, offset / c->hash.page_size);
}

/* Frame pos of the recording (the state migrated first, before frame 0,
 * when the build's layout is another). */
static int child_update(const child_job *j, const ll_app *app, uint64_t pos, ll_error *err)
{
    /* The calls are direct: the library's globals come from the block and
     * go back to it here, as a protected call does (ll_module_protect). */
    ll_block *block = j->r.module ? ll_module_app_block_get(j->r.module) : j->r.block;
    if (j->r.module && ll_module_globals_pull(j->r.module, err) != 0) return -1;
    uint64_t layout = j->rec ? j->rec->info.layout_version : j->r.layout_version;
    double dt = 1.0 / (j->r.fps > 0 ? j->r.fps : 60);
    child_pos = pos;
    ll_app_migrate *migrate = app->api_version >= 2 ? app->migrate : NULL;
    /* The call in progress, as ll_app_call_run makes it (a fault ends the
     * child, so nothing needs protecting here). */
    ll_app_call prev = ll_app_call_set(&(ll_app_call){block, j->r.start_frame + pos, dt, 0, NULL});
    int refused =
        pos == 0 && layout != app->layout_version && (!migrate || migrate(block, layout) != 0);
    if (!refused)
        app->update(block, j->r.inputs + pos * j->r.input_size, j->r.start_frame + pos, dt);
    ll_app_call_set(&prev);
    if (refused)
        return loop_fail(err, EINVAL, "version %llu's migrate refused the recording's state",
                         (unsigned long long)j->version);
    if (j->r.module) ll_module_globals_push(j->r.module);
    return 0;
}

static int child_frames(const child_job *j, const ll_app *app, child_hash *c, ll_error *err)
{
    ll_block *block = j->r.block;
    ll_snap *cur = ll_snap_take(block, err); /* the first: the block gets a memfd of its own */
    if (!cur) return -1;
    for (uint64_t pos = 0; pos < j->r.frames; pos++) {
        if (child_update(j, app, pos, err) != 0) return -1;
        ll_snap *next = ll_snap_take_visit(block, child_page, c, err);
        if (!next) return -1;
        ll_snap_drop(block, cur);
        cur = next;
        child_batch[1 + child_count++] = c->hash.total;
        if (child_count == BATCH) child_flush();
    }
    return 0;
}

static void child_begin(int fd)
{
    child_fd = fd;
    child_signals();
    /* Below the foreground: it keeps its frame rate on a busy machine. */
    setpriority(PRIO_PROCESS, 0, 10);
}

/* The end of a child: DONE, or the error. */
__attribute__((noreturn)) static void child_end(int rc, const ll_error *err)
{
    child_flush();
    if (rc == 0) {
        uint64_t w = CHUNK(CHUNK_DONE, 0);
        child_write(&w, sizeof w);
        _exit(0);
    }
    size_t n = strnlen(err->msg, sizeof err->msg - 1);
    uint64_t words[1 + LL_ERROR_MSG / 8] = {CHUNK(CHUNK_ERROR, n)};
    memcpy(words + 1, err->msg, n);
    child_write(words, 8 + (n + 7) / 8 * 8);
    _exit(1);
}

__attribute__((noreturn)) static void child_main(const void *ctx, int fd)
{
    const child_job *j = ctx;
    child_begin(fd);
    ll_error err = {0};
    child_hash c;
    const ll_app *app = child_app(j, &err);
    int rc = app ? child_start(j, app, &err) : -1;
    if (rc == 0) rc = loop_hash_init(&c.hash, j->r.block, &err);
    if (rc == 0) {
        c.hash.module = j->r.module;
        c.block = j->r.block;
        rc = loop_hash_all(&c.hash, j->r.block, &err);
    }
    if (rc == 0) rc = child_frames(j, app, &c, &err);
    child_end(rc, &err);
}

/* ---- the parent ----------------------------------------------------------- */

typedef void child_fn(const void *ctx, int fd);

static int run_start(ll_resim *r, resim_run *run, child_fn *fn, const void *job, ll_error *err)
{
    run->hashes = malloc((r->frames ? r->frames : 1) * sizeof *run->hashes);
    run->buf = malloc(READ_BUF);
    if (!run->hashes || !run->buf) return loop_fail(err, ENOMEM, "out of memory for hashes");
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return loop_fail(err, errno, "cannot re-simulate: pipe2: %s (try: ulimit -n)",
                         strerror(errno));
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(fds[0]), close(fds[1]);
        return loop_fail(err, e, "cannot re-simulate: fork: %s (try: ulimit -u, or free memory)",
                         strerror(e));
    }
    if (pid == 0) {
        close(fds[0]);
        fn(job, fds[1]);
        _exit(1); /* fn does not return */
    }
    close(fds[1]);
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    run->pid = pid;
    run->fd = fds[0];
    return 0;
}

static void run_end(resim_run *run)
{
    if (run->fd >= 0) close(run->fd);
    run->fd = -1;
    if (run->pid > 0) {
        kill(run->pid, SIGKILL);
        waitpid(run->pid, NULL, 0);
    }
    run->pid = 0;
    run->over = 1;
}

static void run_failed_in(ll_resim *r, resim_run *run, uint64_t version, const char *what)
{
    if (!r->error[0]) {
        const char *which = version == r->run[0].version ? "previous" : "current";
        if (r->path[0])
            snprintf(r->error, sizeof r->error,
                     "re-simulation of %.300s with the %s build (version %llu) %.600s", r->path,
                     which, (unsigned long long)version, what);
        else
            snprintf(r->error, sizeof r->error,
                     "re-simulation of slot %d with the %s build (version %llu) %.600s", r->slot,
                     which, (unsigned long long)version, what);
    }
    run->failed = 1;
}

static void run_failed(ll_resim *r, resim_run *run, const char *what)
{
    run_failed_in(r, run, run->version, what);
}

static void fault_text(ll_resim *r, resim_run *run, const uint64_t *w)
{
    char where[512], what[900];
    ll_module_address_describe(r->module, w[3], where, sizeof where);
    int sig = (int)w[0];
    unsigned long long frame = r->start_frame + w[4];
    const char *name = sigabbrev_np(sig);
    if ((int64_t)w[1] > 0)
        snprintf(what, sizeof what, "crashed at frame %llu: SIG%s at address 0x%llx in %s", frame,
                 name ? name : "?", (unsigned long long)w[2], where);
    else
        snprintf(what, sizeof what, "crashed at frame %llu: SIG%s in %s", frame, name ? name : "?",
                 where);
    run_failed_in(r, run, w[5], what);
}

/* Takes one whole chunk from run->buf; its size, or 0 when none is whole. */
static size_t chunk_take(ll_resim *r, resim_run *run, const uint8_t *p, size_t len)
{
    if (len < 8) return 0;
    uint64_t head;
    memcpy(&head, p, 8);
    uint64_t kind = head >> 56, n = head & ((1ull << 56) - 1);
    size_t body = kind == CHUNK_ERROR ? (size_t)(n + 7) / 8 * 8 : (size_t)n * 8;
    if (body > READ_BUF - 8) body = READ_BUF - 8; /* garbage: ends below */
    if (len < 8 + body) return 0;
    if (kind == CHUNK_HASHES) {
        uint64_t room = r->frames - run->done;
        memcpy(run->hashes + run->done, p + 8, (n < room ? n : room) * 8);
        run->done += n < room ? n : room;
    } else if (kind == CHUNK_FAULT && n == FAULT_WORDS) {
        uint64_t w[FAULT_WORDS];
        memcpy(w, p + 8, sizeof w);
        fault_text(r, run, w);
    } else if (kind == CHUNK_ERROR) {
        char msg[LL_ERROR_MSG + 8] = "failed: ";
        memcpy(msg + 8, p + 8, n < LL_ERROR_MSG - 1 ? n : LL_ERROR_MSG - 1);
        run_failed(r, run, msg);
    } else if (kind == CHUNK_DONE) {
        run->over = 1;
    } else {
        run_failed(r, run, "sent something unreadable");
    }
    return 8 + body;
}

/* After the pipe closed: how the process ended, when it did not say. */
static void run_reap(ll_resim *r, resim_run *run)
{
    int status = 0;
    pid_t pid = run->pid;
    run->pid = 0;
    if (pid > 0 && waitpid(pid, &status, 0) == pid && !run->over && !run->failed) {
        char what[128];
        unsigned long long frame = r->start_frame + run->done;
        if (WIFSIGNALED(status))
            snprintf(what, sizeof what, "died of SIG%s at frame %llu",
                     sigabbrev_np(WTERMSIG(status)) ? sigabbrev_np(WTERMSIG(status)) : "?", frame);
        else
            snprintf(what, sizeof what, "ended (exit %d) at frame %llu without a result",
                     WEXITSTATUS(status), frame);
        run_failed(r, run, what);
    }
    run->over = 1;
}

static void run_poll(ll_resim *r, resim_run *run)
{
    while (run->fd >= 0) {
        ssize_t n = read(run->fd, run->buf + run->len, READ_BUF - run->len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return; /* EAGAIN: nothing more now */
        if (n == 0) {
            close(run->fd);
            run->fd = -1;
            run_reap(r, run);
            return;
        }
        run->len += (size_t)n;
        size_t at = 0, used;
        while ((used = chunk_take(r, run, run->buf + at, run->len - at))) at += used;
        memmove(run->buf, run->buf + at, run->len - at);
        run->len -= at;
    }
}

static void compare(ll_resim *r)
{
    uint64_t upto = r->run[0].done < r->run[1].done ? r->run[0].done : r->run[1].done;
    for (; r->compared < upto; r->compared++) {
        int same = r->run[0].hashes[r->compared] == r->run[1].hashes[r->compared];
        r->marks[r->compared] = same ? LL_RESIM_SAME : LL_RESIM_CHANGED;
        if (same) continue;
        r->changed++;
        if (r->first_changed < 0) r->first_changed = (int64_t)r->compared;
    }
}

static int is_over(const ll_resim *r)
{
    if (r->run[0].failed || r->run[1].failed) return 1;
    return r->compared == r->frames && r->run[0].over && r->run[1].over;
}

int ll_resim_poll(ll_resim *r)
{
    if (r->t1) return 1;
    for (int i = 0; i < 2; i++) run_poll(r, &r->run[i]);
    compare(r);
    if (!is_over(r)) return 0;
    for (int i = 0; i < 2; i++) run_end(&r->run[i]); /* a failure ends the other too */
    r->t1 = ll_now_ns();
    return 1;
}

/* ---- start, status, end ---------------------------------------------------- */

/* The old build's hashes from an earlier comparison of the same recording. */
static int reuse_old(ll_resim *r, const ll_resim *old, uint64_t version)
{
    if (!old || !old->t1 || old->run[1].failed || old->run[1].version != version ||
        old->run[1].done != r->frames || old->frames != r->frames || old->slot != r->slot ||
        strcmp(old->path, r->path) != 0)
        return 0;
    if (r->path[0] ? old->file.st_ino != r->file.st_ino || old->file.st_dev != r->file.st_dev ||
                         old->file.st_size != r->file.st_size ||
                         old->file.st_mtim.tv_sec != r->file.st_mtim.tv_sec ||
                         old->file.st_mtim.tv_nsec != r->file.st_mtim.tv_nsec
                   : old->gen != r->gen)
        return 0;
    r->run[0].hashes = malloc(r->frames * sizeof *r->run[0].hashes);
    if (!r->run[0].hashes) return 0;
    memcpy(r->run[0].hashes, old->run[1].hashes, r->frames * sizeof *r->run[0].hashes);
    r->run[0].done = r->frames;
    r->run[0].over = 1;
    return 1;
}

static int open_file(ll_resim *r, const char *path, child_job *job, ll_error *err)
{
    snprintf(r->path, sizeof r->path, "%s", path);
    if (stat(path, &r->file) != 0)
        return loop_fail(err, errno, "cannot re-simulate %s: %s", path, strerror(errno));
    if (loop_rec_open(&r->rec, path, err) != 0) return -1;
    r->rec_open = 1;
    if (r->rec.info.frames == 0)
        return loop_fail(err, EINVAL, "cannot re-simulate %s: it holds no frames", path);
    job->rec = &r->rec;
    job->r.inputs = r->rec.inputs;
    job->r.frames = r->rec.info.frames;
    job->r.input_size = r->rec.info.input_size;
    job->r.layout_version = r->rec.info.layout_version;
    job->r.start_frame = r->rec.info.start_frame;
    job->r.fps = r->rec.info.fps;
    return 0;
}

static int start_parts(ll_resim *r, ll_loop *loop, const ll_resim_params *p, ll_error *err)
{
    child_job job = {0};
    int held = loop_recording_get(loop, p->slot, &job.r);
    if (!job.r.module)
        return loop_fail(err, EINVAL, "re-simulation compares builds: the loop needs a module");
    r->module = job.r.module;
    uint64_t now = ll_module_version_get(r->module);
    if (p->old_version == 0 || p->old_version >= now)
        return loop_fail(err, EINVAL,
                         "cannot compare version %llu with version %llu in use (try: a build "
                         "loaded before it)",
                         (unsigned long long)p->old_version, (unsigned long long)now);
    if (p->path) {
        if (open_file(r, p->path, &job, err) != 0) return -1;
    } else if (held != 0) {
        return loop_fail(err, EINVAL, "slot %d holds no recording to re-simulate (try: record one)",
                         p->slot);
    }
    r->gen = job.r.gen;
    r->frames = job.r.frames;
    r->start_frame = job.r.start_frame;
    r->marks = calloc(r->frames, 1);
    if (!r->marks)
        return loop_fail(err, ENOMEM, "out of memory for %llu marks",
                         (unsigned long long)r->frames);
    r->run[0].version = job.version = p->old_version;
    if (!reuse_old(r, p->reuse, p->old_version) &&
        run_start(r, &r->run[0], child_main, &job, err) != 0)
        return -1;
    r->run[1].version = job.version = now;
    return run_start(r, &r->run[1], child_main, &job, err);
}

ll_resim *ll_resim_start_(ll_loop *loop, ll_error *err, const ll_resim_params *p)
{
    ll_resim *r = calloc(1, sizeof *r);
    if (!r) return ll_fail(err, ENOMEM, "out of memory"), NULL;
    r->slot = p->path ? -1 : p->slot;
    r->first_changed = -1;
    r->run[0].fd = r->run[1].fd = -1;
    r->t0 = ll_now_ns();
    if (start_parts(r, loop, p, err) != 0) {
        ll_resim_destroy(r);
        return NULL;
    }
    return r;
}

void ll_resim_status_get(const ll_resim *r, ll_resim_status *out)
{
    *out = (ll_resim_status){
        .frames = r->frames,
        .start_frame = r->start_frame,
        .compared = r->compared,
        .changed = r->changed,
        .first_changed = r->first_changed,
        .done = r->t1 != 0,
        .failed = r->error[0] != 0,
        .old_version = r->run[0].version,
        .new_version = r->run[1].version,
        .elapsed_ns = (r->t1 ? r->t1 : ll_now_ns()) - r->t0,
    };
    snprintf(out->error, sizeof out->error, "%s", r->error);
}

const uint8_t *ll_resim_marks_get(const ll_resim *r)
{
    return r->marks;
}

void ll_resim_destroy(ll_resim *r)
{
    if (!r) return;
    for (int i = 0; i < 2; i++) {
        run_end(&r->run[i]);
        free(r->run[i].hashes);
        free(r->run[i].buf);
    }
    if (r->rec_open) loop_rec_close(&r->rec);
    free(r->marks);
    free(r);
}

/* ---- side by side: both builds' pictures of one frame ----------------------- */

/* In a shared mapping: what the child found; the two canvases follow. */
typedef struct view_shared {
    uint64_t diff_count, diff_bytes;
    ll_range diffs[LL_RESIM_DIFFS];
} view_shared;

typedef struct view_job {
    child_job job;
    uint64_t old_version, new_version, frames;
    view_shared *shared;
    ll_canvas canvas[2]; /* [0] the old build's, [1] the new one's */
} view_job;

struct ll_resim_view {
    ll_resim base; /* its run[0] is the process; its error the failure */
    view_shared *shared;
    size_t shared_size;
    ll_canvas canvas[2];
    uint64_t frames;
};

/* The new build's non-zero pages, copied in ascending order. */
typedef struct page_copy {
    uint64_t *offsets;
    uint8_t *bytes;
    uint64_t count, cap, page;
} page_copy;

static int copy_page(uint64_t off, const uint8_t *bytes, void *ctx)
{
    page_copy *c = ctx;
    if (c->count == c->cap) {
        uint64_t cap = c->cap ? c->cap * 2 : 64;
        uint64_t *o = realloc(c->offsets, cap * sizeof *o);
        if (o) c->offsets = o;
        uint8_t *b = realloc(c->bytes, cap * c->page);
        if (b) c->bytes = b;
        if (!o || !b) return -1;
        c->cap = cap;
    }
    c->offsets[c->count] = off;
    memcpy(c->bytes + c->count * c->page, bytes, c->page);
    c->count++;
    return 0;
}

typedef struct diff_ctx {
    ll_module *module; /* to read code pointers as symbol + offset; may be NULL */
    view_shared *out;
    const page_copy *fresh; /* the new build's pages */
    uint64_t next;          /* the first of them not compared yet */
    const uint8_t *zero;
    ll_range last;
    int have;
} diff_ctx;

/* A run of differing bytes; runs closer than 8 bytes are one range. */
static void diff_add(diff_ctx *c, uint64_t start, uint64_t end)
{
    view_shared *o = c->out;
    o->diff_bytes += end - start;
    if (c->have && start <= c->last.end + 8) {
        c->last.end = end;
        if (o->diff_count <= LL_RESIM_DIFFS) o->diffs[o->diff_count - 1].end = end;
        return;
    }
    c->have = 1;
    c->last = (ll_range){start, end};
    if (o->diff_count < LL_RESIM_DIFFS) o->diffs[o->diff_count] = c->last;
    o->diff_count++;
}

/* Whether the bytes at i differ: not when a and b hold, in the aligned
 * word around i, code pointers to the same symbol + offset of their builds
 * (each build's own address of one function is no difference, as for the
 * state hash). */
static int differs(const diff_ctx *c, const uint8_t *a, const uint8_t *b, uint64_t i)
{
    if (a[i] == b[i]) return 0;
    if (!c->module) return 1;
    uint64_t wa, wb, lo, hi, w = i & ~(uint64_t)7;
    memcpy(&wa, a + w, 8), memcpy(&wb, b + w, 8);
    ll_module_code_span_get(c->module, &lo, &hi);
    return wa - lo >= hi - lo || wb - lo >= hi - lo ||
           ll_module_code_canonicalize(c->module, wa) != ll_module_code_canonicalize(c->module, wb);
}

static void diff_page(diff_ctx *c, uint64_t off, const uint8_t *a, const uint8_t *b)
{
    uint64_t n = c->fresh->page;
    for (uint64_t i = 0; i < n; i++) {
        if (!differs(c, a, b, i)) continue;
        uint64_t j = i;
        while (j < n && differs(c, a, b, j)) j++;
        diff_add(c, off + i, off + j);
        i = j;
    }
}

/* The new build's pages below off against zeros: the old state has none. */
static void diff_fresh_to(diff_ctx *c, uint64_t off)
{
    const page_copy *f = c->fresh;
    for (; c->next < f->count && f->offsets[c->next] < off; c->next++)
        diff_page(c, f->offsets[c->next], f->bytes + c->next * f->page, c->zero);
}

static int diff_visit(uint64_t off, const uint8_t *bytes, void *ctx)
{
    diff_ctx *c = ctx;
    const page_copy *f = c->fresh;
    diff_fresh_to(c, off);
    const uint8_t *mine = c->zero;
    if (c->next < f->count && f->offsets[c->next] == off) mine = f->bytes + c->next++ * f->page;
    diff_page(c, off, mine, bytes);
    return 0;
}

/* (declared with the host, defined here: the re-simulation below it clears
 * canvases too) */
void ll_canvas_clear(ll_canvas *c)
{
    size_t n = (size_t)c->width * (size_t)c->height;
    if (c->pixels) memset(c->pixels, 0, n * sizeof *c->pixels);
    if (c->cells) memset(c->cells, ' ', n);
    if (c->colors) memset(c->colors, 0, n);
    if (c->backgrounds) memset(c->backgrounds, 0, n);
    if (c->attrs) memset(c->attrs, 0, n);
    if (c->codepoints) memset(c->codepoints, 0, n * sizeof *c->codepoints);
}

/* The recording's first v->frames frames with one build, and its picture. */
static int view_build(const view_job *v, uint64_t version, ll_canvas *canvas, ll_error *err)
{
    child_job j = v->job;
    j.version = version;
    const ll_app *app = child_app(&j, err);
    if (!app || child_start(&j, app, err) != 0) return -1;
    for (uint64_t pos = 0; pos < v->frames; pos++)
        if (child_update(&j, app, pos, err) != 0) return -1;
    ll_canvas_clear(canvas);
    double dt = 1.0 / (j.r.fps > 0 ? j.r.fps : 60);
    ll_block *seen = j.r.module ? ll_module_app_block_get(j.r.module) : j.r.block;
    ll_app_call prev = ll_app_call_set(
        &(ll_app_call){seen, j.r.start_frame + (v->frames ? v->frames - 1 : 0), dt, 1, NULL});
    if (app->render && (!j.r.module || ll_module_globals_pull(j.r.module, err) == 0))
        app->render(seen, canvas);
    ll_app_call_set(&prev);
    return 0;
}

__attribute__((noreturn)) static void view_main(const void *ctx, int fd)
{
    const view_job *v = ctx;
    ll_block *block = v->job.r.block;
    child_begin(fd);
    ll_error err = {0};
    page_copy fresh = {.page = block->page_size};
    diff_ctx d = {.module = v->job.r.module, .out = v->shared, .fresh = &fresh};
    ll_canvas canvas[2] = {v->canvas[0], v->canvas[1]};
    int rc = view_build(v, v->new_version, &canvas[1], &err);
    if (rc == 0) rc = ll_snap_pages_visit(block, NULL, copy_page, &fresh, &err);
    if (rc == 0) rc = view_build(v, v->old_version, &canvas[0], &err);
    if (rc == 0 && !(d.zero = calloc(1, fresh.page))) rc = loop_fail(&err, ENOMEM, "out of memory");
    if (rc == 0) rc = ll_snap_pages_visit(block, NULL, diff_visit, &d, &err);
    if (rc == 0) diff_fresh_to(&d, UINT64_MAX);
    child_end(rc, &err);
}

static size_t canvas_bytes(const ll_canvas *c)
{
    size_t n = (size_t)c->width * (size_t)c->height;
    return c->pixels ? n * 4 : n * 8; /* code points, cells, colours, backgrounds, attributes */
}

/* Both canvases in the shared mapping, shaped like shape. */
static void view_canvases(ll_resim_view *v, const ll_canvas *shape)
{
    uint8_t *at = (uint8_t *)v->shared + ll_align_up(sizeof *v->shared, 64);
    size_t n = (size_t)shape->width * (size_t)shape->height;
    for (int i = 0; i < 2; i++) {
        ll_canvas *c = &v->canvas[i];
        *c = (ll_canvas){.width = shape->width, .height = shape->height};
        if (shape->pixels) {
            c->pixels = (uint32_t *)(void *)at;
        } else {
            c->codepoints = (uint32_t *)(void *)at;
            c->cells = (char *)at + 4 * n;
            c->colors = at + 5 * n;
            c->backgrounds = at + 6 * n;
            c->attrs = at + 7 * n;
        }
        at += ll_align_up(canvas_bytes(shape), 64);
    }
}

static int view_parts(ll_resim_view *v, ll_loop *loop, const ll_resim_view_params *p, ll_error *err)
{
    view_job job = {.frames = p->frames, .old_version = p->old_version};
    if (loop_recording_get(loop, p->slot, &job.job.r) != 0)
        return loop_fail(err, EINVAL, "slot %d holds no recording to compare builds on", p->slot);
    if (!job.job.r.module)
        return loop_fail(err, EINVAL, "comparing builds needs a loop with a module");
    job.new_version = ll_module_version_get(job.job.r.module);
    if (p->old_version == 0 || p->old_version >= job.new_version)
        return loop_fail(err, EINVAL,
                         "cannot compare version %llu with version %llu in use (try: a build "
                         "loaded before it)",
                         (unsigned long long)p->old_version, (unsigned long long)job.new_version);
    if (p->frames == 0 || p->frames > job.job.r.frames)
        return loop_fail(err, EINVAL, "cannot show frame %llu of slot %d: it has %llu frames",
                         (unsigned long long)p->frames, p->slot,
                         (unsigned long long)job.job.r.frames);
    const ll_canvas *shape = p->canvas;
    if (!shape || shape->width <= 0 || shape->height <= 0 || (!shape->pixels && !shape->cells))
        return loop_fail(err, EINVAL, "comparing builds' pictures needs a canvas");
    v->shared_size = ll_align_up(sizeof *v->shared, 64) + 2 * ll_align_up(canvas_bytes(shape), 64);
    void *m = mmap(NULL, v->shared_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return loop_fail(err, errno, "cannot map the pictures: %s", strerror(errno));
    v->shared = job.shared = m;
    view_canvases(v, shape);
    job.canvas[0] = v->canvas[0];
    job.canvas[1] = v->canvas[1];
    ll_resim *b = &v->base;
    b->module = job.job.r.module;
    b->slot = p->slot;
    b->start_frame = job.job.r.start_frame;
    b->run[0].version = p->old_version;
    b->run[1].version = job.new_version;
    v->frames = p->frames;
    return run_start(b, &b->run[0], view_main, &job, err);
}

ll_resim_view *ll_resim_view_start_(ll_loop *loop, ll_error *err, const ll_resim_view_params *p)
{
    ll_resim_view *v = calloc(1, sizeof *v);
    if (!v) return ll_fail(err, ENOMEM, "out of memory"), NULL;
    v->base.first_changed = -1;
    v->base.run[0].fd = v->base.run[1].fd = -1;
    v->base.t0 = ll_now_ns();
    if (view_parts(v, loop, p, err) != 0) {
        ll_resim_view_destroy(v);
        return NULL;
    }
    return v;
}

int ll_resim_view_poll(ll_resim_view *v)
{
    resim_run *run = &v->base.run[0];
    if (!v->base.t1) run_poll(&v->base, run);
    if (!run->over && !run->failed) return 0;
    if (!v->base.t1) {
        run_end(run);
        v->base.t1 = ll_now_ns();
    }
    return 1;
}

void ll_resim_view_status_get(const ll_resim_view *v, ll_resim_view_status *out)
{
    const ll_resim *b = &v->base;
    int ok = b->t1 && !b->error[0];
    *out = (ll_resim_view_status){
        .done = b->t1 != 0,
        .failed = b->error[0] != 0,
        .frame = b->start_frame + v->frames - 1,
        .old_version = b->run[0].version,
        .new_version = b->run[1].version,
        .diff_count = ok ? v->shared->diff_count : 0,
        .diff_bytes = ok ? v->shared->diff_bytes : 0,
    };
    if (ok) memcpy(out->diffs, v->shared->diffs, sizeof out->diffs);
    snprintf(out->error, sizeof out->error, "%s", b->error);
}

const ll_canvas *ll_resim_view_canvas_get(const ll_resim_view *v, int which)
{
    if (!v->base.t1 || v->base.error[0] || which < 0 || which > 1) return NULL;
    return &v->canvas[which];
}

void ll_resim_view_destroy(ll_resim_view *v)
{
    if (!v) return;
    for (int i = 0; i < 2; i++) {
        run_end(&v->base.run[i]);
        free(v->base.run[i].hashes);
        free(v->base.run[i].buf);
    }
    if (v->shared) munmap(v->shared, v->shared_size);
    free(v);
}
