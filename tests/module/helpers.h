/* helpers.h - what the module tests share: a private directory holding the
 * library under test, and a way to swap builds into it. */
#ifndef LL_TEST_MODULE_HELPERS_H
#define LL_TEST_MODULE_HELPERS_H

#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "looplive.h"

/* The table the tests bind, in this order. */
enum {
    SYM_VALUE,
    SYM_HELLO,
    SYM_HELLO_PTR,
    SYM_LITERAL,
    SYM_COUNTER_PTR,
    SYM_CRASH,
    SYM_ONLY_V1_PTR,
    SYM_BEHAVE_PTR,
    SYM_TINY,
    SYM_APP,
    SYM_DOTTED_PTR,
    SYM_COUNT
};
static const char *const test_symbols[SYM_COUNT] = {
    "value",          "hello",      "hello_ptr", "literal",      "counter_ptr", "crash",
    "only_in_v1_ptr", "behave_ptr", "tiny",      "looplive_app", "dotted_ptr"};

#include "crash_kinds.h"

typedef int value_fn(void);
typedef value_fn *fnptr_fn(void);
typedef const char *literal_fn(void);
typedef int *counter_fn(void);
typedef int crash_fn(int kind, uint8_t *state, size_t size);

typedef struct test_dir {
    char path[256];  /* a fresh directory */
    char lib[300];   /* path/libgame.so */
    char built[300]; /* where the prebuilt variants live */
} test_dir;

/* The prebuilt variants sit in tests/module/ next to the test binary. */
static inline void test_dir_init(test_dir *t)
{
    char exe[256];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    cr_assert(n > 0);
    exe[n] = 0;
    *strrchr(exe, '/') = 0;
    snprintf(t->built, sizeof t->built, "%s/module", exe);
    snprintf(t->path, sizeof t->path, "/tmp/looplive-test-module-XXXXXX");
    cr_assert(mkdtemp(t->path));
    snprintf(t->lib, sizeof t->lib, "%s/libgame.so", t->path);
}

static inline void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    cr_assert(in && out, "copy %s -> %s", from, to);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) cr_assert_eq(fwrite(buf, 1, n, out), n);
    fclose(in);
    cr_assert_eq(fclose(out), 0);
}

/* Puts a prebuilt variant ("v2", "missing") in place by rename, as a build
 * script that links to a temporary name would. */
static inline void install(test_dir *t, const char *variant)
{
    char src[PATH_MAX + 32], tmp[PATH_MAX + 16];
    snprintf(src, sizeof src, "%s/libmod_%s.so", t->built, variant);
    snprintf(tmp, sizeof tmp, "%s/.next.so", t->path);
    copy_file(src, tmp);
    cr_assert_eq(rename(tmp, t->lib), 0);
}

static inline void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Polls like a frame loop until something happens or timeout_ms passes. */
static inline int poll_until(ll_module *m, ll_error *err, int timeout_ms)
{
    for (int i = 0; i < timeout_ms; i++) {
        int rc = ll_module_poll(m, err);
        if (rc != 0) return rc;
        sleep_ms(1);
    }
    return 0;
}

static inline int call_value(const ll_module *m)
{
    return ((value_fn *)ll_module_symbol_get(m, SYM_VALUE))();
}

static inline int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static inline void test_dir_remove(test_dir *t)
{
    DIR *d = opendir(t->path);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char p[PATH_MAX + 256];
        snprintf(p, sizeof p, "%s/%s", t->path, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(t->path);
}

/* A suite whose tests share `t`, a fresh directory holding build v1. */
#define TEST_SUITE_WITH_LIB(suite)                                                                 \
    static test_dir t;                                                                             \
    static void suite##_setup(void)                                                                \
    {                                                                                              \
        test_dir_init(&t);                                                                         \
        install(&t, "v1");                                                                         \
    }                                                                                              \
    static void suite##_teardown(void)                                                             \
    {                                                                                              \
        test_dir_remove(&t);                                                                       \
    }                                                                                              \
    TestSuite(suite, .init = suite##_setup, .fini = suite##_teardown)

/* A block for the tests: the OS picks the address (fine under ASan). */
static inline void test_block(ll_block *b, uint64_t size)
{
    ll_error err;
    cr_assert_eq(ll_block_reserve(b, &err, .size = size), 0, "%s", err.msg);
}

#endif
