/* bench.h - shared helpers for the benchmark groups. */
#ifndef LL_BENCH_H
#define LL_BENCH_H

#include "looplive.h"

#include <stdint.h>
#include <stdio.h>

/* Prints one figure as `BENCH <name> <value> <unit>`. */
void bench_print(const char *name, double value, const char *unit);

/* The median of n values (sorts them in place). */
double bench_median(double *values, int n);

/* Nanoseconds on the monotonic clock. */
uint64_t bench_now_ns(void);

/* Resident set size of this process, in KiB (VmRSS). */
uint64_t bench_rss_kib(void);

/* One group per file; each returns 0, or non-zero when it could not run. */
int bench_addr(void);
int bench_memory(void);
int bench_snapshot(void);
int bench_reload(void);
int bench_loop(void);
int bench_host(void);
int bench_files(void);
int bench_compat(void);
int bench_capture(void);

#endif
