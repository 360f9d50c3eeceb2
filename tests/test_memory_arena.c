/* test_memory_arena.c - arenas inside the block: layout, push alignment,
 * zeroing, exhaustion, temporary scopes, guard pages, the table surviving a
 * copy of the block, and the describe text. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "memory/memory.h"

static ll_block block;
static ll_error err;

static void reserve_16m(void)
{
    cr_assert_eq(ll_block_reserve(&block, &err, .size = 16 * LL_MIB, .name = "arena-test"), 0, "%s",
                 err.msg);
}

static void release(void)
{
    ll_block_release(&block);
}

static uint64_t header_size(void)
{
    return ll_align_up(sizeof(memory_header), ll_page_size_get());
}

TestSuite(memory_arena, .init = reserve_16m, .fini = release);

Test(memory_arena, partitions_follow_the_header)
{
    ll_arena *perm = ll_arena_create(&block, "permanent", 100 * LL_KIB, &err, .guard = -1);
    cr_assert_not_null(perm, "%s", err.msg);
    ll_arena *trans = ll_arena_create(&block, "transient", 0, &err, .guard = -1);
    cr_assert_not_null(trans, "%s", err.msg);
    cr_assert_eq(perm->begin, block.base + header_size());
    cr_assert_eq(perm->capacity, ll_align_up(100 * LL_KIB, ll_page_size_get()));
    cr_assert_eq(trans->begin, perm->begin + perm->capacity);
    cr_assert_eq(trans->begin + trans->capacity, block.base + block.size, "0 takes the rest");
    cr_assert_str_eq(perm->name, "permanent");
    cr_assert_eq(perm->parent, -1);
    cr_assert_eq(ll_block_arena_find(&block, "transient"), trans);
    cr_assert_null(ll_block_arena_find(&block, "nothing"));
    cr_assert_eq(ll_block_arena_get(&block, 0), perm);
    cr_assert_eq(ll_block_arena_get(&block, 1), trans);
    cr_assert_null(ll_block_arena_get(&block, 2));
}

Test(memory_arena, create_errors)
{
    cr_assert_not_null(ll_arena_create(&block, "permanent", LL_MIB, &err, .guard = -1));
    cr_assert_null(ll_arena_create(&block, "permanent", LL_MIB, &err));
    cr_assert_eq(err.code, EEXIST);
    cr_assert_str_eq(
        err.msg, "arena 'permanent' already exists (try: ll_block_arena_find to find it again)");
    cr_assert_null(ll_arena_create(&block, "a-name-that-is-far-too-long-for-it", LL_MIB, &err));
    cr_assert_str_eq(
        err.msg, "arena name 'a-name-that-is-far-too-long-for-it' is longer than 31 characters");
    cr_assert_null(ll_arena_create(&block, "", LL_MIB, &err));
    cr_assert_str_eq(err.msg, "an arena needs a name");
    cr_assert_null(ll_arena_create(&block, "huge", 20 * LL_MIB, &err));
    cr_assert_eq(err.code, ENOSPC);
    char want[256];
    char left[32];
    ll_size_format(15 * LL_MIB - header_size(), left, sizeof left);
    snprintf(want, sizeof want,
             "cannot create arena 'huge' of 20 MiB: the block has %s left of 16 MiB (try: a larger "
             "block or a smaller arena)",
             left);
    cr_assert_str_eq(err.msg, want);
    cr_assert_null(ll_block_arena_find(&block, "huge"), "a failed create left a record");
    ll_block none = {0};
    cr_assert_null(ll_arena_create(&none, "x", LL_MIB, &err));
    cr_assert_str_eq(err.msg, "the block is not reserved (call ll_block_reserve first)");
}

Test(memory_arena, table_full)
{
    char name[16];
    for (int i = 0; i < LL_BLOCK_MAX_ARENAS; i++) {
        snprintf(name, sizeof name, "a%d", i);
        cr_assert_not_null(ll_arena_create(&block, name, 4096, &err, .guard = -1), "%s", err.msg);
    }
    cr_assert_null(ll_arena_create(&block, "one-more", 4096, &err));
    cr_assert_str_eq(err.msg,
                     "cannot create arena 'one-more': the block's table is full (64 arenas)");
}

Test(memory_arena, block_too_small_or_dirty)
{
    ll_block small;
    cr_assert_eq(ll_block_reserve(&small, &err, .size = ll_page_size_get()), 0);
    cr_assert_null(ll_arena_create(&small, "x", 0, &err));
    cr_assert_str_eq(err.msg,
                     "a block of 4 KiB is too small for arenas: the table alone takes 12 KiB");
    ll_block_release(&small);

    block.base[100] = 1;
    cr_assert_null(ll_arena_create(&block, "x", 0, &err));
    cr_assert(strstr(err.msg, "holds data but no arena table"), "%s", err.msg);
}

Test(memory_arena, every_push_is_aligned_and_inside)
{
    ll_arena *a = ll_arena_create(&block, "scratch", 8 * LL_MIB, &err, .guard = -1);
    cr_assert_not_null(a);
    uint8_t *last_end = a->begin;
    unsigned seed = 12345;
    for (int i = 0; i < 5000; i++) {
        seed = seed * 1103515245u + 12345u;
        uint64_t size = 1 + (seed >> 8) % 300;
        uint64_t align = 1ull << ((seed >> 20) % 13); /* 1 .. 4096 */
        uint8_t *p = ll_arena_push(a, size, .align = align, .err = &err);
        cr_assert_not_null(p, "push %d: %s", i, err.msg);
        cr_assert_eq((uintptr_t)p % align, 0, "push %d of %llu B misaligned for %llu", i,
                     (unsigned long long)size, (unsigned long long)align);
        cr_assert_geq(p, last_end, "push %d overlaps the previous one", i);
        cr_assert_leq(p + size, a->begin + a->capacity);
        last_end = p + size;
        memset(p, 0xab, size);
    }
    cr_assert_eq(a->used, (uint64_t)(last_end - a->begin));
    void *d = ll_arena_push(a, 3);
    cr_assert_eq((uintptr_t)d % 16, 0, "default alignment is 16");
    typedef struct {
        _Alignas(64) char line[64];
    } cache_line;
    cache_line *c = ll_arena_push_array(a, cache_line, 3);
    cr_assert_eq((uintptr_t)c % 64, 0);
    double *x = ll_arena_push_array(a, double, 5, .align = 256);
    cr_assert_eq((uintptr_t)x % 256, 0, "the larger of .align and the type's wins");
}

