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

/* examples/bounce as a module in a block of its own, initialised, with a
 * loop (60 fps, keyframes every 60 frames): for the `timeline` group and
 * what it measures after a code change. bench_bounce_end frees what a
 * failed session made too. */
typedef struct bench_bounce {
    ll_block block;
    ll_module *module;
    ll_loop *loop;
} bench_bounce;
int bench_bounce_session(bench_bounce *b, ll_error *err);

/* Records frames of generated play (held arrows, launches) into slot, the
 * same for every call, then plays the slot from its start. */
int bench_bounce_record(bench_bounce *b, int slot, uint64_t frames, ll_error *err);
void bench_bounce_end(bench_bounce *b);

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
int bench_timeline(void);

#endif
