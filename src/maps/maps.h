/* maps.h - internal entry points of the maps layer (tests use them too). */
#ifndef LL_MAPS_H
#define LL_MAPS_H

#include "looplive.h"

/* Reads maps text from an open descriptor (of /proc/PID/maps when pid > 0:
 * an empty read is then explained by what became of the process). */
int maps_read_fd(int fd, int pid, ll_maps *out, ll_error *err);

/* Explains why pid's maps cannot be opened or came back empty: no such
 * process, exited, kernel thread, or ptrace access denied. Returns -1. */
int maps_explain(int pid, int open_errno, ll_error *err);

/* The permission message for pid (owned by owner) read by euid under Yama
 * ptrace_scope scope (-1: no Yama): what rule refused it and what works. */
int maps_explain_access(int pid, const char *comm, unsigned owner, unsigned euid, int scope,
                        ll_error *err);

/* The Yama ptrace_scope value, or -1 when Yama is not active. */
int maps_ptrace_scope(void);

/* Reads a process's comm (the name `ps` shows) into buf; "" when unknown. */
char *maps_comm(int pid, char *buf, size_t cap);

/* Copies len bytes of s into the maps' own strings; NULL when out of memory. */
const char *maps_strdup(ll_maps *m, const char *s, size_t len);

#endif