Test(memory_arena, bad_alignment_and_overflowing_arrays)
{
    ll_arena *a = ll_arena_create(&block, "scratch", LL_MIB, &err, .guard = -1);
    cr_assert_null(ll_arena_push(a, 10, .align = 24, .err = &err));
    cr_assert_str_eq(err.msg,
                     "cannot push 10 B to arena 'scratch': alignment 24 is not a power of two");
    cr_assert_null(ll_arena_push_array(a, uint64_t, 1ull << 62, .err = &err));
    cr_assert_str_eq(
        err.msg, "cannot push 4611686018427387904 x 8 B to arena 'scratch': the size overflows");
    cr_assert_eq(a->used, 0);
}

Test(memory_arena, zeroing)
{
    ll_arena *a = ll_arena_create(&block, "scratch", LL_MIB, &err, .guard = -1);
    uint64_t start = ll_arena_pos_get(a);
    uint8_t *p = ll_arena_push(a, 4000);
    memset(p, 0xff, 4000);
    ll_arena_pop_to(a, start);
    uint8_t *q = ll_arena_push(a, 4000);
    cr_assert_eq(q, p);
    cr_assert_eq(q[1234], 0xff, "without .zero the old bytes stay");
    ll_arena_pop_to(a, start);
    uint8_t *z = ll_arena_push(a, 4000, .zero = 1);
    cr_assert_eq(z, p);
    for (int i = 0; i < 4000; i++) cr_assert_eq(z[i], 0, "byte %d not zeroed", i);
}

Test(memory_arena, exhaustion_is_an_error_with_the_numbers)
{
    ll_arena *a = ll_arena_create(&block, "small", 4096, &err, .guard = -1);
    cr_assert_not_null(ll_arena_push(a, 4000));
    uint64_t before = a->used;
    cr_assert_null(ll_arena_push(a, 200, .err = &err));
    cr_assert_eq(err.code, ENOMEM);
    cr_assert_str_eq(err.msg,
                     "arena 'small' is full: asked for 200 B (align 16), 96 B available of 4 KiB");
    cr_assert_eq(a->used, before, "a failed push moved the position");
    cr_assert_null(ll_arena_push(a, UINT64_MAX, .err = &err));
    cr_assert(strstr(err.msg, "is full: asked for 16.0 EiB"), "%s", err.msg);
    cr_assert_null(ll_arena_push(a, 96, .align = 4096, .err = &err));
    cr_assert_str_eq(err.msg,
                     "arena 'small' is full: asked for 96 B (align 4096), 0 B available of 4 KiB");
    cr_assert_not_null(ll_arena_push(a, 96, .align = 16), "exactly what is left fits");
    cr_assert_eq(a->used, 4096);
}

