/* watch.c - notice a new build off the frame path.
 * A background thread waits on inotify (or polls stat() where inotify is
 * missing), decides when a new build is complete, and only then raises
 * `ready`, the one flag ll_module_poll reads. All waiting (for the build lock,
 * for an in-place write to settle) happens here, never on the frame path. */
#include "module/module.h"

#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <unistd.h>

/* A build is written (close after write) or renamed into place; the
 * directory itself may go away and come back. */
#define WATCH_MASK (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVE_SELF)

/* llce's convention: the build holds flock(<lib>.lock) while it writes. */
static int lock_held(const module_watch *w)
{
    int fd = open(w->lock_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    int held = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    close(fd); /* drops our shared lock too */
    return held;
}

static file_sig sig_of(const char *path)
{
    struct stat st;
    file_sig s = {0};
    if (stat(path, &st) != 0) return s;
    s.dev = st.st_dev;
    s.ino = st.st_ino;
    s.size = (uint64_t)st.st_size;
    s.mtime = (uint64_t)st.st_mtim.tv_sec * 1000000000ull + (uint64_t)st.st_mtim.tv_nsec;
    s.ctime = (uint64_t)st.st_ctim.tv_sec * 1000000000ull + (uint64_t)st.st_ctim.tv_nsec;
    return s;
}

/* The build state the thread tracks between wake-ups. */
typedef struct pending {
    int active;       /* a change was seen and not yet reported */
    int renamed;      /* it arrived by rename: complete on arrival */
    uint64_t last_ns; /* when the file last changed */
} pending;

static void try_report(module_watch *w, pending *p)
{
    if (!p->active || lock_held(w)) return;
    if (!p->renamed && ll_now_ns() - p->last_ns < w->stable_ns) return;
    atomic_store_explicit(&w->ready, 1, memory_order_release);
    p->active = p->renamed = 0;
}

static void note_change(pending *p, int renamed)
{
    p->active = 1;
    p->renamed = renamed; /* a later in-place write makes it unsettled again */
    p->last_ns = ll_now_ns();
}

/* Returns 1 when the directory's watch is gone (the directory was removed
 * or renamed, as `make clean` does), else 0. */
static int read_events(module_watch *w, pending *p)
{
    int lost = 0;
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    ssize_t n;
    while ((n = read(w->inotify_fd, buf, sizeof buf)) > 0) {
        for (char *at = buf; at < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)at;
            at += sizeof *ev + ev->len;
            if (ev->mask & IN_Q_OVERFLOW) note_change(p, 0);
            if (ev->mask & (IN_IGNORED | IN_MOVE_SELF)) lost = 1;
            if (ev->len && strcmp(ev->name, w->name) == 0)
                note_change(p, (ev->mask & IN_MOVED_TO) != 0);
        }
    }
    return lost;
}

/* Watches the directory again once it exists again; the library in it
 * counts as a new build. */
static int rewatch(module_watch *w, pending *p)
{
    inotify_rm_watch(w->inotify_fd, w->wd); /* a renamed directory is still watched */
    w->wd = inotify_add_watch(w->inotify_fd, w->dir, WATCH_MASK);
    if (w->wd < 0) return 1;
    if (access(w->path, F_OK) == 0) note_change(p, 0);
    return 0;
}

/* Waits for the stop signal for at most ms (-1: forever); 1 when stopping. */
static int wait_wake(module_watch *w, int other_fd, int ms, int *other_ready)
{
    struct pollfd fds[2] = {{.fd = w->wake_fd, .events = POLLIN},
                            {.fd = other_fd, .events = POLLIN}};
    int n = poll(fds, other_fd >= 0 ? 2 : 1, ms);
    if (other_ready) *other_ready = n > 0 && (fds[1].revents & POLLIN);
    return atomic_load(&w->stop);
}

static void watch_inotify(module_watch *w)
{
    pending p = {0};
    int lost = 0;
    for (;;) {
        int events = 0;
        /* While a build is pending, wake every 2 ms to re-check the lock and
         * the settle time; while the directory is gone, every 20 ms to look
         * for it; otherwise sleep until something happens. */
        int ms = lost ? 20 : p.active ? 2 : -1;
        if (wait_wake(w, w->inotify_fd, ms, &events)) return;
        if (events) lost |= read_events(w, &p);
        if (lost) lost = rewatch(w, &p);
        try_report(w, &p);
    }
}

static void watch_stat(module_watch *w)
{
    pending p = {0};
    file_sig last = w->initial;
    int ms = (int)(w->interval_ns / 1000000ull);
    for (;;) {
        if (wait_wake(w, -1, ms > 0 ? ms : 1, NULL)) return;
        file_sig now = sig_of(w->path);
        if (memcmp(&now, &last, sizeof now) != 0) {
            last = now;
            note_change(&p, 0);             /* stat cannot tell a rename from a write */
            if (now.ino == 0) p.active = 0; /* gone (a clean build): nothing to load yet */
        }
        try_report(w, &p);
    }
}

static void *watch_main(void *arg)
{
    module_watch *w = arg;
    if (w->stat_mode)
        watch_stat(w);
    else
        watch_inotify(w);
    return NULL;
}

static int open_inotify(module_watch *w)
{
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) return -1;
    w->wd = inotify_add_watch(fd, w->dir, WATCH_MASK);
    if (w->wd < 0) {
        close(fd);
        return -1;
    }
    w->inotify_fd = fd;
    return 0;
}

int module_watch_start(ll_module *m, int stat_mode, uint32_t stable_ms, uint32_t interval_ms,
                       ll_error *err)
{
    module_watch *w = &m->watch;
    w->dir = m->dir;
    w->name = m->name;
    w->path = m->path;
    w->lock_path = m->lock_path;
    w->stable_ns = (uint64_t)(stable_ms ? stable_ms : 30) * 1000000ull;
    w->interval_ns = (uint64_t)(interval_ms ? interval_ms : 10) * 1000000ull;
    w->inotify_fd = -1;
    /* Taken now, not when the thread first runs: a build written meanwhile
     * must count as a change. */
    w->initial = sig_of(w->path);
    /* Without inotify (ENOSYS, or the instance limit reached) fall back to
     * polling stat() from the thread, which keeps the frame path free. */
    w->stat_mode = stat_mode || open_inotify(w) != 0;
    w->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (w->wake_fd < 0)
        return ll_fail(err, errno, "cannot watch '%s': eventfd: %s", m->path, strerror(errno));
    int rc = pthread_create(&w->thread, NULL, watch_main, w);
    if (rc != 0) {
        module_watch_stop(m);
        return ll_fail(err, rc, "cannot watch '%s': cannot start a thread: %s", m->path,
                       strerror(rc));
    }
    w->running = 1;
    return 0;
}

void module_watch_stop(ll_module *m)
{
    module_watch *w = &m->watch;
    if (w->running) {
        atomic_store(&w->stop, 1);
        uint64_t one = 1;
        if (write(w->wake_fd, &one, sizeof one) < 0) { /* the thread also polls stop */
        }
        pthread_join(w->thread, NULL);
        w->running = 0;
    }
    if (w->inotify_fd >= 0) close(w->inotify_fd);
    if (w->wake_fd >= 0) close(w->wake_fd);
    w->inotify_fd = w->wake_fd = -1;
}
