/* launch.c - run a program and read its address space: after a delay, or
 * just before it exits if that comes first. A ptrace exit event stops the
 * program while its mappings still exist; it runs under the kernel's normal
 * ASLR (ptrace does not change the personality). */
#include "maps/maps.h"
#include "base/base.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void child_exec(char *const argv[], int report)
{
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
    }
    ptrace(PTRACE_TRACEME, 0, NULL, NULL);
    execvp(argv[0], argv);
    int e = errno;
    if (write(report, &e, sizeof e) < 0) _exit(127);
    _exit(127);
}

static void sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static int wait_running(pid_t pid, long after_ms, ll_maps *out, ll_error *err)
{
    uint64_t deadline = ll_now_ns() + (uint64_t)after_ms * 1000000ull;
    for (;;) {
        int st;
        pid_t w = waitpid(pid, &st, WNOHANG | __WALL);
        if (w == pid && WIFSTOPPED(st)) {
            if (st >> 8 == (SIGTRAP | (PTRACE_EVENT_EXIT << 8)))
                return ll_maps_read_pid(pid, out, err); /* exiting: mappings still there */
            int sig = WSTOPSIG(st) == SIGTRAP ? 0 : WSTOPSIG(st);
            ptrace(PTRACE_CONT, pid, NULL, (void *)(long)sig);
            continue;
        }
        if (w == pid)
            return ll_fail(err, ECHILD, "the program exited before its maps could be read");
        if (ll_now_ns() >= deadline) return ll_maps_read_pid(pid, out, err);
        sleep_ms(1);
    }
}

int ll_maps_launch(char *const argv[], long after_ms, ll_maps *out, ll_error *err)
{
    memset(out, 0, sizeof *out);
    if (!argv || !argv[0] || !argv[0][0])
        return ll_fail(err, EINVAL, "no program to launch (try: --exec './game --level 1')");
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0)
        return ll_fail(err, errno, "cannot launch '%s': %s", argv[0], strerror(errno));
    pid_t pid = fork();
    if (pid < 0) {
        close(report[0]);
        close(report[1]);
        return ll_fail(err, errno, "cannot launch '%s': %s", argv[0], strerror(errno));
    }
    if (pid == 0) child_exec(argv, report[1]);
    close(report[1]);
    int e = 0;
    ssize_t got = read(report[0], &e, sizeof e);
    close(report[0]);
    int st, rc;
    if (got == (ssize_t)sizeof e) {
        waitpid(pid, &st, 0);
        return ll_fail(
            err, e,
            "cannot run '%s': %s (try: a program in PATH or a path to one, e.g. --exec './game')",
            argv[0], strerror(e));
    }
    /* Stopped at the exec (SIGTRAP): ask for a stop at exit, then run. */
    pid_t w = waitpid(pid, &st, __WALL);
    if (w != pid || !WIFSTOPPED(st)) {
        if (w != pid) { /* not reaped yet: leave no stray process or zombie */
            kill(pid, SIGKILL);
            waitpid(pid, &st, __WALL);
        }
        return ll_fail(err, ECHILD,
                       "'%s' did not start under ptrace (try: a debugger or seccomp policy may "
                       "forbid tracing; read a running copy with --pid N instead)",
                       argv[0]);
    }
    ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)(long)(PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL));
    ptrace(PTRACE_CONT, pid, NULL, NULL);
    rc = wait_running(pid, after_ms, out, err);
    /* A tracee stopped at its exit event does not wake for SIGKILL alone. */
    kill(pid, SIGKILL);
    ptrace(PTRACE_CONT, pid, NULL, NULL);
    while (waitpid(pid, &st, __WALL) == pid && !WIFEXITED(st) && !WIFSIGNALED(st))
        ptrace(PTRACE_CONT, pid, NULL, NULL);
    if (rc == 0) out->pid = 0; /* the process is gone; keep what it showed */
    return rc;
}