/* The library never prints: without .err and without a hook, a push that
 * does not fit returns NULL and says nothing. */
Test(memory_arena, exhaustion_without_err_prints_nothing, .init = cr_redirect_stderr)
{
    reserve_16m();
    ll_arena *a = ll_arena_create(&block, "small", 4096, &err, .guard = -1);
    cr_assert_null(ll_arena_push(a, 5000));
    fflush(stderr);
    cr_assert_stderr_eq_str("");
}

typedef struct hook_log {
    int calls;
    uint64_t requested, available;
    ll_arena *arena;
    int make_room;
} hook_log;

static int on_full(ll_arena *arena, uint64_t requested, uint64_t available, void *ctx)
{
    hook_log *log = ctx;
    log->calls++;
    log->arena = arena;
    log->requested = requested;
    log->available = available;
    if (log->make_room) ll_arena_clear(arena);
    return log->make_room;
}

Test(memory_arena, full_hook_is_called_and_can_make_room)
{
    hook_log log = {0};
    cr_assert_eq(ll_block_on_full_set(&block, on_full, &log, &err), 0, "%s", err.msg);
    ll_arena *a = ll_arena_create(&block, "small", 4096, &err, .guard = -1);
    ll_arena_push(a, 4000);
    cr_assert_null(ll_arena_push(a, 500, .err = &err));
    cr_assert_eq(log.calls, 1);
    cr_assert_eq(log.arena, a);
    cr_assert_eq(log.requested, 500);
    cr_assert_eq(log.available, 96);
    log.make_room = 1;
    uint8_t *p = ll_arena_push(a, 500, .err = &err);
    cr_assert_eq(p, a->begin, "the retry after the hook cleared the arena");
    cr_assert_eq(log.calls, 2);

    /* A forked child is another process: the hook is not its own. */
    pid_t pid = fork();
    if (pid == 0) {
        ll_arena_clear(a);
        ll_arena_push(a, 4000);
        void *q = ll_arena_push(a, 500, .err = &err);
        _exit(q == NULL && log.calls == 2 ? 0 : 1);
    }
    int status;
    waitpid(pid, &status, 0);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child ran the parent's hook");
}

Test(memory_arena, temporary_scopes_nest)
{
    ll_arena *a = ll_arena_create(&block, "frame", LL_MIB, &err, .guard = -1);
    ll_arena_push(a, 100);
    uint64_t outer_pos = ll_arena_pos_get(a);
    ll_arena_temp outer = ll_arena_temp_begin(a);
    ll_arena_push(a, 1000);
    ll_arena_temp inner = ll_arena_temp_begin(a);
    uint8_t *in = ll_arena_push(a, 5000);
    cr_assert_eq(a->high_water, (uint64_t)(in + 5000 - a->begin));
    ll_arena_temp_end(inner);
    cr_assert_eq(ll_arena_pos_get(a), inner.pos);
    uint8_t *again = ll_arena_push(a, 10);
    cr_assert_eq(again, in, "the inner scope's memory is reused");
    ll_arena_temp_end(outer);
    cr_assert_eq(ll_arena_pos_get(a), outer_pos);
    cr_assert_eq(a->high_water, (uint64_t)(in + 5000 - a->begin), "the high-water mark stays");
    ll_arena_pop_to(a, outer_pos + 4096);
    cr_assert_eq(ll_arena_pos_get(a), outer_pos, "pop_to never moves up");
    ll_arena_clear(a);
    cr_assert_eq(ll_arena_pos_get(a), 0);
}

