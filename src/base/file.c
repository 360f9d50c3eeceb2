/* file.c - writing a file whole or not at all, the one way every layer
 * saves: a new temporary file next to the target, created with O_EXCL and
 * O_NOFOLLOW (never an existing file, never someone's symlink), renamed
 * over the target once complete and synced, then the directory synced so
 * that the rename survives a crash too. */
#include "base.h"

#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int ll_file_begin(const char *path, char *tmp, size_t cap, ll_error *err)
{
    static unsigned counter;
    for (int tries = 0; tries < 100; tries++) {
        unsigned n = __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
        if (snprintf(tmp, cap, "%s.tmp.%d.%u", path, (int)getpid(), n) >= (int)cap)
            return ll_fail(err, ENAMETOOLONG,
                           "cannot save: a path of %zu bytes is too long (at most %zu; try: a "
                           "shorter path)",
                           strlen(path), cap - 24);
        int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd >= 0) return fd;
        if (errno != EEXIST)
            return ll_fail(err, errno, "cannot create '%s': %s (is the directory writable?)", tmp,
                           strerror(errno));
    }
    return ll_fail(err, EEXIST, "cannot create a temporary file next to '%s': 100 names taken",
                   path);
}

int ll_file_pwrite_all(int fd, const void *buf, uint64_t len, uint64_t at)
{
    for (uint64_t done = 0; done < len;) {
        ssize_t n = pwrite(fd, (const uint8_t *)buf + done, len - done, (off_t)(at + done));
        if (n <= 0) {
            if (n == 0) errno = ENOSPC;
            return -1;
        }
        done += (uint64_t)n;
    }
    return 0;
}

void ll_file_abort(int fd, const char *tmp)
{
    if (fd >= 0) close(fd);
    unlink(tmp);
}

/* The directory of path, synced after the rename so that the rename lasts. */
static int sync_dir(const char *path)
{
    char copy[PATH_MAX];
    snprintf(copy, sizeof copy, "%s", path);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int ll_file_commit(int fd, const char *tmp, const char *path, ll_error *err)
{
    if (fsync(fd) != 0) {
        int e = errno;
        ll_file_abort(fd, tmp);
        return ll_fail(err, e, "cannot write '%s': fsync: %s", path, strerror(e));
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return ll_fail(err, e, "cannot rename '%s' to '%s': %s", tmp, path, strerror(e));
    }
    if (sync_dir(path) != 0)
        return ll_fail(err, errno, "cannot sync the directory of '%s': %s", path, strerror(errno));
    return 0;
}
