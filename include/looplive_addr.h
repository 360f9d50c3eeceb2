/* looplive_addr.h - address-space analysis: read and classify a process's
 * maps, choose a static base address for the block, read an executable's
 * ELF header. `looplive addr` is built on it.
 *
 * Example: where could a 1 GiB block go in this process?
 *
 *     #include <looplive_addr.h>
 *
 *     int main(void)
 *     {
 *         ll_error err;
 *         ll_maps maps;
 *         if (ll_maps_read_pid(0, &maps, &err) != 0) {
 *             fprintf(stderr, "%s\n", err.msg);
 *             return 1;
 *         }
 *         const ll_maps *samples[] = {&maps};
 *         ll_advice advice;
 *         if (ll_maps_advise(samples, 1, &advice, &err, .size = 1ull << 30) == 0)
 *             printf("base 0x%llx\n", (unsigned long long)advice.base);
 *         ll_maps_free(&maps);
 *         return 0;
 *     }
 *
 * This header includes looplive_host.h (and so looplive_app.h); looplive.h
 * includes all three.
 */
#ifndef LOOPLIVE_ADDR_H
#define LOOPLIVE_ADDR_H

#include "looplive_host.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ==== maps: read and classify an address space ========================= */

/* What a region is part of (see ll_maps_classify). */
typedef enum ll_chunk {
    LL_CHUNK_NONE = 0, /* not yet classified */
    LL_CHUNK_APP,      /* the main executable's segments and the brk heap */
    LL_CHUNK_LIB,      /* shared objects, the loader, anonymous mmaps, thread stacks */
    LL_CHUNK_STACK,    /* the main thread's stack */
    LL_CHUNK_KERNEL,   /* [vdso], [vvar], [vsyscall] and other kernel pages */
    LL_CHUNK_COUNT
} ll_chunk;

/* One line of /proc/PID/maps. */
typedef struct ll_region {
    uint64_t start, end; /* [start, end) */
    uint64_t offset;     /* file offset */
    uint64_t inode;
    uint32_t dev_major, dev_minor;
    char perms[5];    /* "rw-p" */
    const char *path; /* "" when anonymous; "[heap]", "[anon:NAME]", a file path
                         (with " (deleted)" when the kernel says so) */
    ll_chunk chunk;
} ll_region;

/* A parsed address space; owns its regions and their strings. */
typedef struct ll_maps {
    ll_region *regions; /* sorted by start */
    size_t count;
    int pid;         /* 0 when parsed from text */
    const char *exe; /* the main executable's path; NULL when it is unknown */
    void *pool;      /* owned strings (internal) */
} ll_maps;

/* Reads /proc/PID/maps (pid 0: this process) and classifies it. Errors say
 * whether the process does not exist, exited during the read, is a kernel
 * thread (no maps) or may not be read (ptrace access rules, and what works). */
int ll_maps_read_pid(int pid, ll_maps *out, ll_error *err);

/* Parses maps text (len bytes, need not end in a newline) and classifies
 * it. A malformed line fails with its line number. */
int ll_maps_parse(const char *text, size_t len, ll_maps *out, ll_error *err);

/* Reads and parses a saved maps file (e.g. `cat /proc/PID/maps > FILE`). */
int ll_maps_read_file(const char *path, ll_maps *out, ll_error *err);

/* Runs argv (searched in PATH, output to /dev/null) under the kernel's
 * normal ASLR, reads its maps after after_ms milliseconds or just before it
 * exits, whichever comes first, then kills it. */
int ll_maps_launch(char *const argv[], long after_ms, ll_maps *out, ll_error *err);

/* Finds the one process whose comm or executable basename is exactly name
 * (like pgrep -x), other than the caller. Several: the error lists the pid
 * and command line of each. */
int ll_maps_find_pid(const char *name, int *pid, ll_error *err);