Test(memory_arena, sub_arenas_carve_their_parent)
{
    ll_arena *perm = ll_arena_create(&block, "permanent", LL_MIB, &err, .guard = -1);
    ll_arena_push(perm, 10);
    ll_arena *ents = ll_arena_create(&block, "entities", 64 * LL_KIB, &err, .parent = perm);
    cr_assert_not_null(ents, "%s", err.msg);
    cr_assert(ents->flags & LL_ARENA_SUB);
    cr_assert_eq(ents->parent, (int32_t)perm->index);
    cr_assert_eq((uintptr_t)ents->begin % 64, 0);
    cr_assert_geq(ents->begin, perm->begin + 10);
    cr_assert_eq(ents->guard_size, 0, "guards are for partitions");
    cr_assert_eq(perm->used, (uint64_t)(ents->begin + ents->capacity - perm->begin));
    cr_assert_str_eq(ll_block_owner_get(&block, (uint64_t)(ents->begin - block.base) + 5),
                     "entities");
    cr_assert_str_eq(ll_block_owner_get(&block, (uint64_t)(perm->begin - block.base)), "permanent");
    ll_arena *rest = ll_arena_create(&block, "rest", 0, &err, .parent = perm);
    cr_assert_not_null(rest);
    cr_assert_eq(rest->begin + rest->capacity, perm->begin + perm->capacity);
    cr_assert_null(ll_arena_create(&block, "more", 4096, &err, .parent = perm));
    cr_assert_str_eq(
        err.msg,
        "cannot create arena 'more' of 4 KiB inside 'permanent': it has 0 B free of 1 MiB");
}

Test(memory_arena, arena_at_names_every_part)
{
    cr_assert_str_eq(ll_block_owner_get(&block, 0), "unallocated", "no header yet");
    ll_arena *a = ll_arena_create(&block, "permanent", 8192, &err, .guard = 1);
    ll_arena *b = ll_arena_create(&block, "transient", 8192, &err, .guard = -1);
    uint64_t a_off = (uint64_t)(a->begin - block.base);
    uint64_t b_off = (uint64_t)(b->begin - block.base);
    cr_assert_str_eq(ll_block_owner_get(&block, 0), "block header");
    cr_assert_str_eq(ll_block_owner_get(&block, header_size() - 1), "block header");
    cr_assert_str_eq(ll_block_owner_get(&block, a_off), "permanent");
    cr_assert_str_eq(ll_block_owner_get(&block, a_off + 8191), "permanent");
    cr_assert_str_eq(ll_block_owner_get(&block, a_off + 8192), "guard page");
    cr_assert_eq(b_off, a_off + 8192 + ll_page_size_get());
    cr_assert_str_eq(ll_block_owner_get(&block, b_off + 100), "transient");
    cr_assert_str_eq(ll_block_owner_get(&block, b_off + 8192), "unallocated");
    cr_assert_str_eq(ll_block_owner_get(&block, block.size), "outside the block");
}

Test(memory_arena, debug_builds_get_guards_by_default)
{
    /* This test is compiled without NDEBUG. */
    ll_arena *a = ll_arena_create(&block, "permanent", 8192, &err);
    cr_assert(a->flags & LL_ARENA_GUARDED);
    cr_assert_eq(a->guard_size, ll_page_size_get());
    ll_arena *b = ll_arena_create_(&block, "release", 8192, &err, 0, &(ll_arena_params){0});
    cr_assert_eq(b->guard_size, 0, "a release build gets none unless asked");
    ll_arena *c = ll_arena_create_(&block, "asked", 8192, &err, 0, &(ll_arena_params){.guard = 1});
    cr_assert_eq(c->guard_size, ll_page_size_get());
}

/* Whether a child died of its fault: SIGSEGV's default action, or, under
 * AddressSanitizer, its SEGV handler's exit (the fault dispatcher passes a
 * fault on to the handler that was there before, as it would have run
 * without looplive). */
static int died_of_fault(int status)
{
#if defined(__SANITIZE_ADDRESS__)
    if (WIFEXITED(status)) return WEXITSTATUS(status) != 0;
#endif
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV;
}

/* Runs fn in a child with stderr into a pipe; returns the child's status and
 * what it printed. */
static int in_child(void (*fn)(void), char *out, size_t cap)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        fn();
        _exit(0);
    }
    close(fds[1]);
    /* Drain it all (a long report must not die of SIGPIPE), keep the start. */
    size_t len = 0;
    ssize_t n;
    char chunk[4096];
    while ((n = read(fds[0], chunk, sizeof chunk)) > 0) {
        size_t keep = len + 1 < cap ? cap - 1 - len : 0;
        if (keep > (size_t)n) keep = (size_t)n;
        memcpy(out + len, chunk, keep);
        len += keep;
    }
    out[len] = '\0';
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    return status;
}

static void overrun_permanent(void)
{
    ll_arena *a = ll_block_arena_find(&block, "permanent");
    volatile uint8_t *p = a->begin;
    for (uint64_t i = 0; i <= a->capacity; i++) p[i] = 1; /* one byte too far */
}

