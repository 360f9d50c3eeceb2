/* bench_reload.c - `looplive-bench reload`: how long from a new build being
 * renamed into place to the first call into it, and what checking for a new
 * build costs a frame when none came. Uses the test library variants that
 * `make all` builds into BUILD/tests/module/. */
#include "bench.h"

#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { RELOADS = 300, IDLE_CALLS = 5000000, REPEATS = 5 };

typedef int value_fn(void);

static int copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    char buf[65536];
    size_t n;
    int ok = in && out;
    while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0) ok = fwrite(buf, 1, n, out) == n;
    if (in) fclose(in);
    if (out && fclose(out) != 0) ok = 0;
    return ok ? 0 : -1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One reload: the variant is written beside the library first, so the clock
 * covers only rename -> watcher -> poll -> copy, load, bind -> first call. */
static double one_reload(ll_module *m, const char *variant, const char *staged, const char *lib,
                         int want)
{
    ll_error err;
    if (copy_file(variant, staged) != 0) return -1;
    uint64_t t0 = bench_now_ns();
    if (rename(staged, lib) != 0) return -1;
    int rc;
    while ((rc = ll_module_poll(m, &err)) == 0 && bench_now_ns() - t0 < 5000000000ull)
        sched_yield();
    if (rc <= 0) {
        fprintf(stderr, "looplive-bench: reload failed: %s\n", rc ? err.msg : "no reload in 5 s");
        return -1;
    }
    int got = ((value_fn *)ll_module_symbol_get(m, 0))();
    uint64_t t1 = bench_now_ns();
    return got == want ? (double)(t1 - t0) / 1e6 : -1;
}

/* Median and p99 of n reloads alternating v2 and v3; prefix names them. */
static int bench_reloads(ll_module *m, const char *built, const char *dir, const char *lib, int n,
                         const char *prefix)
{
    static double ms[RELOADS];
    char name[64];
    char variant[PATH_MAX + 32], staged[PATH_MAX + 16];
    snprintf(staged, sizeof staged, "%s/.next.so", dir);
    for (int i = 0; i < n; i++) {
        int v = 2 + i % 2; /* alternate v2 and v3 */
        snprintf(variant, sizeof variant, "%s/libmod_v%d.so", built, v);
        ms[i] = one_reload(m, variant, staged, lib, v);
        if (ms[i] < 0) return -1;
    }
    qsort(ms, (size_t)n, sizeof ms[0], cmp_double);
    snprintf(name, sizeof name, "%s_median_ms", prefix);
    bench_print(name, bench_median(ms, n), "ms");
    snprintf(name, sizeof name, "%s_p99_ms", prefix);
    bench_print(name, ms[(n * 99 + 99) / 100 - 1], "ms");
    return 0;
}

/* The frame path with nothing new, beside what a stat() per frame costs
 * (the approach of cr.h and llce). */
static void bench_idle(ll_module *m, const char *lib)
{
    double poll_ns[REPEATS], stat_ns[REPEATS];
    ll_error err;
    for (int r = 0; r < REPEATS; r++) {
        uint64_t t0 = bench_now_ns();
        int sum = 0;
        for (int i = 0; i < IDLE_CALLS; i++) sum += ll_module_poll(m, &err);
        uint64_t t1 = bench_now_ns();
        struct stat st;
        for (int i = 0; i < IDLE_CALLS / 100; i++) sum += stat(lib, &st);
        uint64_t t2 = bench_now_ns();
        poll_ns[r] = sum == 0 ? (double)(t1 - t0) / IDLE_CALLS : -1;
        stat_ns[r] = (double)(t2 - t1) / (IDLE_CALLS / 100);
    }
    bench_print("idle_check_ns", bench_median(poll_ns, REPEATS), "ns");
    bench_print("idle_check_stat_ns", bench_median(stat_ns, REPEATS), "ns");
}

typedef struct protect_ctx {
    ll_module *m;
    uint8_t *state; /* written by each call, as a frame would */
    int sum;
} protect_ctx;

static void protected_call(void *arg)
{
    protect_ctx *c = arg;
    c->sum += ((value_fn *)ll_module_symbol_get(c->m, 0))();
    if (c->state)
        for (int p = 0; p < 4; p++) c->state[p * 4096] = (uint8_t)c->sum;
}

/* What ll_module_protect adds to a call: the guard alone, and with the
 * block's snapshot taken and dropped around a call that writes 4 pages. */
static int bench_protect(const char *lib)
{
    static const char *names[] = {"value"};
    ll_error err;
    ll_block b;
    if (ll_block_reserve(&b, &err, .size = 16 << 20) != 0) return -1;
    ll_module *bare = ll_module_open(lib, &err, .symbols = names, .symbol_count = 1);
    ll_module *with = ll_module_open(lib, &err, .symbols = names, .symbol_count = 1, .block = &b);
    int rc = bare && with ? 0 : -1;
    double guard_ns[REPEATS], snap_ns[REPEATS];
    for (int r = 0; r < REPEATS && rc == 0; r++) {
        protect_ctx c1 = {.m = bare}, c2 = {.m = with, .state = b.base};
        uint64_t t0 = bench_now_ns();
        for (int i = 0; i < 20000; i++) rc |= ll_module_protect(bare, protected_call, &c1, &err);
        uint64_t t1 = bench_now_ns();
        for (int i = 0; i < 2000; i++) rc |= ll_module_protect(with, protected_call, &c2, &err);
        uint64_t t2 = bench_now_ns();
        guard_ns[r] = (double)(t1 - t0) / 20000;
        snap_ns[r] = (double)(t2 - t1) / 2000;
    }
    if (rc == 0) {
        bench_print("protect_call_ns", bench_median(guard_ns, REPEATS), "ns");
        bench_print("protect_call_block_ns", bench_median(snap_ns, REPEATS), "ns");
    } else {
        fprintf(stderr, "looplive-bench: %s\n", err.msg);
    }
    ll_module_close(bare);
    ll_module_close(with);
    ll_snap_end(&b);
    ll_block_release(&b);
    return rc;
}