/* Frees what a read or parse allocated. Safe on a zeroed ll_maps. */
void ll_maps_free(ll_maps *maps);

/* The first region that overlaps [start, end), or NULL. O(log count). */
const ll_region *ll_maps_overlap_find(const ll_maps *maps, uint64_t start, uint64_t end);

/* Sets every region's chunk. exe names the main executable (NULL: keep
 * maps->exe, or guess it: the first executable file mapping that is not a
 * shared object, else the file mapping nearest below [heap]). The brk heap
 * and the anonymous tail of the executable's data count as application. */
void ll_maps_classify(ll_maps *maps, const char *exe);

/* "app", "lib", "stack", "kernel" or "none". */
const char *ll_chunk_name_get(ll_chunk chunk);

/* The extent of one chunk: lowest start, highest end, region count and
 * total bytes. count 0 when the chunk has no region. */
typedef struct ll_span {
    uint64_t lo, hi;
    size_t count;
    uint64_t bytes;
} ll_span;
ll_span ll_maps_span_get(const ll_maps *maps, ll_chunk chunk);
/* The user address-space width (47, 48, 39...) a listing implies: the bit
 * length of its stack's top (47 when nothing tells). */
unsigned ll_maps_va_bits_get(const ll_maps *maps);

/* Total bytes mapped (what `pmap -x` prints as "total kB", times 1024). */
uint64_t ll_maps_total_get(const ll_maps *maps);

/* A free range of addresses [start, end). */
/* The free gaps inside [lo, hi): writes up to cap of them to out (which may
 * be NULL when cap is 0) and returns how many there are. */
size_t ll_maps_gaps_find(const ll_maps *maps, uint64_t lo, uint64_t hi, ll_range *out, size_t cap);

/* ==== advise: choose a static base address ============================ */

/* What the ASLR model reads from the machine. Every field is readable by any
 * user (sysctls under /proc/sys, getrlimit, uname, /proc/cpuinfo). */
typedef struct ll_kernel {
    int randomize_va_space; /* kernel.randomize_va_space: 0 off, 1, 2 (brk too) */
    int mmap_rnd_bits;      /* vm.mmap_rnd_bits: ASLR entropy of mmap and PIE bases */
    uint64_t mmap_min_addr; /* vm.mmap_min_addr */
    int legacy_va_layout;   /* vm.legacy_va_layout */
    uint64_t page_size;
    unsigned va_bits;      /* user address-space width mmap uses: 47, 48, 39... */
    int la57;              /* 5-level paging: 56 bits, but mmap stays below 47 */
    int aarch64;           /* 0: x86_64 rules, 1: arm64 (generic mm) rules */
    uint64_t stack_rlimit; /* RLIMIT_STACK soft limit; UINT64_MAX when unlimited */
} ll_kernel;

/* Reads this machine's values. */
int ll_kernel_read(ll_kernel *k, ll_error *err);

/* The main executable's type, from its ELF header. */
typedef enum ll_exe_type {
    LL_EXE_UNKNOWN = 0,
    LL_EXE_PIE,        /* ET_DYN with an interpreter: loads at 2/3 of the space + ASLR */
    LL_EXE_FIXED,      /* ET_EXEC: loads at its link address (0x400000) */
    LL_EXE_STATIC_PIE, /* ET_DYN without an interpreter: loads in the mmap area */
} ll_exe_type;

typedef struct ll_exe {
    ll_exe_type type;
    uint64_t lo, hi; /* ET_EXEC: the link addresses of its PT_LOAD segments */
    uint64_t span;   /* bytes from the first to the end of the last segment */
    int from_header; /* 1: read from the ELF file; 0: guessed from addresses */
} ll_exe;

/* Reads path's ELF header and program headers. */
int ll_exe_read(const char *path, ll_exe *out, ll_error *err);

/* "PIE", "non-PIE (ET_EXEC)", "static PIE" or "unknown". */
const char *ll_exe_type_name_get(ll_exe_type type);