Test(memory_arena, guard_page_fault_names_the_partition)
{
    ll_arena *a = ll_arena_create(&block, "permanent", 8192, &err, .guard = 1);
    cr_assert_not_null(a, "%s", err.msg);
    ll_arena_create(&block, "transient", 0, &err, .guard = 1);
    char out[512], want[256];
    int status = in_child(overrun_permanent, out, sizeof out);
    cr_assert(died_of_fault(status), "status %#x, said: %s", status, out);
    uint64_t begin = (uint64_t)(uintptr_t)a->begin;
    snprintf(want, sizeof want,
             "looplive: guard page hit at 0x%llx: ran past the end of arena 'permanent' "
             "(0x%llx-0x%llx)\n",
             (unsigned long long)(begin + 8192), (unsigned long long)begin,
             (unsigned long long)(begin + 8192));
    cr_assert(strstr(out, want), "got: %s", out);
    a->begin[8191] = 2; /* the parent is untouched and can still write its arena */
}

static void ordinary_segv(void)
{
    volatile uint8_t *p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    p[10] = 1;
}

Test(memory_arena, other_faults_are_not_blamed_on_guards)
{
    ll_arena_create(&block, "permanent", 8192, &err, .guard = 1);
    char out[512];
    int status = in_child(ordinary_segv, out, sizeof out);
    /* Passed on to the handler that was there before (ASan's exits 1) or to
     * the default action. */
    cr_assert(WIFSIGNALED(status) ? WTERMSIG(status) == SIGSEGV : WEXITSTATUS(status) != 0,
              "status %#x", status);
    cr_assert_null(strstr(out, "guard page hit"), "got: %s", out);
}

Test(memory_arena, the_table_travels_with_the_bytes)
{
    ll_arena *perm = ll_arena_create(&block, "permanent", LL_MIB, &err, .guard = 1);
    ll_arena_create(&block, "transient", 0, &err, .guard = -1);
    uint64_t **head = ll_arena_push(perm, sizeof *head);
    *head = ll_arena_push(perm, sizeof **head);
    **head = 42;
    uint64_t used = perm->used;

    /* Save the bytes (not the guard pages: they cannot be read), drop the
     * block, reserve it again at the same address as a new process would,
     * and load the bytes back. */
    uint64_t table = memory_header_of(&block)->header_size;
    uint64_t perm_at = (uint64_t)(perm->begin - block.base), perm_size = perm->capacity;
    uint8_t *saved = malloc(perm_at + perm_size);
    memcpy(saved, block.base, table);
    memcpy(saved + perm_at, perm->begin, perm_size);
    void *at = block.base;
    ll_block_release(&block);
    cr_assert_eq(ll_block_reserve(&block, &err, .base = at, .size = 16 * LL_MIB), 0, "%s", err.msg);
    memcpy(block.base, saved, table);
    memcpy(block.base + perm_at, saved + perm_at, perm_size);
    free(saved);
    cr_assert_eq(ll_block_attach(&block, &err), 0, "%s", err.msg);

    ll_arena *again = ll_block_arena_find(&block, "permanent");
    cr_assert_not_null(again);
    cr_assert_eq(again->used, used);
    uint64_t **head2 = (uint64_t **)again->begin;
    cr_assert_eq(**head2, 42, "a pointer stored in the block still points at its data");
    uint64_t *more = ll_arena_push(again, 8);
    cr_assert_eq((uint8_t *)more, again->begin + ll_align_up(used, 16), "pushing continues");
    unsigned char vec;
    cr_assert_eq(mincore(again->begin + again->capacity, ll_page_size_get(), &vec), 0);
    cr_assert_str_eq(
        ll_block_owner_get(&block, (uint64_t)(again->begin + again->capacity - block.base)),
        "guard page");
    char out[256];
    int status = in_child(overrun_permanent, out, sizeof out);
    cr_assert(died_of_fault(status), "attach did not arm the guard page");
}

