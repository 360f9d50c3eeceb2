/* reserve.c - reserves BASE SIZE with MAP_FIXED_NOREPLACE, as a looplive
 * program does at start, and says what is in the way when that fails.
 * Without arguments it only exits (for `looplive addr --exec` to sample). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

static void show_overlap(unsigned long long base, unsigned long long size)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[4096];
    while (f && fgets(line, sizeof line, f)) {
        unsigned long long s, e;
        if (sscanf(line, "%llx-%llx", &s, &e) == 2 && s < base + size && e > base)
            fprintf(stderr, "in the way: %s", line);
    }
    if (f) fclose(f);
}

int main(int argc, char **argv)
{
    if (argc < 3) return 0;
    unsigned long long base = strtoull(argv[1], NULL, 0), size = strtoull(argv[2], NULL, 0);
    void *p = mmap((void *)(unsigned long)base, size, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
    if (p == MAP_FAILED || p != (void *)(unsigned long)base) {
        fprintf(stderr, "reserve: 0x%llx + %llu failed: %s\n", base, size,
                p == MAP_FAILED ? strerror(errno) : "the kernel ignored the address");
        show_overlap(base, size);
        return 1;
    }
    return 0;
}
