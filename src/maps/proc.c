/* proc.c - why a process's maps cannot be read, in words a user can act on. */
#include "maps/maps.h"
#include "base/base.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int maps_ptrace_scope(void)
{
    FILE *f = fopen("/proc/sys/kernel/yama/ptrace_scope", "r");
    int v = -1;
    if (f) {
        if (fscanf(f, "%d", &v) != 1) v = -1;
        fclose(f);
    }
    return v;
}

char *maps_comm(int pid, char *buf, size_t cap)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/comm", pid);
    buf[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f) return buf;
    if (!fgets(buf, (int)cap, f)) buf[0] = 0;
    fclose(f);
    buf[strcspn(buf, "\n")] = 0;
    return buf;
}

/* Field 3 (state) and field 9 (flags) of /proc/PID/stat; -1 when gone. */
static int proc_state(int pid, char *state, unsigned long *flags)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return -1;
    buf[n] = 0;
    const char *p = strrchr(buf, ')'); /* comm may hold spaces and parens */
    if (!p) return -1;
    *state = p[2];
    /* after ") S": ppid pgrp session tty_nr tpgid flags */
    p += 3;
    for (int i = 0; i < 5 && p; i++) p = strchr(p + 1, ' ');
    *flags = p ? strtoul(p + 1, NULL, 10) : 0;
    return 0;
}

int maps_explain_access(int pid, const char *comm, unsigned owner, unsigned euid, int scope,
                        ll_error *err)
{
    const char *why, *try_also = "";
    if (scope == 3) {
        why = "Yama ptrace_scope is 3: no process may read another's address space, not even "
              "root";
        try_also = "; ptrace_scope 3 holds until reboot";
    } else if (scope == 2) {
        why = "Yama ptrace_scope is 2: only CAP_SYS_PTRACE may read another process's address "
              "space";
    } else if (owner != euid) {
        why = "it belongs to another user, and reading another process's address space needs "
              "ptrace read access: the same user, or CAP_SYS_PTRACE";
    } else if (scope == 1) {
        why = "Yama ptrace_scope is 1: only its parent (or a process it named with PR_SET_PTRACER) "
              "may read it without CAP_SYS_PTRACE";
        try_also = "; or launch it from looplive: looplive addr --exec 'CMD'";
    } else {
        why = "ptrace read access was denied (the process may be undumpable, or a security "
              "module refuses it); CAP_SYS_PTRACE overrides that";
    }
    return ll_fail(err, EACCES,
                   "cannot read the maps of pid %d (%s, uid %u): %s (try: run as uid %u with "
                   "CAP_SYS_PTRACE, e.g. sudo looplive addr --pid %d%s)",
                   pid, comm, owner, why, owner, pid, try_also);
}

static int explain_access(int pid, const char *comm, ll_error *err)
{
    char path[64];
    struct stat st;
    snprintf(path, sizeof path, "/proc/%d", pid);
    unsigned owner = stat(path, &st) == 0 ? (unsigned)st.st_uid : 0;
    return maps_explain_access(pid, comm, owner, (unsigned)geteuid(), maps_ptrace_scope(), err);
}

int maps_explain(int pid, int open_errno, ll_error *err)
{
    char comm[64];
    maps_comm(pid, comm, sizeof comm);
    char state = 0;
    unsigned long flags = 0;
    if (proc_state(pid, &state, &flags) != 0) {
        if (open_errno == 0 || open_errno == ESRCH)
            return ll_fail(err, ESRCH, "pid %d exited while its maps were being read", pid);
        return ll_fail(err, ESRCH,
                       "no process has pid %d (try: ps -e, or looplive addr --name NAME)", pid);
    }
    if (open_errno == EACCES || open_errno == EPERM) return explain_access(pid, comm, err);
    if (flags & 0x00200000ul) /* PF_KTHREAD */
        return ll_fail(err, EINVAL,
                       "pid %d (%s) is a kernel thread: it has no user address space (try: a "
                       "user process's pid)",
                       pid, comm);
    if (state == 'Z' || state == 'X' || open_errno == ESRCH || open_errno == 0)
        return ll_fail(err, ESRCH, "pid %d (%s) exited while its maps were being read", pid, comm);
    return ll_fail(err, open_errno, "cannot read /proc/%d/maps (%s): %s", pid, comm,
                   strerror(open_errno));
}

/* The command line with NULs as spaces, shortened to fit buf. */
static void cmdline_of(int pid, char *buf, size_t cap)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
    buf[0] = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    if (n <= 0) {
        buf[0] = 0;
        return;
    }
    buf[n] = 0;
    for (ssize_t i = 0; i < n; i++)
        if (!buf[i]) buf[i] = ' ';
    while (n > 0 && buf[n - 1] == ' ') buf[--n] = 0;
}

static const char *basename_of(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* pgrep -x: comm (cut to 15 characters by the kernel) or the executable's
 * basename; the latter from /proc/PID/exe, or argv[0] when that is hidden. */
static int name_matches(int pid, const char *name)
{
    char comm[64], path[64], exe[4096];
    if (!strcmp(maps_comm(pid, comm, sizeof comm), name)) return 1;
    snprintf(path, sizeof path, "/proc/%d/exe", pid);
    ssize_t n = readlink(path, exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *del = strstr(exe, " (deleted)");
        if (del && !del[10]) *del = 0;
        return !strcmp(basename_of(exe), name);
    }
    char cmd[4096];
    cmdline_of(pid, cmd, sizeof cmd);
    cmd[strcspn(cmd, " ")] = 0;
    return cmd[0] && !strcmp(basename_of(cmd), name);
}

int ll_maps_find_pid(const char *name, int *pid, ll_error *err)
{
    if (!name || !name[0]) return ll_fail(err, EINVAL, "empty process name (try: --name game)");
    DIR *d = opendir("/proc");
    if (!d) return ll_fail(err, errno, "cannot list /proc: %s", strerror(errno));
    int found[8], n = 0, self = (int)getpid();
    struct dirent *e;
    while ((e = readdir(d))) {
        char *end;
        long p = strtol(e->d_name, &end, 10);
        if (*end || p <= 0 || p == self || !name_matches((int)p, name)) continue;
        if (n < (int)LL_ARRAY_COUNT(found)) found[n] = (int)p;
        n++;
    }
    closedir(d);
    if (n == 0)
        return ll_fail(err, ESRCH, "no process is named '%s' (try: ps -e, or --pid N)", name);
    if (n == 1) {
        *pid = found[0];
        return 0;
    }
    char list[768] = "";
    size_t len = 0;
    for (int i = 0; i < n && i < (int)LL_ARRAY_COUNT(found) && len < sizeof list - 1; i++) {
        char cmd[128];
        cmdline_of(found[i], cmd, sizeof cmd);
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%d (%s)", i ? ", " : "", found[i],
                                cmd);
    }
    return ll_fail(err, EEXIST, "%d processes are named '%s': %s%s (try: --pid N)", n, name, list,
                   n > (int)LL_ARRAY_COUNT(found) ? ", ..." : "");
}
