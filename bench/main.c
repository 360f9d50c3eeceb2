/* main.c - `looplive-bench [GROUP...]`: runs the named groups, or all. */
#include "bench.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#pragma weak bench_addr
#pragma weak bench_memory
#pragma weak bench_snapshot
#pragma weak bench_reload
#pragma weak bench_loop
#pragma weak bench_host
#pragma weak bench_files
#pragma weak bench_compat
#pragma weak bench_capture
#pragma weak bench_timeline

static const struct {
    const char *name;
    int (*fn)(void);
} groups[] = {
    {"addr", bench_addr},     {"memory", bench_memory},   {"snapshot", bench_snapshot},
    {"reload", bench_reload}, {"loop", bench_loop},       {"host", bench_host},
    {"files", bench_files},   {"capture", bench_capture}, {"timeline", bench_timeline},
    {"compat", bench_compat},
};

void bench_print(const char *name, double value, const char *unit)
{
    printf("BENCH %s %.3f %s\n", name, value, unit);
    fflush(stdout);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(double *values, int n)
{
    qsort(values, (size_t)n, sizeof *values, cmp_double);
    return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

uint64_t bench_now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

uint64_t bench_rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    uint64_t kib = 0;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6)) kib = strtoull(line + 6, NULL, 10);
    if (f) fclose(f);
    return kib;
}

int main(int argc, char **argv)
{
    int status = 0;
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: looplive-bench [GROUP...]\n\nRuns the named benchmark groups (all by "
               "default) and prints one line per figure:\n  BENCH <name> <value> <unit>\n\n"
               "groups:");
        for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++) printf(" %s", groups[i].name);
        printf("\n");
        return 0;
    }
    /* Every name is checked before any group runs (they take minutes). */
    for (int a = 1; a < argc; a++) {
        int known = 0;
        for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++)
            known |= !strcmp(argv[a], groups[i].name);
        if (!known) {
            fprintf(stderr, "looplive-bench: unknown group '%s' (try: looplive-bench --help)\n",
                    argv[a]);
            return 2;
        }
    }
    for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++) {
        int wanted = argc < 2;
        for (int a = 1; a < argc; a++) wanted |= !strcmp(argv[a], groups[i].name);
        if (!wanted) continue;
        if (!groups[i].fn) {
            fprintf(stderr, "looplive-bench: group '%s' is not built yet\n", groups[i].name);
            status = 1;
            continue;
        }
        if (groups[i].fn() != 0) status = 1;
    }
    return status;
}
