/* reserve_from_header.c - a program compiled on its own against the header
 * that `looplive addr --format c` wrote: reserves its block at LOOPLIVE_BASE,
 * puts a value in an arena and prints where everything is.
 *
 * usage: reserve_from_header [--collide]
 *   --collide  map a page inside the range first: the reservation must fail
 *              and say what is in the way. */
#include <looplive.h>
#include "looplive_base.h"

#include <string.h>
#include <sys/mman.h>

static int collide(void)
{
    void *want = (void *)(uintptr_t)(LOOPLIVE_BASE + (1u << 20));
    void *got =
        mmap(want, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    return got == want ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--collide") && collide() != 0) {
        fprintf(stderr, "reserve_from_header: cannot map the page in the way\n");
        return 3;
    }
    ll_error err;
    ll_block block;
    if (ll_block_reserve(&block, &err, .base = (void *)(uintptr_t)LOOPLIVE_BASE,
                         .size = LOOPLIVE_SIZE, .name = "from-header") != 0) {
        fprintf(stderr, "looplive: %s\n", err.msg);
        return 1;
    }
    ll_arena *perm = ll_arena_create(&block, "permanent", 1 << 20, &err);
    unsigned *counter = perm ? ll_arena_push(perm, sizeof *counter, .zero = 1) : NULL;
    if (!counter) {
        fprintf(stderr, "looplive: %s\n", err.msg);
        return 1;
    }
    *counter += 41;
    *counter += 1;
    printf("reserved %llu bytes at 0x%llx, counter %u at 0x%llx\n", (unsigned long long)block.size,
           (unsigned long long)(uintptr_t)block.base, *counter,
           (unsigned long long)(uintptr_t)counter);
    ll_block_describe(&block, stdout);
    ll_block_release(&block);
    return 0;
}
