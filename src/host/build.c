/* build.c - rebuild on save: inotify on every directory under the watched
 * one, a short quiet period so that an editor's several writes make one
 * build, and the build command run in the background with its output kept
 * whole in a log file and its first error for the status line. */
#include "host/host.h"
#include "base/base.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Editors write a file in several steps; wait this long after the last
 * event before building. */
#define BUILD_QUIET_NS   (60ull * 1000 * 1000)
#define BUILD_OUTPUT_CAP (64 * 1024)

/* A watched directory: what its watch descriptor stands for, so that a
 * directory made under it later can be watched too. */
typedef struct watched_dir {
    char *path;
    int depth;
} watched_dir;

struct host_builder {
    int inotify;
    watched_dir *dirs; /* indexed by watch descriptor */
    int dir_cap;
    char *cmd;
    uint64_t dirty_at; /* time of the last source change not yet built; 0: none */
    pid_t pid;         /* the running build; 0: none */
    int out;           /* read end of its output pipe */
    int log;           /* the last build's whole output */
    char log_path[4096];
    char output[BUILD_OUTPUT_CAP]; /* its first BUILD_OUTPUT_CAP bytes */
    size_t output_len;
};

static int is_source(const char *name)
{
    static const char *const exts[] = {".c", ".h", ".cc", ".cpp", ".hpp", ".inc", ".S"};
    const char *dot = strrchr(name, '.');
    if (!dot || name[0] == '.') return 0;
    for (size_t i = 0; i < LL_ARRAY_COUNT(exts); i++)
        if (!strcmp(dot, exts[i])) return 1;
    return 0;
}

/* Remembers path under its watch descriptor (best effort: without memory
 * a new subdirectory of it is not watched). */
static void remember_dir(host_builder *b, int wd, const char *path, int depth)
{
    if (wd >= b->dir_cap) {
        int cap = b->dir_cap ? b->dir_cap : 16;
        while (cap <= wd) cap *= 2;
        watched_dir *d = realloc(b->dirs, (size_t)cap * sizeof *d);
        if (!d) return;
        memset(d + b->dir_cap, 0, (size_t)(cap - b->dir_cap) * sizeof *d);
        b->dirs = d;
        b->dir_cap = cap;
    }
    free(b->dirs[wd].path);
    b->dirs[wd] = (watched_dir){strdup(path), depth};
}

static int watch_tree(host_builder *b, const char *dir, int depth, ll_error *err)
{
    uint32_t mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_MOVED_FROM;
    int wd = inotify_add_watch(b->inotify, dir, mask);
    if (wd < 0) return ll_fail(err, errno, "cannot watch %s: %s", dir, strerror(errno));
    remember_dir(b, wd, dir, depth);
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    while (depth < 8 && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) watch_tree(b, path, depth + 1, NULL);
    }
    closedir(d);
    return 0;
}

/* The log has no name in any directory: a host that is killed leaves no
 * file behind. It is read through /proc while the host runs. */
static int open_log(host_builder *b, ll_error *err)
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp) tmp = "/tmp";
    snprintf(b->log_path, sizeof b->log_path, "%s/looplive-build-XXXXXX", tmp);
    b->log = mkostemp(b->log_path, O_CLOEXEC);
    if (b->log < 0) {
        int e = errno;
        b->log_path[0] = 0;
        return ll_fail(err, e, "cannot create the build log in %s: %s (try: TMPDIR=DIR with room)",
                       tmp, strerror(e));
    }
    unlink(b->log_path);
    snprintf(b->log_path, sizeof b->log_path, "/proc/%ld/fd/%d", (long)getpid(), b->log);
    return 0;
}