Test(memory_arena, attach_refuses_a_table_from_another_address)
{
    cr_assert_eq(ll_block_attach(&block, &err), 0, "a fresh block has nothing to attach");
    ll_arena_create(&block, "permanent", LL_MIB, &err, .guard = -1);
    memory_header *h = memory_header_of(&block);
    h->base += LL_GIB;
    cr_assert_eq(ll_block_attach(&block, &err), -1);
    char want[300];
    snprintf(want, sizeof want,
             "the block's arena table was made for a block at 0x%llx, but this block is at "
             "0x%llx: pointers into it would be wrong (try: reserve at 0x%llx)",
             (unsigned long long)h->base, (unsigned long long)(uintptr_t)block.base,
             (unsigned long long)h->base);
    cr_assert_str_eq(err.msg, want);
    cr_assert_null(ll_arena_create(&block, "x", 4096, &err), "create checks the header too");
    h->base -= LL_GIB;
    h->version = 9;
    cr_assert_eq(ll_block_attach(&block, &err), -1);
    cr_assert_str_eq(err.msg, "the block's arena table is version 9; this library reads 1");
    h->version = MEMORY_VERSION;
    h->size = 32 * LL_MIB;
    cr_assert_eq(ll_block_attach(&block, &err), -1);
    cr_assert_str_eq(err.msg, "the block's arena table needs 32 MiB but the block has 16 MiB");
    ll_block none = {0};
    cr_assert_eq(ll_block_attach(&none, &err), -1);
    cr_assert_str_eq(err.msg, "the block is not reserved (call ll_block_reserve first)");
}

Test(memory_arena, prefault_and_committed)
{
    ll_arena *a = ll_arena_create(&block, "hot", 256 * LL_KIB, &err, .guard = -1, .prefault = 1);
    cr_assert(a->flags & LL_ARENA_PREFAULT);
    cr_assert_eq(a->committed, a->capacity);
    unsigned char vec[64];
    cr_assert_eq(mincore(a->begin, a->capacity, vec), 0);
    for (int i = 0; i < 64; i++) cr_assert_eq(vec[i] & 1, 1, "page %d not resident", i);
    ll_arena *b = ll_arena_create(&block, "lazy", LL_MIB, &err, .guard = -1);
    cr_assert_eq(b->committed, 0);
    ll_arena_push(b, 5000);
    cr_assert_eq(b->committed, 8192, "commit grows a page at a time with the pushes");
    ll_arena_clear(b);
    cr_assert_eq(b->committed, 8192);
    cr_assert_eq(ll_block_committed_get(&block), header_size() + a->capacity + 8192);
}

Test(memory_arena, describe_lists_every_arena)
{
    ll_arena *perm = ll_arena_create(&block, "permanent", LL_MIB, &err, .guard = 1);
    ll_arena_push(perm, 300 * LL_KIB);
    ll_arena_create(&block, "entities", 64 * LL_KIB, &err, .parent = perm);
    ll_arena_create(&block, "transient", 4 * LL_MIB, &err, .guard = -1);
    char buf[2048];
    size_t n = ll_block_describe_str(&block, buf, sizeof buf);
    cr_assert_eq(n, strlen(buf));
    char want[256];
    uint64_t base = (uint64_t)(uintptr_t)block.base;
    snprintf(want, sizeof want, "block 0x%llx-0x%llx 16 MiB, committed ", (unsigned long long)base,
             (unsigned long long)(base + 16 * LL_MIB));
    cr_assert(strstr(buf, want) == buf, "%s", buf);
    cr_assert(strstr(buf, ", anonymous, 3 arenas\n"), "%s", buf);
    cr_assert(strstr(buf, "  block header"), "%s", buf);
    snprintf(want, sizeof want,
             "  permanent            0x%llx  used 364 KiB of 1 MiB (35%%), high water 364 KiB, "
             "committed 364 KiB, guard page\n",
             (unsigned long long)(uintptr_t)perm->begin);
    cr_assert(strstr(buf, want), "%s", buf);
    cr_assert(strstr(buf, "    entities           0x"), "%s", buf);
    cr_assert(strstr(buf, "used 0 B of 64 KiB (0%), high water 0 B, committed 0 B, in permanent\n"),
              "%s", buf);
    cr_assert(strstr(buf, "  transient"), "%s", buf);
    cr_assert(strstr(buf, "  unallocated"), "%s", buf);

    char tiny[10];
    cr_assert_eq(ll_block_describe_str(&block, tiny, sizeof tiny), n, "returns the full length");
    cr_assert_eq(strlen(tiny), 9);

    FILE *f = tmpfile();
    cr_assert_eq(ll_block_describe(&block, f), 0);
    cr_assert_eq((size_t)ftell(f), n);
    fclose(f);
    ll_block none = {0};
    cr_assert_eq(ll_block_describe_str(&none, buf, sizeof buf), strlen("block: not reserved\n"));
}

