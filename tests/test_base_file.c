/* test_base_file.c - writing a file whole or not at all (src/base/file.c),
 * seen through the saves that use it: the file and then its directory are
 * synced, and each failure says so. fsync is wrapped at link time (see
 * mk/base.mk) to record what was synced and to fail on demand. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "looplive.h"

int __real_fsync(int fd);

static int synced_files, synced_dirs, fail_files, fail_dirs;

int __wrap_fsync(int fd)
{
    struct stat st;
    int dir = fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
    if (dir ? fail_dirs : fail_files) {
        errno = EIO;
        return -1;
    }
    dir ? synced_dirs++ : synced_files++;
    return __real_fsync(fd);
}

static char dir[64], path[128];
static ll_block block;

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/ll-base-file-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/state.llsnap", dir);
    ll_error err;
    cr_assert_eq(ll_block_reserve(&block, &err, .size = 1 << 20), 0, "%s", err.msg);
    memset(block.base, 7, 100);
}

static void teardown(void)
{
    ll_snap_end(&block);
    ll_block_release(&block);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(base_file, .init = setup, .fini = teardown);

/* The files in dir other than the target: temporary files left behind. */
static int leftovers(void)
{
    char cmd[200];
    snprintf(cmd, sizeof cmd, "test -z \"$(ls -A %s | grep -v '^state.llsnap$')\"", dir);
    return system(cmd) != 0;
}

Test(base_file, a_save_syncs_the_file_then_its_directory)
{
    ll_error err;
    cr_assert_eq(ll_snap_save(&block, path, &err), 0, "%s", err.msg);
    cr_assert_eq(synced_files, 1);
    cr_assert_eq(synced_dirs, 1, "the rename was not followed by a directory fsync");
    cr_assert_eq(leftovers(), 0);
}

Test(base_file, a_failed_file_sync_removes_the_temporary_file)
{
    ll_error err;
    fail_files = 1;
    cr_assert_eq(ll_snap_save(&block, path, &err), -1);
    char want[200];
    snprintf(want, sizeof want, "cannot write '%s': fsync: Input/output error", path);
    cr_assert_str_eq(err.msg, want);
    cr_assert_eq(access(path, F_OK), -1);
    cr_assert_eq(leftovers(), 0);
}

Test(base_file, a_failed_directory_sync_is_reported)
{
    ll_error err;
    fail_dirs = 1;
    cr_assert_eq(ll_snap_save(&block, path, &err), -1);
    char want[200];
    snprintf(want, sizeof want, "cannot sync the directory of '%s': Input/output error", path);
    cr_assert_str_eq(err.msg, want);
    /* The file is complete and in place; only its lasting is in doubt. */
    cr_assert_eq(ll_snap_verify(path, &err), 0, "%s", err.msg);
}