host_builder *host_builder_open(const char *dir, const char *cmd, ll_error *err)
{
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        ll_fail(err, ENOTDIR,
                "cannot watch %s: not a directory (try: --watch DIR with the sources)", dir);
        return NULL;
    }
    if (!cmd || !*cmd) {
        ll_fail(err, EINVAL, "--watch %s needs a build command (try: --build \"make\")", dir);
        return NULL;
    }
    host_builder *b = calloc(1, sizeof *b);
    if (!b) {
        ll_fail(err, ENOMEM, "out of memory for the builder");
        return NULL;
    }
    b->out = -1;
    b->log = -1;
    b->cmd = strdup(cmd);
    b->inotify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (b->inotify < 0 || !b->cmd) {
        ll_fail(err, errno,
                "cannot start watching %s: %s (try: raise fs.inotify.max_user_instances, or run "
                "without --watch)",
                dir, strerror(errno));
        host_builder_close(b);
        return NULL;
    }
    if (watch_tree(b, dir, 0, err) != 0 || open_log(b, err) != 0) {
        host_builder_close(b);
        return NULL;
    }
    return b;
}

const char *host_builder_log(const host_builder *b)
{
    return b ? b->log_path : NULL;
}

static void read_events(host_builder *b)
{
    char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
    ssize_t n;
    while ((n = read(b->inotify, buf, sizeof buf)) > 0) {
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *e = (const struct inotify_event *)p;
            if (e->len && (e->mask & IN_ISDIR) && (e->mask & (IN_CREATE | IN_MOVED_TO))) {
                /* A new subdirectory: its files count too, from now on. */
                b->dirty_at = ll_now_ns();
                const watched_dir *parent =
                    e->wd >= 0 && e->wd < b->dir_cap ? &b->dirs[e->wd] : NULL;
                if (parent && parent->path && parent->depth < 8) {
                    char path[4096];
                    snprintf(path, sizeof path, "%s/%s", parent->path, e->name);
                    int depth = parent->depth + 1; /* dirs may move in watch_tree */
                    if (e->name[0] != '.') watch_tree(b, path, depth, NULL);
                }
            } else if (e->len && is_source(e->name) && !(e->mask & IN_CREATE)) {
                b->dirty_at = ll_now_ns();
            }
            p += sizeof *e + e->len;
        }
    }
}

/* The host's environment plus the flags that make every function
 * forwardable, for the command to use ("cc $LOOPLIVE_CFLAGS ..."); a value
 * the user set wins. The host's own environment is left alone. */
static char **build_env(void)
{
    static char flags[] = "LOOPLIVE_CFLAGS=" LL_PATCHABLE_CFLAGS;
    size_t n = 0;
    int set = 0;
    for (; environ[n]; n++) set |= !strncmp(environ[n], "LOOPLIVE_CFLAGS=", 16);
    char **envp = malloc((n + 2) * sizeof *envp);
    if (!envp) return NULL;
    memcpy(envp, environ, n * sizeof *envp);
    if (!set) envp[n++] = flags;
    envp[n] = NULL;
    return envp;
}

static int start_build(host_builder *b, ll_error *err)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return ll_fail(err, errno,
                       "cannot start the build: %s (try: close some files or raise ulimit -n)",
                       strerror(errno));
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDERR_FILENO);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawnattr_init(&attr);
    /* Its own process group, so that closing the host stops the whole build;
     * default signal actions, so the shell does not inherit the host's. */
    sigset_t all;
    sigfillset(&all);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF);
    char *argv[] = {"sh", "-c", b->cmd, NULL};
    char **envp = build_env();
    int rc = envp ? posix_spawn(&b->pid, "/bin/sh", &fa, &attr, argv, envp) : ENOMEM;
    free(envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        b->pid = 0;
        return ll_fail(err, rc, "cannot run the build '%s': %s (try: check that /bin/sh runs)",
                       b->cmd, strerror(rc));
    }
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    b->out = fds[0];
    b->output_len = 0;
    if (ftruncate(b->log, 0) != 0 || lseek(b->log, 0, SEEK_SET) != 0) {
        /* The log only loses old text; the build goes on. */
    }
    return 0;
}