/* The same with a 64 MiB block fully written: no load reads the block
 * (old builds forward instead of being scanned for), so it costs the same. */
static int bench_with_block(const char *built, const char *dir, const char *lib)
{
    ll_block b;
    ll_error err;
    if (ll_block_reserve(&b, &err, .size = 64 << 20) != 0) {
        fprintf(stderr, "looplive-bench: %s\n", err.msg);
        return -1;
    }
    for (uint64_t i = 0; i < b.size / 8; i++) ((uint64_t *)b.base)[i] = i * 0x9e3779b97f4a7c15ull;
    static const char *names[] = {"value"};
    ll_module *m = ll_module_open(lib, &err, .symbols = names, .symbol_count = 1, .block = &b);
    int rc = -1;
    if (m) {
        rc = bench_reloads(m, built, dir, lib, 30, "reload_block64m");
        ll_module_close(m);
    } else {
        fprintf(stderr, "looplive-bench: %s\n", err.msg);
    }
    ll_snap_end(&b);
    ll_block_release(&b);
    return rc;
}

/* Writes a library of FORWARD_FUNCS functions (and value()) and builds it
 * with the entry padding `looplive run --build` uses. */
enum { FORWARD_FUNCS = 1000, FORWARD_EARLIER = 100, FORWARD_RUNS = 5 };

static int build_many(const char *dir, char *lib, size_t cap)
{
    char src[PATH_MAX];
    snprintf(src, sizeof src, "%s/many.c", dir);
    snprintf(lib, cap, "%s/libmany.so", dir);
    FILE *f = fopen(src, "w");
    if (!f) return -1;
    for (int i = 0; i < FORWARD_FUNCS; i++)
        fprintf(f, "int f%d(int x) { return x * %d + %d; }\n", i, i + 3, i);
    fprintf(f, "int value(void) { return f7(1); }\n");
    fclose(f);
    const char *cc = getenv("CC") ? getenv("CC") : "cc";
    char cmd[3 * PATH_MAX];
    snprintf(cmd, sizeof cmd, "%s -shared -fPIC -O1 -fpatchable-function-entry=14 -o %s %s", cc,
             lib, src);
    int rc = system(cmd);
    unlink(src);
    return rc == 0 ? 0 : -1;
}

/* One load with FORWARD_EARLIER builds of FORWARD_FUNCS functions before
 * it: what patching every earlier entry costs (ll_module_info.forward_ns). */
static int bench_forward(const char *dir)
{
    char lib[PATH_MAX + 16];
    if (build_many(dir, lib, sizeof lib) != 0) {
        fprintf(stderr, "looplive-bench: cannot build the 1,000-function library\n");
        return -1;
    }
    static const char *names[] = {"value"};
    ll_error err;
    ll_module *m = ll_module_open(lib, &err, .symbols = names, .symbol_count = 1);
    double us[FORWARD_RUNS];
    int rc = m ? 0 : -1;
    for (int i = 1; rc == 0 && i < FORWARD_EARLIER; i++) rc = ll_module_reload(m, &err);
    ll_module_info info;
    for (int r = 0; rc == 0 && r < FORWARD_RUNS; r++) {
        rc = ll_module_reload(m, &err);
        ll_module_info_get(m, &info);
        us[r] = (double)info.forward_ns / 1000;
        if (rc == 0 && info.forwarded < (uint64_t)FORWARD_FUNCS * FORWARD_EARLIER)
            rc = -1, snprintf(err.msg, sizeof err.msg, "only %llu functions forwarded",
                              (unsigned long long)info.forwarded);
    }
    if (rc == 0)
        bench_print("forward_patch_us", bench_median(us, FORWARD_RUNS), "us");
    else
        fprintf(stderr, "looplive-bench: %s\n", err.msg);
    ll_module_close(m);
    unlink(lib);
    return rc;
}

int bench_reload(void)
{
    char exe[PATH_MAX], built[PATH_MAX + 16], first[PATH_MAX + 48], lib[64];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return 1;
    exe[n] = 0;
    *strrchr(exe, '/') = 0;
    snprintf(built, sizeof built, "%s/tests/module", exe);
    snprintf(first, sizeof first, "%s/libmod_v1.so", built);
    char dir[] = "/tmp/looplive-bench-reload-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    snprintf(lib, sizeof lib, "%s/libgame.so", dir);
    if (copy_file(first, lib) != 0) {
        fprintf(stderr, "looplive-bench: no test library at %s (run: make all)\n", first);
        rmdir(dir);
        return 1;
    }
    static const char *names[] = {"value"};
    ll_error err;
    ll_module *m = ll_module_open(lib, &err, .symbols = names, .symbol_count = 1);
    int rc = 1;
    if (!m) {
        fprintf(stderr, "looplive-bench: %s\n", err.msg);
    } else {
        rc = bench_reloads(m, built, dir, lib, RELOADS, "reload") != 0;
        bench_idle(m, lib);
        ll_module_close(m);
        rc |= bench_with_block(built, dir, lib) != 0;
        rc |= bench_protect(lib) != 0;
        rc |= bench_forward(dir) != 0;
    }
    unlink(lib);
    rmdir(dir);
    return rc;
}