Test(memory_arena, huge_page_blocks_hold_arenas_too)
{
    ll_block huge;
    cr_assert_eq(ll_block_reserve(&huge, &err, .size = 4 * LL_MIB, .huge_pages = 1), 0);
    ll_arena *a = ll_arena_create(&huge, "permanent", 0, &err, .guard = -1);
    cr_assert_not_null(a, "%s", err.msg);
    cr_assert_not_null(ll_arena_push(a, LL_MIB, .zero = 1));
    char buf[1024];
    ll_block_describe_str(&huge, buf, sizeof buf);
    cr_assert(strstr(buf, ", anonymous"), "%s", buf);
    ll_block_release(&huge);
}

/* Setting a hook writes nothing into the block (no arena table): a host
 * sets one on every block, also on one whose state starts at its base. */
Test(memory_arena, on_full_leaves_the_block_alone)
{
    reserve_16m();
    cr_assert_eq(ll_block_on_full_set(&block, on_full, NULL, &err), 0, "%s", err.msg);
    cr_assert_eq(ll_block_committed_get(&block), 0);
    for (size_t i = 0; i < 4096; i++) cr_assert_eq(block.base[i], 0, "byte %zu", i);
    cr_assert_eq(ll_block_on_full_set(&block, NULL, NULL, &err), 0, "%s", err.msg);
}

Test(memory_arena, on_full_needs_a_block)
{
    ll_block none = {0};
    cr_assert_eq(ll_block_on_full_set(&none, on_full, NULL, &err), -1);
    cr_assert_str_eq(err.msg, "the block is not reserved (call ll_block_reserve first)");
}

Test(memory_arena, parent_from_another_block)
{
    ll_block other;
    cr_assert_eq(ll_block_reserve(&other, &err, .size = LL_MIB), 0);
    ll_arena *theirs = ll_arena_create(&other, "theirs", 0, &err, .guard = -1);
    cr_assert_not_null(theirs, "%s", err.msg);
    cr_assert_null(ll_arena_create(&block, "mine", 4096, &err, .parent = theirs));
    cr_assert_str_eq(err.msg, "cannot create arena 'mine' inside 'theirs': it is in another block");
    ll_block_release(&other);
}

Test(memory_arena, guard_and_attach_failures_from_the_kernel)
{
    ll_arena *a = ll_arena_create(&block, "first", 8192, &err, .guard = -1);
    /* Unmap the page where the next arena's guard page would go. */
    uint8_t *hole = a->begin + 8192 + 4096;
    cr_assert_eq(munmap(hole, 4096), 0);
    cr_assert_null(ll_arena_create(&block, "second", 4096, &err, .guard = 1));
    cr_assert_str_eq(err.msg,
                     "cannot protect the guard page after arena 'second': Cannot allocate memory");
    cr_assert_eq(ll_block_attach(&block, &err), -1);
    cr_assert_str_eq(err.msg, "cannot unprotect the block: Cannot allocate memory");
}

Test(memory_arena, at_most_16_guarded_blocks)
{
    ll_block many[17];
    int made = 0;
    for (; made < 17; made++) {
        cr_assert_eq(ll_block_reserve(&many[made], &err, .size = LL_MIB), 0);
        if (!ll_arena_create(&many[made], "guarded", 4096, &err, .guard = 1)) break;
    }
    /* The suite's own block has no guards yet: 16 fit, the 17th does not. */
    cr_assert_eq(made, 16);
    cr_assert_str_eq(err.msg, "cannot guard more than 16 blocks at once (try: .guard = -1)");
    for (int i = 0; i <= made; i++) ll_block_release(&many[i]);
    ll_block again;
    cr_assert_eq(ll_block_reserve(&again, &err, .size = LL_MIB), 0);
    cr_assert_not_null(ll_arena_create(&again, "guarded", 4096, &err, .guard = 1),
                       "release gives the slot back: %s", err.msg);
    ll_block_release(&again);
}

static void underrun_permanent(void)
{
    ll_arena *a = ll_block_arena_find(&block, "permanent");
    volatile uint8_t *p = a->begin;
    p[-1] = 1;
}

Test(memory_arena, a_guard_keeps_underruns_out_of_the_table)
{
    ll_arena *a = ll_arena_create(&block, "permanent", 8192, &err, .guard = 1);
    cr_assert_not_null(a, "%s", err.msg);
    cr_assert_eq(a->begin, block.base + header_size() + ll_page_size_get());
    cr_assert_str_eq(ll_block_owner_get(&block, header_size()), "guard page");
    char out[512], want[256];
    int status = in_child(underrun_permanent, out, sizeof out);
    cr_assert(died_of_fault(status), "status %#x: %s", status, out);
    uint64_t begin = (uint64_t)(uintptr_t)a->begin;
    snprintf(want, sizeof want,
             "looplive: guard page hit at 0x%llx: ran before the start of arena 'permanent' "
             "(0x%llx-0x%llx)\n",
             (unsigned long long)(begin - 1), (unsigned long long)begin,
             (unsigned long long)(begin + 8192));
    cr_assert(strstr(out, want), "got: %s", out);

    cr_assert_eq(ll_block_attach(&block, &err), 0, "%s", err.msg);
    status = in_child(underrun_permanent, out, sizeof out);
    cr_assert(died_of_fault(status), "attach did not re-arm the guard after the header");
}