static void drain_output(host_builder *b)
{
    char sink[4096];
    ssize_t n;
    while (b->out >= 0 && (n = read(b->out, sink, sizeof sink)) > 0) {
        if (write(b->log, sink, (size_t)n) != n) {
            /* A full disk costs the log, not the build. */
        }
        size_t room = sizeof b->output - 1 - b->output_len;
        size_t take = (size_t)n < room ? (size_t)n : room;
        memcpy(b->output + b->output_len, sink, take);
        b->output_len += take;
    }
    b->output[b->output_len] = 0;
}

/* The first line of text that holds any of the needles (NULL: none). */
static const char *line_with(const char *text, const char *const *needles, size_t count)
{
    for (const char *line = text; *line; line += strcspn(line, "\n"), line += *line == '\n') {
        size_t n = strcspn(line, "\n");
        if (!strncmp(line, "collect2:", 9)) continue; /* "ld returned 1": the line before says */
        for (size_t i = 0; i < count; i++) {
            const char *hit = memmem(line, n, needles[i], strlen(needles[i]));
            if (hit) return line;
        }
    }
    return NULL;
}

/* The line of the build output that says most: the compiler's first
 * diagnostic ("file:line:col: error: message"), else the linker's (a
 * symbol it lacks, else any line of ld), else the
 * last line (make's "*** ... Error 2"). The commands make echoes are never
 * picked, though they hold "-Werror". */
static void first_error(const char *out, char *line, size_t cap)
{
    static const char *const compiler[] = {": error: ", ": fatal error: ", "error: "};
    static const char *const symbol[] = {"undefined reference", "multiple definition"};
    static const char *const linker[] = {"ld: ", "ld.lld: "};
    const char *pick = line_with(out, compiler, LL_ARRAY_COUNT(compiler));
    if (!pick) pick = line_with(out, symbol, LL_ARRAY_COUNT(symbol));
    if (!pick) pick = line_with(out, linker, LL_ARRAY_COUNT(linker));
    if (!pick) {
        /* The last non-empty line. */
        const char *end = out + strlen(out);
        while (end > out && (end[-1] == '\n' || end[-1] == '\r')) end--;
        pick = end;
        while (pick > out && pick[-1] != '\n') pick--;
    }
    size_t n = strcspn(pick, "\r\n");
    if (n >= cap) n = cap - 1;
    memcpy(line, pick, n);
    line[n] = 0;
}

static int finish_build(host_builder *b, int status, ll_error *err)
{
    drain_output(b);
    close(b->out);
    b->out = -1;
    b->pid = 0;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 1;
    char line[512], how[48];
    first_error(b->output, line, sizeof line);
    if (WIFEXITED(status))
        snprintf(how, sizeof how, "build failed (exit %d)", WEXITSTATUS(status));
    else
        snprintf(how, sizeof how, "build killed by signal %d", WTERMSIG(status));
    ll_fail(err, EINVAL, "%s: %s (try: fix it and save, the whole output is in %s)", how,
            line[0] ? line : "no output", b->log_path);
    return -1;
}

int host_builder_poll(host_builder *b, ll_error *err)
{
    read_events(b);
    if (b->pid) {
        drain_output(b);
        int status;
        pid_t r = waitpid(b->pid, &status, WNOHANG);
        if (r == b->pid) return finish_build(b, status, err);
        return 0;
    }
    if (b->dirty_at && ll_now_ns() - b->dirty_at >= BUILD_QUIET_NS) {
        b->dirty_at = 0;
        if (start_build(b, err) != 0) return -1;
    }
    return 0;
}

int host_builder_busy(const host_builder *b)
{
    return b && (b->pid || b->dirty_at);
}

void host_builder_close(host_builder *b)
{
    if (!b) return;
    if (b->pid) {
        kill(-b->pid, SIGTERM);
        waitpid(b->pid, NULL, 0);
    }
    if (b->out >= 0) close(b->out);
    if (b->log >= 0) close(b->log);
    if (b->inotify >= 0) close(b->inotify);
    for (int i = 0; i < b->dir_cap; i++) free(b->dirs[i].path);
    free(b->dirs);
    free(b->cmd);
    free(b);
}
