/* test_module_soak.c - 1,000 reloads leave file descriptors, mappings and
 * resident memory within a fixed bound, and no private copies behind. */
#include "module/helpers.h"

static int count_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    cr_assert(f);
    int n = 0;
    for (int c; (c = fgetc(f)) != EOF;) n += c == '\n';
    fclose(f);
    return n;
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6)) kib = strtol(line + 6, NULL, 10);
    fclose(f);
    return kib;
}

/* ASan keeps freed memory in a quarantine (up to 256 MiB) and the loader's
 * allocations go through it, so resident memory grows by design there. */
#if defined(__SANITIZE_ADDRESS__)
enum { RSS_SLACK_KIB = 64 * 1024 };
#else
enum { RSS_SLACK_KIB = 2048 };
#endif

static void call_value_cb(void *ctx)
{
    cr_assert_gt(call_value(ctx), 0);
}

/* Renames prebuilt variants into place and waits for each to load, calling
 * through the table under protection as a frame loop would. */
static void reload_n(test_dir *t, ll_module *m, int n, int *version)
{
    static const char *variants[] = {"v1", "v2", "v3"};
    ll_error err;
    for (int i = 0; i < n; i++) {
        *version = *version % 3 + 1;
        install(t, variants[*version - 1]);
        int rc = 0;
        time_t give_up = time(NULL) + 5;
        while ((rc = ll_module_poll(m, &err)) == 0 && time(NULL) < give_up) sleep_ms(0);
        cr_assert_eq(rc, 1, "reload %d: %s", i, err.msg);
        cr_assert_eq(call_value(m), *version);
        cr_assert_eq(ll_module_protect(m, call_value_cb, m, &err), 0, "%s", err.msg);
    }
}

Test(soak, thousand_reloads_stay_bounded)
{
    test_dir t;
    test_dir_init(&t);
    install(&t, "v1");
    ll_error err;
    ll_module *m = ll_module_open(t.lib, &err, .symbols = test_symbols, .symbol_count = SYM_COUNT);
    cr_assert(m, "%s", err.msg);
    int version = 1;
    reload_n(&t, m, 50, &version); /* warm up the loader's own caches */
    int fds = count_entries("/proc/self/fd"), maps = count_lines("/proc/self/maps");
    long rss = rss_kib();
    reload_n(&t, m, 1000, &version);
    ll_module_info info;
    ll_module_query(m, &info);
    cr_assert_eq(info.loads, 1051);
    cr_assert_leq(count_entries("/proc/self/fd"), fds + 1, "file descriptors leak");
    cr_assert_leq(count_lines("/proc/self/maps"), maps + 8, "mappings leak");
    cr_assert_leq(rss_kib(), rss + RSS_SLACK_KIB, "resident memory grew from %ld KiB to %ld KiB",
                  rss, rss_kib());
    cr_assert_leq(count_entries(info.copy_dir), 1, "old copies are removed");
    char dir[256];
    snprintf(dir, sizeof dir, "%s", info.copy_dir);
    ll_module_close(m);
    cr_assert_eq(access(dir, F_OK), -1, "no copies left behind");
    test_dir_remove(&t);
}