Test(memory_arena, header_guard_failure_from_the_kernel)
{
    /* Write the header, then unmap the page its guard would take. */
    cr_assert_eq(ll_block_on_full_set(&block, NULL, NULL, &err), 0, "%s", err.msg);
    cr_assert_eq(munmap(block.base + header_size(), ll_page_size_get()), 0);
    cr_assert_null(ll_arena_create(&block, "permanent", 8192, &err, .guard = 1));
    cr_assert_str_eq(
        err.msg, "cannot protect the guard page after the block header: Cannot allocate memory");
}

Test(memory_arena, check_table_before_bytes_come_in)
{
    cr_assert_not_null(ll_arena_create(&block, "one", 8192, &err, .guard = 1), "%s", err.msg);
    cr_assert_not_null(ll_arena_create(&block, "two", 8192, &err, .guard = -1), "%s", err.msg);
    memory_header copy = *(memory_header *)block.base;
    cr_assert_eq(ll_block_table_check(&block, &copy, sizeof copy, &err), 0, "%s", err.msg);
    /* No table at all: raw bytes pass. */
    uint8_t raw[64] = {1, 2, 3};
    cr_assert_eq(ll_block_table_check(&block, raw, sizeof raw, &err), 0, "%s", err.msg);
    cr_assert_eq(ll_block_table_check(&block, &copy, 100, &err), -1);
    cr_assert_str_eq(err.msg, "the block's arena table is corrupted: it is cut short (arena 0) "
                              "(try: a file saved by looplive from this application)");
    copy.arenas[1].begin += 16;
    copy.arenas[1].capacity -= 4096;
    cr_assert_eq(ll_block_table_check(&block, &copy, sizeof copy, &err), -1);
    cr_assert(strstr(err.msg, "is not page aligned (arena 1)"), "%s", err.msg);
    copy = *(memory_header *)block.base;
    copy.arenas[0].index = 7;
    cr_assert_eq(ll_block_table_check(&block, &copy, sizeof copy, &err), -1);
    cr_assert(strstr(err.msg, "has the wrong index (arena 0)"), "%s", err.msg);
    copy = *(memory_header *)block.base;
    copy.header_size = 4096;
    cr_assert_eq(ll_block_table_check(&block, &copy, sizeof copy, &err), -1);
    cr_assert(strstr(err.msg, "its header size is wrong"), "%s", err.msg);
    copy = *(memory_header *)block.base;
    copy.version = 9;
    cr_assert_eq(ll_block_table_check(&block, &copy, sizeof copy, &err), -1);
    cr_assert_str_eq(err.msg, "the block's arena table is version 9; this library reads 1");
    ll_block none = {0};
    cr_assert_eq(ll_block_table_check(&none, &copy, sizeof copy, &err), -1);
    cr_assert(strstr(err.msg, "the block is not reserved"), "%s", err.msg);
}

Test(memory_arena, sub_arena_checks)
{
    ll_arena *p = ll_arena_create(&block, "parent", 16384, &err, .guard = -1);
    cr_assert_not_null(ll_arena_create(&block, "child", 4096, &err, .parent = p), "%s", err.msg);
    memory_header copy = *(memory_header *)block.base;
    cr_assert_eq(ll_block_table_check(&block, &copy, sizeof copy, &err), 0, "%s", err.msg);
    copy.arenas[1].guard_size = 4096;
    cr_assert_eq(ll_block_table_check(&block, &copy, sizeof copy, &err), -1);
    cr_assert(strstr(err.msg, "is a sub-arena with a guard (arena 1)"), "%s", err.msg);
    copy = *(memory_header *)block.base;
    copy.arenas[1].capacity = 1 << 20;
    cr_assert_eq(ll_block_table_check(&block, &copy, sizeof copy, &err), -1);
    cr_assert(strstr(err.msg, "ends outside the block (arena 1)"), "%s", err.msg);
}
