/* proc.c - why a process's maps cannot be read, in words a user can act on. */
#include "maps/maps.h"
#include "base/base.h"

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

static int explain_access(int pid, const char *comm, ll_error *err)
{
    char path[64];
    struct stat st;
    snprintf(path, sizeof path, "/proc/%d", pid);
    unsigned owner = stat(path, &st) == 0 ? (unsigned)st.st_uid : 0;
    int scope = maps_ptrace_scope();
    const char *why;
    if (owner != (unsigned)geteuid())
        why = "it belongs to another user, and reading another process's address space needs "
              "ptrace read access: the same user, or CAP_SYS_PTRACE";
    else if (scope >= 2)
        why = scope == 3 ? "Yama ptrace_scope is 3: no process may ptrace another, even as root"
                         : "Yama ptrace_scope is 2: only CAP_SYS_PTRACE may read another "
                           "process's address space";
    else
        why = "ptrace read access was denied (the process may be undumpable, or a security "
              "module refuses it)";
    return ll_fail(err, EACCES,
                   "cannot read the maps of pid %d (%s, uid %u): %s (try: run as uid %u, or "
                   "sudo looplive addr --pid %d%s)",
                   pid, comm, owner, why, owner, pid,
                   scope == 3 ? "; or boot with kernel.yama.ptrace_scope < 3" : "");
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
        return ll_fail(err, ESRCH, "no process has pid %d (try: ps -e, or looplive addr --name NAME)",
                       pid);
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
