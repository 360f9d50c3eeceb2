/* test_module_soak.c - 1,000 reloads while a loop plays, every frame
 * calling through function pointers stored in the state by earlier builds:
 * no crash, every call reaches the build in use; file descriptors stay
 * fixed, mappings and resident memory grow by what each kept build costs
 * (printed per reload), and no private copies stay behind. */
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

typedef struct soak_state {
    int (*behave[8])(void);
    uint64_t frames;
    int64_t sum;
    int last;
} soak_state;

typedef struct soak {
    test_dir t;
    ll_block block;
    ll_module *m;
    ll_loop *loop;
    int version;
} soak;

/* Renames prebuilt variants into place and waits for each to load while
 * the loop plays: every frame calls through the pointers the state holds,
 * stored by every earlier build, and each must reach the build in use. */
static void reload_n(soak *k, int n)
{
    static const char *variants[] = {"v1", "v2", "v3"};
    ll_error err;
    const soak_state *s = (const soak_state *)k->block.base;
    for (int i = 0; i < n; i++) {
        k->version = k->version % 3 + 1;
        install(&k->t, variants[k->version - 1]);
        int rc = 0;
        time_t give_up = time(NULL) + 5;
        while ((rc = ll_module_poll(k->m, &err)) == 0 && time(NULL) < give_up) {
            cr_assert_geq(ll_loop_frame_run(k->loop, NULL, &err), 0, "%s", err.msg);
            sleep_ms(0);
        }
        cr_assert_eq(rc, 1, "reload %d: %s", i, err.msg);
        cr_assert_geq(ll_loop_frame_run(k->loop, NULL, &err), 0, "%s", err.msg);
        cr_assert_eq(s->last, 200 + k->version, "reload %d: a pointer missed version %d", i,
                     k->version);
    }
}

Test(soak, thousand_reloads_while_a_loop_plays)
{
    soak k = {.version = 1};
    test_dir_init(&k.t);
    install(&k.t, "v1");
    ll_error err;
    test_block(&k.block, 1 << 20);
    k.m = ll_module_open(k.t.lib, &err, .symbols = test_symbols, .symbol_count = SYM_COUNT,
                         .block = &k.block);
    cr_assert(k.m, "%s", err.msg);
    const ll_app *app = ((ll_app_get *)ll_module_symbol_get(k.m, SYM_APP))();
    cr_assert_eq(app->init(&k.block), 0);
    k.loop = ll_loop_create(&k.block, &err, .module = k.m, .app_symbol = SYM_APP);
    cr_assert(k.loop, "%s", err.msg);
    cr_assert_eq(ll_loop_record(k.loop, 0, &err), 0, "%s", err.msg);
    for (int i = 0; i < 20; i++)
        cr_assert_eq(ll_loop_frame_run(k.loop, NULL, &err), 1, "%s", err.msg);
    cr_assert_eq(ll_loop_play(k.loop, 0, &err), 0, "%s", err.msg);
    reload_n(&k, 50); /* warm up the loader's own caches */
    int fds = count_entries("/proc/self/fd"), maps = count_lines("/proc/self/maps");
    long rss = rss_kib();
    enum { N = 1000 };
    reload_n(&k, N);
    ll_module_info info;
    ll_module_info_get(k.m, &info);
    cr_assert_eq(info.loads, 1051);
    int fds2 = count_entries("/proc/self/fd"), maps2 = count_lines("/proc/self/maps");
    long rss2 = rss_kib();
    ll_loop_status st = ll_loop_status_get(k.loop);
    cr_assert_gt(st.loops, 10, "the loop wrapped while reloading");
    cr_log_info("soak: per reload: %.3f fds, %.2f mappings, %.1f KiB resident (%d reloads, %llu "
                "loop passes)",
                (double)(fds2 - fds) / N, (double)(maps2 - maps) / N, (double)(rss2 - rss) / N, N,
                (unsigned long long)st.loops);
    fprintf(stderr, "soak: per reload: %.3f fds, %.2f mappings, %.1f KiB resident (%d reloads)\n",
            (double)(fds2 - fds) / N, (double)(maps2 - maps) / N, (double)(rss2 - rss) / N, N);
    cr_assert_leq(fds2, fds + 1, "file descriptors leak");
    /* Every build stays mapped: its segments, a handful per build. */
    cr_assert_leq(maps2, maps + 8 * N, "mappings grow past the builds' segments");
    cr_assert_leq(rss2, rss + RSS_SLACK_KIB + 64 * N,
                  "resident memory grew from %ld KiB to %ld KiB", rss, rss2);
    char dir[256];
    snprintf(dir, sizeof dir, "%s", info.copy_dir);
    ll_loop_destroy(k.loop);
    ll_module_close(k.m);
    cr_assert_eq(access(dir, F_OK), -1, "no copies left behind");
    ll_snap_end(&k.block);
    ll_block_release(&k.block);
    test_dir_remove(&k.t);
}
