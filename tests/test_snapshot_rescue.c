/* test_snapshot_rescue.c - ll_snap_save_newest: the newest snapshot saved
 * without malloc or stdio, in the format ll_snap_load reads. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "snapshot/helpers.h"
#include "snapshot/snapshot.h"

enum { SIZE = 8 << 20, PAGES = SIZE / 4096 };

static void temp_path(char *buf, size_t cap, const char *name)
{
    char dir[] = "/tmp/ll-rescue-XXXXXX";
    cr_assert(mkdtemp(dir));
    snprintf(buf, cap, "%s/%s", dir, name);
}

static void remove_path(const char *path)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    unlink(path);
    *strrchr(dir, '/') = 0;
    rmdir(dir);
}

Test(rescue, saves_the_newest_snapshot_not_the_writes_since)
{
    ll_block b;
    ll_error err;
    reserve(&b, SIZE);
    for (uint64_t p = 0; p < PAGES; p += 3) fill_page(b.base, p, 1);
    ll_snap *s = ll_snap_take(&b, &err);
    cr_assert(s, "%s", err.msg);
    uint8_t *want = malloc(SIZE);
    memcpy(want, b.base, SIZE);
    for (uint64_t p = 1; p < PAGES; p += 5) fill_page(b.base, p, 2); /* the crashing frame's */
    char path[PATH_MAX];
    temp_path(path, sizeof path, "rescue.llsnap");
    cr_assert_eq(ll_snap_save_newest(&b, path, 0x77, &err), 0, "%s", err.msg);
    cr_assert_eq(ll_snap_verify(path, &err), 0, "%s", err.msg);
    void *base = b.base;
    ll_block_release(&b);
    reserve_at(&b, base, SIZE);
    cr_assert_eq(ll_snap_load(&b, path, &err, .layout_version = 0x77, .verify = 1), 0, "%s",
                 err.msg);
    cr_assert_eq(memcmp(b.base, want, SIZE), 0, "the file holds the snapshot's bytes");
    ll_block_release(&b);
    free(want);
    remove_path(path);
}

static char seen_extra[32];

static int see_extra(void *ctx, uint8_t *state, uint64_t state_size, const void *extra,
                     uint64_t extra_size, const ll_range *data, size_t count, ll_error *err)
{
    memcpy(seen_extra, extra, extra_size < sizeof seen_extra ? extra_size : sizeof seen_extra);
    return 0;
}

/* The host saves its code map with the rescue file: --resume re-points the
 * state's code pointers with it. */
Test(rescue, an_extra_section_is_saved_and_found_by_its_tag)
{
    ll_block b;
    ll_error err;
    reserve(&b, SIZE);
    for (uint64_t p = 0; p < PAGES; p += 7) fill_page(b.base, p, 3);
    uint8_t *want = malloc(SIZE);
    memcpy(want, b.base, SIZE);
    cr_assert(ll_snap_take(&b, &err), "%s", err.msg);
    char path[PATH_MAX];
    temp_path(path, sizeof path, "rescue.llsnap");
    static const char map[] = "a code map, opaque here";
    cr_assert_eq(ll_snap_save_newest_extra(&b, path, 5, map, sizeof map, 0x1234, &err), 0, "%s",
                 err.msg);
    cr_assert_eq(ll_snap_verify(path, &err), 0, "%s", err.msg);
    void *base = b.base;
    ll_block_release(&b);
    reserve_at(&b, base, SIZE);
    memset(seen_extra, 0, sizeof seen_extra);
    cr_assert_eq(ll_snap_load(&b, path, &err, .layout_version = 5, .verify = 1, .extra_tag = 0x1234,
                              .extra_fn = see_extra),
                 0, "%s", err.msg);
    cr_assert_str_eq(seen_extra, map);
    cr_assert_eq(memcmp(b.base, want, SIZE), 0, "the file holds the snapshot's bytes");
    ll_block_release(&b);
    free(want);
    remove_path(path);
}

Test(rescue, a_block_without_a_snapshot_is_refused)
{
    ll_block b;
    ll_error err;
    reserve(&b, SIZE);
    b.base[0] = 1;
    cr_assert_eq(ll_snap_save_newest(&b, "/tmp/never-written.llsnap", 0, &err), -1);
    cr_assert_str_eq(err.msg, "cannot save the newest snapshot: the block has none (try: "
                              "ll_snap_take first)");
    ll_block_release(&b);
}

Test(rescue, errors_name_the_path_and_the_reason)
{
    ll_block b;
    ll_error err;
    reserve(&b, SIZE);
    cr_assert(ll_snap_take(&b, &err), "%s", err.msg);
    cr_assert_eq(ll_snap_save_newest(&b, "/nonexistent-dir/x.llsnap", 0, &err), -1);
    cr_assert_eq(err.code, ENOENT);
    cr_assert(strstr(err.msg, "cannot create '/nonexistent-dir/x.llsnap.tmp."), "%s", err.msg);
    cr_assert(strstr(err.msg, ": No such file or directory (is the directory writable?)"), "%s",
              err.msg);
    static char longpath[PATH_MAX + 16];
    memset(longpath, 'a', sizeof longpath - 1);
    cr_assert_eq(ll_snap_save_newest(&b, longpath, 0, &err), -1);
    cr_assert(strstr(err.msg, "the path is missing or longer than"), "%s", err.msg);
    ll_snap_end(&b);
    ll_block_release(&b);
}

static void write_fails(void)
{
    ll_block b;
    ll_error err;
    reserve(&b, SIZE);
    for (uint64_t p = 0; p < PAGES; p += 2) fill_page(b.base, p, 3);
    if (!ll_snap_take(&b, &err)) _exit(3);
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit small = {64 * 1024, 64 * 1024};
    setrlimit(RLIMIT_FSIZE, &small);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "/tmp/ll-rescue-big-%d.llsnap", (int)getpid());
    int rc = ll_snap_save_newest(&b, path, 0, &err);
    int ok =
        rc == -1 && strstr(err.msg, "cannot write '") && strstr(err.msg, "(is the disk full?)");
    unlink(path);
    _exit(ok ? 0 : 4);
}

/* A write that fails (here: the file size limit) leaves no file. */
Test(rescue, a_failed_write_says_so)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) write_fails();
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status 0x%x", status);
}
