/* test_memory.c - reserving and releasing the block at a static address. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "memory/memory.h"
#include "lib/proc_self.h"

#ifndef PR_SET_VMA
#define PR_SET_VMA           0x53564d41
#define PR_SET_VMA_ANON_NAME 0
#endif

/* A free range of size bytes, aligned to align, picked at run time (never
 * hard-coded: ASan's shadow and ASLR move things around). */
static uint64_t free_range(uint64_t size, uint64_t align)
{
    uint8_t *p =
        mmap(NULL, size + align, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    cr_assert_neq(p, MAP_FAILED);
    munmap(p, size + align);
    return ll_align_up((uint64_t)(uintptr_t)p, align);
}

/* Whether [start, start + size) is unmapped: a NOREPLACE probe succeeds. */
static int range_is_free(uint64_t start, uint64_t size)
{
    void *want = (void *)(uintptr_t)start;
    void *p = mmap(want, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p == MAP_FAILED) return 0;
    munmap(p, size);
    return p == want;
}

Test(memory_block, reserve_at_requested_base)
{
    ll_error err;
    ll_block b;
    uint64_t at = free_range(64 * LL_MIB, LL_MIB);
    cr_assert_eq(
        ll_block_reserve(&b, &err, .base = (void *)at, .size = 64 * LL_MIB, .name = "test-block"),
        0, "%s", err.msg);
    cr_assert_eq((uint64_t)(uintptr_t)b.base, at);
    cr_assert_eq(b.size, 64 * LL_MIB);
    cr_assert_eq(b.page_size, ll_page_size_get());
    /* Plain anonymous memory until a snapshot moves it onto a memfd that
     * carries the name (test_snapshot checks /proc/self/maps for it). */
    cr_assert_eq(b.fd, -1);
    cr_assert_eq(b.flags, LL_BLOCK_FIXED | LL_BLOCK_ANONYMOUS);
    cr_assert_str_eq(b.name, "test-block");
    cr_assert_not(maps_mention("/memfd:test-block"));
    b.base[0] = 1;
    b.base[b.size - 1] = 2;
    cr_assert_eq(b.base[0] + b.base[b.size - 1], 3);
    ll_block_release(&b);
    cr_assert_null(b.base);
    cr_assert_eq(b.fd, -1);
    cr_assert(range_is_free(at, 64 * LL_MIB));
}

Test(memory_block, size_rounds_up_to_pages)
{
    ll_block b;
    cr_assert_eq(ll_block_reserve(&b, NULL, .size = ll_page_size_get() + 1), 0);
    cr_assert_eq(b.size, 2 * ll_page_size_get());
    ll_block_release(&b);
}

Test(memory_block, null_base_lets_the_os_choose)
{
    ll_error err;
    ll_block b;
    cr_assert_eq(ll_block_reserve(&b, &err, .size = 16 * LL_MIB), 0, "%s", err.msg);
    cr_assert_not_null(b.base);
    cr_assert_eq(b.flags & LL_BLOCK_FIXED, 0);
    cr_assert_eq((uint64_t)(uintptr_t)b.base % ll_page_size_get(), 0);
    b.base[4096] = 7;
    cr_assert_eq(b.base[4096], 7);
    ll_block_release(&b);
}

Test(memory_block, reserve_64_gib_without_committing)
{
    ll_error err;
    ll_block b;
    cr_assert_eq(ll_block_reserve(&b, &err, .size = 64 * LL_GIB), 0, "%s", err.msg);
    unsigned char vec[64];
    cr_assert_eq(mincore(b.base, 64 * ll_page_size_get(), vec), 0);
    for (int i = 0; i < 64; i++) cr_assert_eq(vec[i] & 1, 0, "page %d resident", i);
    ll_block_release(&b);
}

Test(memory_block, collision_names_the_mapping_and_leaves_it_intact)
{
    ll_error err;
    ll_block b;
    uint64_t at = free_range(LL_GIB, LL_MIB);
    uint64_t in_the_way = at + 2 * LL_MIB;
    uint8_t *other = mmap((void *)(uintptr_t)in_the_way, 2 * LL_MIB, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    cr_assert_eq((uint64_t)(uintptr_t)other, in_the_way);
    int named = prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, other, 2 * LL_MIB, "cache") == 0;
    memset(other, 0x5a, 2 * LL_MIB);

    cr_assert_eq(ll_block_reserve(&b, &err, .base = (void *)at, .size = LL_GIB), -1);
    cr_assert_eq(err.code, EEXIST);
    char want[512];
    snprintf(want, sizeof want,
             "cannot reserve 1 GiB at 0x%llx: 0x%llx-0x%llx rw-p%s is in the way (try: looplive "
             "addr --size 1G)",
             (unsigned long long)at, (unsigned long long)in_the_way,
             (unsigned long long)(in_the_way + 2 * LL_MIB), named ? " [anon:cache]" : "");
    cr_assert_str_eq(err.msg, want);
    cr_assert_null(b.base);
    for (uint64_t i = 0; i < 2 * LL_MIB; i += 4096) cr_assert_eq(other[i], 0x5a);
    cr_assert(range_is_free(at, 2 * LL_MIB), "the failed reservation left pages behind");
    munmap(other, 2 * LL_MIB);
}

Test(memory_block, collision_hint_uses_a_size_addr_parses)
{
    ll_error err;
    ll_block b;
    uint64_t at = free_range(3 * LL_MIB, LL_MIB);
    void *other = mmap((void *)(uintptr_t)at, 4096, PROT_READ,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    cr_assert_neq(other, MAP_FAILED);
    cr_assert_eq(ll_block_reserve(&b, &err, .base = (void *)at, .size = 3 * LL_MIB), -1);
    cr_assert(strstr(err.msg, " r--p is in the way (try: looplive addr --size 3M)"), "%s", err.msg);
    munmap(other, 4096);
}

Test(memory_block, size_below_a_page)
{
    ll_error err;
    ll_block b;
    cr_assert_eq(ll_block_reserve(&b, &err, .size = 100), -1);
    cr_assert_eq(err.code, EINVAL);
    cr_assert_str_eq(err.msg, "block size 100 B is below the page size 4 KiB (try: .size = 4 KiB)");
    cr_assert_eq(ll_block_reserve(&b, &err), -1);
    cr_assert_str_eq(err.msg, "block size 0 B is below the page size 4 KiB (try: .size = 4 KiB)");
}

Test(memory_block, size_above_the_address_space)
{
    ll_error err;
    ll_block b;
    uint64_t limit = memory_address_limit();
    cr_assert_eq(limit, 1ull << 47, "this test expects x86_64 with 4-level paging");
    cr_assert_eq(ll_block_reserve(&b, &err, .size = 1ull << 48), -1);
    cr_assert_str_eq(err.msg,
                     "block size 256 TiB is larger than the 128 TiB (47-bit) address space");
    cr_assert_eq(ll_block_reserve(&b, &err, .size = UINT64_MAX), -1);
    cr_assert(strstr(err.msg, "is larger than the 128 TiB (47-bit) address space"), "%s", err.msg);
}

Test(memory_block, base_beyond_the_address_space)
{
    ll_error err;
    ll_block b;
    cr_assert_eq(ll_block_reserve(&b, &err, .base = (void *)(1ull << 47), .size = LL_GIB), -1);
    cr_assert_str_eq(err.msg, "block at 0x800000000000 of 1 GiB ends at 0x800040000000, beyond "
                              "the 128 TiB (47-bit) address space that ends at 0x800000000000");
    cr_assert_eq(ll_block_reserve(&b, &err, .base = (void *)0x7fffffe00000, .size = 4 * LL_MIB),
                 -1);
    cr_assert(strstr(err.msg, "ends at 0x800000200000, beyond the 128 TiB"), "%s", err.msg);
}

Test(memory_block, base_unaligned_or_wrapping)
{
    ll_error err;
    ll_block b;
    cr_assert_eq(ll_block_reserve(&b, &err, .base = (void *)0x100000000123, .size = LL_MIB), -1);
    cr_assert_str_eq(err.msg,
                     "block base 0x100000000123 is not aligned to 4 KiB (try: 0x100000000000)");
    /* Below the first page the aligned address is above it, never 0. */
    cr_assert_eq(ll_block_reserve(&b, &err, .base = (void *)0x1, .size = LL_MIB), -1);
    cr_assert_str_eq(err.msg, "block base 0x1 is not aligned to 4 KiB (try: 0x1000)");
    cr_assert_eq(ll_block_reserve(&b, &err, .base = (void *)0xfffffffffff00000, .size = 4 * LL_MIB),
                 -1);
    cr_assert_str_eq(err.msg,
                     "block at 0xfffffffffff00000 of 4 MiB overflows: base + size wraps past 2^64");
}

Test(memory_block, prefault_makes_every_page_resident)
{
    ll_error err;
    ll_block b;
    cr_assert_eq(ll_block_reserve(&b, &err, .size = 2 * LL_MIB, .prefault = 1), 0, "%s", err.msg);
    cr_assert(b.flags & LL_BLOCK_PREFAULTED);
    size_t pages = 2 * LL_MIB / ll_page_size_get();
    unsigned char vec[1024];
    cr_assert_eq(mincore(b.base, 2 * LL_MIB, vec), 0);
    for (size_t i = 0; i < pages; i++) cr_assert_eq(vec[i] & 1, 1, "page %zu not resident", i);
    ll_block_release(&b);
}

Test(memory_block, huge_pages_are_anonymous_and_aligned)
{
    ll_error err;
    ll_block b;
    cr_assert_eq(ll_block_reserve(&b, &err, .size = 3 * LL_MIB, .huge_pages = 1), 0, "%s", err.msg);
    cr_assert_eq((uint64_t)(uintptr_t)b.base % (2 * LL_MIB), 0);
    cr_assert_eq(b.size, 4 * LL_MIB);
    cr_assert_eq(b.fd, -1);
    cr_assert(b.flags & LL_BLOCK_ANONYMOUS);
    b.base[b.size - 1] = 3;
    ll_block_release(&b);

    uint64_t at = free_range(8 * LL_MIB, 2 * LL_MIB) + ll_page_size_get();
    cr_assert_eq(
        ll_block_reserve(&b, &err, .base = (void *)at, .size = 4 * LL_MIB, .huge_pages = 1), -1);
    cr_assert(strstr(err.msg, "is not aligned to 2 MiB"), "%s", err.msg);
}

Test(memory_block, fork_gets_a_private_copy)
{
    ll_error err;
    ll_block b;
    cr_assert_eq(ll_block_reserve(&b, &err, .size = LL_MIB), 0, "%s", err.msg);
    b.base[100] = 1;
    pid_t pid = fork();
    if (pid == 0) {
        b.base[100] = 2;
        b.base[200000] = 9;
        _exit(b.base[100] == 2 && b.base[200000] == 9 ? 0 : 1);
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    cr_assert_eq(b.base[100], 1, "the child's write showed in the parent");
    cr_assert_eq(b.base[200000], 0);
    ll_block_release(&b);
}

Test(memory_block, release_is_safe_on_a_zeroed_handle)
{
    int before = fcntl(0, F_GETFD);
    ll_block b = {0};
    ll_block_release(&b);
    ll_block_release(NULL);
    cr_assert_eq(fcntl(0, F_GETFD), before, "release closed fd 0");
}

/* Runs reserve in a child under a resource limit; returns the message. */
static void reserve_limited(int resource, rlim_t limit, uint64_t base, uint64_t size, char *out,
                            size_t cap)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {limit, limit};
        setrlimit(resource, &rl);
        ll_error err = {0};
        ll_block b;
        int rc = ll_block_reserve(&b, &err, .base = (void *)(uintptr_t)base, .size = size);
        const char *msg = rc == 0 ? "reserved" : err.msg;
        ssize_t n = write(fds[1], msg, strlen(msg));
        _exit(n >= 0 ? 0 : 1);
    }
    close(fds[1]);
    ssize_t n = read(fds[0], out, cap - 1);
    out[n > 0 ? n : 0] = '\0';
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child failed: %s", out);
}

Test(memory_block, kernel_refusals_are_explained)
{
    char msg[1024];
    reserve_limited(RLIMIT_AS, 1ull << 30, 0, 64 * LL_GIB, msg, sizeof msg);
    cr_assert_str_eq(msg, "cannot reserve 64 GiB: Cannot allocate memory (try: a smaller size, "
                          "or check ulimit -v)");
    uint64_t at = free_range(4 * LL_GIB, LL_MIB);
    char want[256];
    reserve_limited(RLIMIT_AS, 1ull << 30, at, 4 * LL_GIB, msg, sizeof msg);
    snprintf(want, sizeof want,
             "cannot reserve 4 GiB at 0x%llx: Cannot allocate memory (try: a smaller size, or "
             "check ulimit -v)",
             (unsigned long long)at);
    cr_assert_str_eq(msg, want);
    /* No file is created at reserve time: no open-file or file-size limit
     * applies (the memfd errors are tested at the first snapshot). */
    reserve_limited(RLIMIT_NOFILE, 0, 0, LL_MIB, msg, sizeof msg);
    cr_assert_str_eq(msg, "reserved");
    reserve_limited(RLIMIT_FSIZE, LL_MIB, 0, 16 * LL_MIB, msg, sizeof msg);
    cr_assert_str_eq(msg, "reserved");
}

Test(memory_block, name_is_kept_for_the_memfd)
{
    ll_error err;
    ll_block b;
    cr_assert_eq(ll_block_reserve(&b, &err, .size = LL_MIB), 0, "%s", err.msg);
    cr_assert_str_eq(b.name, "looplive", "the default name");
    ll_block_release(&b);
    cr_assert_str_eq(b.name, "");
    char name[LL_BLOCK_NAME_MAX + 1];
    memset(name, 'n', sizeof name - 1);
    name[LL_BLOCK_NAME_MAX - 1] = '\0';
    cr_assert_eq(ll_block_reserve(&b, &err, .size = LL_MIB, .name = name), 0, "%s", err.msg);
    cr_assert_str_eq(b.name, name, "the longest name that fits");
    ll_block_release(&b);
    name[LL_BLOCK_NAME_MAX - 1] = 'n';
    name[LL_BLOCK_NAME_MAX] = '\0';
    cr_assert_eq(ll_block_reserve(&b, &err, .size = LL_MIB, .name = name), -1);
    cr_assert_eq(err.code, EINVAL);
    cr_assert_str_eq(err.msg,
                     "block name 'nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn...' is 64 bytes, "
                     "longer than 63 (it names the block's memfd in /proc/PID/maps)");
    cr_assert_null(b.base);
}