/* A range the kernel may place something in, under the condition `when`. */
typedef struct ll_zone {
    uint64_t start, end;
    char what[96]; /* "PIE executable and brk heap" */
    char when[96]; /* "every launch", "stack rlimit unlimited", ... */
} ll_zone;

enum { LL_ADVISE_MAX_ZONES = 32 };

/* The recommendation, the model behind it and what was assumed. */
typedef struct ll_advice {
    uint64_t base, size, align;
    double bias;        /* 0 at the application side of the gap, 1 at the library side */
    ll_range gap;       /* the safe interval the block was placed in */
    int app_below;      /* 1 when the application chunk is below the gap */
    uint64_t task_size; /* top of the address space the model covers */
    ll_kernel kernel;
    ll_exe exe;
    const char *exe_path;               /* points into the first sample; NULL when unknown */
    uint64_t stack_limit_max;           /* largest finite stack rlimit assumed */
    uint64_t lib_allow, heap_allow;     /* growth allowed below / above observed use */
    ll_zone zones[LL_ADVISE_MAX_ZONES]; /* forbidden, sorted by start, may overlap */
    size_t zone_count;
    ll_range safe[LL_ADVISE_MAX_ZONES]; /* the free intervals left, by address */
    size_t safe_count;
    size_t samples;
    char layouts[128]; /* the layouts seen in the samples, e.g. "top-down" */
} ll_advice;

typedef struct ll_advise_params {
    int _ll;        /* reserved: first, 0 (lets a call with no options compile everywhere) */
    uint64_t size;  /* bytes to reserve; default 1 GiB */
    uint64_t align; /* power of two >= page size; default 2 MiB */
    double bias;    /* 0.0..1.0 (see ll_advice.bias) when bias_set */
    int bias_set;   /* 0: balanced (0.5) */
    const ll_kernel *kernel;  /* NULL: this machine (ll_kernel_read) */
    const ll_exe *exe;        /* NULL: read samples[0]->exe, else guess */
    uint64_t stack_limit_max; /* 0: max(4 GiB, the current soft limit) */
} ll_advise_params;

/* Chooses a base for a block of params->size from one or more observed
 * layouts of the same program. The block lies in an interval that stays
 * free under every outcome the model allows: ASLR on or off, the default
 * top-down layout with any stack rlimit up to stack_limit_max, an unlimited
 * stack rlimit, and the legacy bottom-up layout; plus whatever the samples
 * show at a fixed place. The answer depends on the executable and the
 * machine, not on where ASLR put things in the samples. */
int ll_maps_advise_(const ll_maps *const *samples, size_t count, ll_advice *out, ll_error *err,
                    const ll_advise_params *params);
#define ll_maps_advise(samples, count, out, ...)                                                   \
    ll_maps_advise_((samples), (count), (out), LL_FIRST_(__VA_ARGS__, ~),                          \
                    LL_PARAMS_(ll_advise_params, LL_REST_(__VA_ARGS__, )))

/* A judgement of an address the user already has. */
typedef struct ll_verdict {
    int safe;      /* 1: [addr, addr + size) is inside a safe interval */
    char why[512]; /* one line: what it collides with and when, or why it is safe */
} ll_verdict;

/* Judges [addr, addr + size) against the advice's model (which must come
 * from ll_maps_advise on the same samples). */
void ll_advice_check(const ll_advice *advice, const ll_maps *sample, uint64_t addr, uint64_t size,
                     ll_verdict *out);

/* Recommends a base for a block of size bytes in this process's own
 * executable, as `looplive addr --self --size SIZE` would: balanced bias,
 * 2 MiB alignment. The same executable gets the same answer on every run. */
int ll_base_advise(uint64_t size, uint64_t *base, ll_error *err);

#ifdef __cplusplus
}
#endif

#endif /* LOOPLIVE_ADDR_H */
