/* replay_dir.c - `looplive replay --dir DIR --jobs N`: a regression set.
 * Every recording DIR/NAME.llrec is replayed against DIR/NAME.hashes, up
 * to N at once, each in a forked process of its own (each reserves the
 * block at its recording's address, which one process could not do twice
 * at once). A child's standard error, where its one result line goes, is a
 * memfd the parent reads when it ends; what the application prints goes
 * there too, before the result, and its standard output to /dev/null. One
 * line per recording, in name order, then a summary. */
#include "cli/cli.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct dir_job {
    char *name; /* NAME.llrec */
    pid_t pid;  /* 0: not started; -1: done */
    int fd;     /* the child's standard error */
    int status;
    char line[1024];
} dir_job;

static int is_recording(const struct dirent *e)
{
    size_t n = strlen(e->d_name);
    return n > 6 && !strcmp(e->d_name + n - 6, ".llrec");
}

static void path_join(char *buf, size_t cap, const char *dir, const char *name, const char *ext)
{
    size_t n = strlen(name) - (ext ? 6 : 0);
    snprintf(buf, cap, "%s/%.*s%s", dir, (int)n, name, ext ? ext : "");
}

/* Every NAME.llrec, sorted, each with its NAME.hashes: 0, or the status 1. */
static int jobs_list(const char *dir, dir_job **out, int *count)
{
    *out = NULL;
    *count = 0;
    struct dirent **names;
    int n = scandir(dir, &names, is_recording, alphasort);
    if (n < 0)
        return cli_error(1, "cannot read --dir %s: %s (try: a folder of NAME.llrec recordings)",
                         dir, strerror(errno));
    int rc = 0;
    if (n == 0)
        rc = cli_error(1,
                       "no recordings in %s: no NAME.llrec files (try: save some with looplive "
                       "replay --module LIB --script SCRIPT --output %s/NAME.llrec)",
                       dir, dir);
    dir_job *jobs = calloc((size_t)n + 1, sizeof *jobs);
    if (!jobs && rc == 0) rc = cli_error(1, "out of memory listing %s", dir);
    for (int i = 0; i < n; i++) {
        char hashes[4096], rec[4096];
        path_join(hashes, sizeof hashes, dir, names[i]->d_name, ".hashes");
        path_join(rec, sizeof rec, dir, names[i]->d_name, NULL);
        if (rc == 0 && access(hashes, R_OK) != 0)
            rc = cli_error(1,
                           "%s has no hashes to check against: %s: %s (try: looplive replay "
                           "--module LIB --recording %s --hashes %s)",
                           rec, hashes, strerror(errno), rec, hashes);
        if (jobs) jobs[i] = (dir_job){.name = strdup(names[i]->d_name), .fd = -1};
        if (jobs && !jobs[i].name && rc == 0) rc = cli_error(1, "out of memory listing %s", dir);
        free(names[i]);
    }
    free(names);
    if (rc != 0 && jobs) {
        for (int i = 0; i < n; i++) free(jobs[i].name);
        free(jobs);
        jobs = NULL;
    }
    *out = jobs;
    *count = n;
    return rc;
}

/* Forks the check of one recording. */
static int job_start(dir_job *j, const char *module, const char *dir)
{
    char rec[4096], hashes[4096];
    path_join(rec, sizeof rec, dir, j->name, NULL);
    path_join(hashes, sizeof hashes, dir, j->name, ".hashes");
    j->fd = memfd_create("looplive-check", MFD_CLOEXEC);
    if (j->fd < 0) return cli_error(1, "cannot check %s: memfd_create: %s", rec, strerror(errno));
    fflush(NULL);
    j->pid = fork();
    if (j->pid < 0)
        return cli_error(1, "cannot check %s: fork: %s (try: --jobs 1)", rec, strerror(errno));
    if (j->pid == 0) {
        int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (null < 0 || dup2(null, STDOUT_FILENO) < 0 || dup2(j->fd, STDERR_FILENO) < 0) _exit(1);
        int rc = cli_replay_check(module, rec, hashes, stderr);
        fflush(stderr);
        _exit(rc);
    }
    return 0;
}

/* The child's last line, without the "looplive: " of an error. */
static void job_collect(dir_job *j)
{
    struct stat st;
    char buf[8192] = "";
    ssize_t got = 0;
    if (fstat(j->fd, &st) == 0) {
        off_t at = st.st_size > (off_t)sizeof buf - 1 ? st.st_size - (off_t)sizeof buf + 1 : 0;
        got = pread(j->fd, buf, sizeof buf - 1, at);
    }
    close(j->fd);
    buf[got > 0 ? got : 0] = 0;
    size_t n = strlen(buf);
    while (n && buf[n - 1] == '\n') buf[--n] = 0;
    char *last = strrchr(buf, '\n');
    last = last ? last + 1 : buf;
    if (!strncmp(last, "looplive: ", 10)) last += 10;
    if (WIFSIGNALED(j->status))
        snprintf(j->line, sizeof j->line, "the replay died of %s", strsignal(WTERMSIG(j->status)));
    else
        snprintf(j->line, sizeof j->line, "%.*s", (int)sizeof j->line - 1,
                 *last ? last : "no result (the replay said nothing)");
    j->pid = -1;
}

static int job_ok(const dir_job *j)
{
    return WIFEXITED(j->status) && WEXITSTATUS(j->status) == 0;
}

static void summary(FILE *out, const dir_job *jobs, int n, int bad)
{
    if (!bad) {
        fprintf(out, "%d recording%s: all match\n", n, n == 1 ? "" : "s");
        return;
    }
    fprintf(out, "%d recording%s: %d match, %d differ or fail:", n, n == 1 ? "" : "s", n - bad,
            bad);
    for (int i = 0; i < n; i++)
        if (!job_ok(&jobs[i])) fprintf(out, " %s", jobs[i].name);
    fprintf(out, "\n");
}

int cli_replay_dir(const char *module, const char *dir, int jobs_max, FILE *out)
{
    dir_job *jobs = NULL;
    int n = 0;
    if (jobs_list(dir, &jobs, &n) != 0) return 1;
    int next = 0, running = 0, printed = 0, bad = 0, rc = 0;
    while (printed < n) {
        while (rc == 0 && running < jobs_max && next < n) {
            if (job_start(&jobs[next], module, dir) != 0)
                rc = 1;
            else
                running++, next++;
        }
        if (running == 0) break;
        int status = 0;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0 && errno == EINTR) continue;
        if (pid < 0) break;
        for (int i = 0; i < n; i++)
            if (jobs[i].pid == pid) jobs[i].status = status, job_collect(&jobs[i]), running--;
        for (; printed < n && jobs[printed].pid == -1; printed++) {
            const dir_job *j = &jobs[printed];
            if (!job_ok(j)) bad++;
            fprintf(out, "%s: %s%s\n", j->name, job_ok(j) ? "" : "FAILED: ", j->line);
            fflush(out);
        }
    }
    if (rc == 0) summary(out, jobs, n, bad);
    for (int i = 0; i < n; i++) free(jobs[i].name);
    free(jobs);
    return rc || bad ? 1 : 0;
}
