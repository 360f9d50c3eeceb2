/* bench_addr.c - `looplive addr` on a process with 65,000 mappings, against
 * `pmap -x` on the same process in the same run. Both run as separate
 * processes, timed from fork to exit; the median of several runs. */
#include "bench.h"

#include <libgen.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

enum { MAPPINGS = 65000, RUNS = 7 };

/* A child holding MAPPINGS mappings: one region whose pages alternate
 * between two protections, so the kernel cannot merge neighbours. */
static pid_t spawn_target(void)
{
    int ready[2];
    if (pipe(ready) != 0) return -1;
    pid_t pid = fork();
    if (pid == 0) {
        long page = sysconf(_SC_PAGESIZE);
        char *p = mmap(NULL, (size_t)MAPPINGS * (size_t)page, PROT_READ,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) _exit(1);
        for (long i = 1; i < MAPPINGS; i += 2) mprotect(p + i * page, (size_t)page, PROT_NONE);
        char c = 1;
        if (write(ready[1], &c, 1) != 1) _exit(1);
        for (;;) pause();
    }
    close(ready[1]);
    char c = 0;
    if (pid < 0 || read(ready[0], &c, 1) != 1) {
        if (pid > 0) kill(pid, SIGKILL);
        pid = -1;
    }
    close(ready[0]);
    return pid;
}

/* Runs argv with stdout to /dev/null; returns ms, and its peak RSS. */
static double run_timed(char *const argv[], long *maxrss_kib)
{
    uint64_t t0 = bench_now_ns();
    pid_t pid = fork();
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stdout)) _exit(127);
        execvp(argv[0], argv);
        _exit(127);
    }
    int st;
    struct rusage ru;
    if (pid < 0 || wait4(pid, &st, 0, &ru) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return -1;
    if (maxrss_kib) *maxrss_kib = ru.ru_maxrss;
    return (double)(bench_now_ns() - t0) / 1e6;
}

static int count_mappings(pid_t pid)
{
    char path[64], line[512];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
    FILE *f = fopen(path, "r");
    int n = 0;
    while (f && fgets(line, sizeof line, f)) n++;
    if (f) fclose(f);
    return n;
}

int bench_addr(void)
{
    char self[4096], cli[4200];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return 1;
    self[n] = 0;
    snprintf(cli, sizeof cli, "%s/looplive", dirname(self));
    pid_t target = spawn_target();
    if (target < 0) {
        fprintf(stderr, "bench addr: cannot build a process with %d mappings\n", MAPPINGS);
        return 1;
    }
    char pid[16];
    snprintf(pid, sizeof pid, "%d", (int)target);
    char *ours[] = {cli, "addr", "--pid", pid, "--format", "json", NULL};
    char *pmap[] = {"pmap", "-x", pid, NULL};
    double t_ours[RUNS], t_pmap[RUNS], rss[RUNS];
    int rc = 0;
    for (int i = 0; i < RUNS && rc == 0; i++) {
        long kib = 0;
        t_ours[i] = run_timed(ours, &kib);
        rss[i] = (double)kib;
        t_pmap[i] = run_timed(pmap, NULL);
        if (t_ours[i] < 0 || t_pmap[i] < 0) rc = 1;
    }
    int maps = count_mappings(target);
    ll_maps m;
    ll_error err;
    double t_lib[RUNS];
    for (int i = 0; i < RUNS && rc == 0; i++) {
        uint64_t t0 = bench_now_ns();
        if (ll_maps_read_pid(target, &m, &err) != 0) rc = 1;
        t_lib[i] = (double)(bench_now_ns() - t0) / 1e6;
        if (rc == 0) ll_maps_free(&m);
    }
    kill(target, SIGKILL);
    waitpid(target, NULL, 0);
    if (rc != 0) {
        fprintf(stderr, "bench addr: looplive addr or pmap -x failed on pid %s\n", pid);
        return 1;
    }
    double ours_ms = bench_median(t_ours, RUNS), pmap_ms = bench_median(t_pmap, RUNS);
    bench_print("addr_65k_mappings", maps, "mappings");
    bench_print("addr_65k_ms", ours_ms, "ms");
    bench_print("pmap_x_65k_ms", pmap_ms, "ms");
    bench_print("addr_vs_pmap_ratio", pmap_ms / ours_ms, "x");
    bench_print("addr_65k_rss_kib", bench_median(rss, RUNS), "KiB");
    bench_print("maps_read_65k_ms", bench_median(t_lib, RUNS), "ms");
    return 0;
}
