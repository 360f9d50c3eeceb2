/* test_snapshot_file.c - save, load in another process, refusals, verify,
 * kill during save. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <xxhash.h>

#include "snapshot/helpers.h"
#include "memory/memory.h"
#include "snapshot/snapshot.h"

#define MIB (1ull << 20)

/* A per-test scratch directory under /tmp. */
static char dir[64];
static char path[128];

static void scratch(void)
{
    snprintf(dir, sizeof dir, "/tmp/ll-snap-test-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/state.llsnap", dir);
}

static void cleanup(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

/* ---- a linked structure across two arenas ----------------------------- */

typedef struct node {
    struct node *next; /* list, in arena "nodes" */
    struct node *left; /* tree, in arena "nodes" */
    struct node *right;
    struct blob *blob; /* into arena "blobs" */
    uint64_t key;
} node;

typedef struct blob {
    struct node *owner; /* back into arena "nodes" */
    char text[40];
} blob;

typedef struct root {
    node *list;
    node *tree;
    uint64_t count;
} root;

static node *tree_insert(node *t, node *n)
{
    if (!t) return n;
    if (n->key < t->key)
        t->left = tree_insert(t->left, n);
    else
        t->right = tree_insert(t->right, n);
    return t;
}

/* Builds the structure with the memory layer's arenas (guard pages after
 * each): the root in "root", nodes in "nodes", blobs in "blobs". */
static int build(ll_block *b, uint64_t count)
{
    ll_error err;
    ll_arena *ra = ll_arena_create(b, "root", 4096, &err, .guard = 1);
    ll_arena *na = ll_arena_create(b, "nodes", 8 << 20, &err, .guard = 1);
    ll_arena *ba = ll_arena_create(b, "blobs", 8 << 20, &err, .guard = 1);
    if (!ra || !na || !ba) return -1;
    root *r = ll_arena_push(ra, sizeof *r, .zero = 1);
    uint64_t s = 12345;
    for (uint64_t i = 0; i < count; i++) {
        node *n = ll_arena_push(na, sizeof *n, .zero = 1);
        blob *bl = ll_arena_push(ba, sizeof *bl, .zero = 1);
        if (!n || !bl) return -1;
        *n = (node){.next = r->list, .blob = bl, .key = rng_next(&s) % 1000000};
        bl->owner = n;
        snprintf(bl->text, sizeof bl->text, "node %llu", (unsigned long long)i);
        r->list = n;
        r->tree = tree_insert(r->tree, n);
        r->count++;
    }
    return 0;
}

static int in_arena(const ll_arena *a, const void *p)
{
    return (const uint8_t *)p >= a->begin && (const uint8_t *)p < a->begin + a->used;
}

static uint64_t tree_walk(const node *t, uint64_t *last, const ll_arena *na)
{
    if (!t) return 0;
    cr_assert(in_arena(na, t));
    uint64_t n = tree_walk(t->left, last, na);
    cr_assert_geq(t->key, *last, "tree order");
    *last = t->key;
    cr_assert_eq(t->blob->owner, t, "blob points back at its node");
    return n + 1 + tree_walk(t->right, last, na);
}

/* Finds the arenas again and walks every pointer. */
static void walk(const ll_block *b, uint64_t count)
{
    const ll_arena *ra = ll_arena_get(b, "root"), *na = ll_arena_get(b, "nodes"),
                   *ba = ll_arena_get(b, "blobs");
    cr_assert(ra && na && ba, "the arenas came back with the block");
    const root *r = (const root *)ra->begin;
    cr_assert_eq(r->count, count);
    uint64_t i = count, seen = 0;
    for (const node *n = r->list; n; n = n->next, seen++) {
        char want[40];
        snprintf(want, sizeof want, "node %llu", (unsigned long long)--i);
        cr_assert(in_arena(na, n) && in_arena(ba, n->blob));
        cr_assert_str_eq(n->blob->text, want);
        cr_assert_eq(n->blob->owner, n);
    }
    cr_assert_eq(seen, count);
    uint64_t last = 0;
    cr_assert_eq(tree_walk(r->tree, &last, na), count);
}

/* Whether reading p kills a child process with SIGSEGV (a guard page); under
 * AddressSanitizer its SEGV handler, which the fault dispatcher passes the
 * fault on to, exits non-zero instead. */
static int faults(const volatile uint8_t *p)
{
    pid_t pid = fork();
    if (pid == 0) {
        (void)*p;
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    return WIFSIGNALED(status) ? WTERMSIG(status) == SIGSEGV : WEXITSTATUS(status) != 0;
}

Test(snapshot_file, pointers_survive_save_and_load_in_a_new_process)
{
    scratch();
    enum { COUNT = 20000 };
    uint64_t size = 64 * MIB;
    void *base = free_base(size);
    pid_t pid = fork();
    if (pid == 0) {
        ll_block b;
        ll_error err;
        if (ll_block_reserve(&b, &err, .base = base, .size = size) != 0) _exit(10);
        if (build(&b, COUNT) != 0) _exit(11);
        _exit(ll_snap_save(&b, path, &err, .layout_version = 0xabc) == 0 ? 0 : 12);
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
    ll_block b;
    ll_error err;
    reserve_at(&b, base, size);
    cr_assert_eq(ll_snap_load(&b, path, &err, .layout_version = 0xabc), 0, "%s", err.msg);
    walk(&b, COUNT);
    const ll_arena *na = ll_arena_get(&b, "nodes");
    cr_assert(na->guard_size > 0 && faults(na->begin + na->capacity), "the guard is armed");
    cr_assert_not(faults(na->begin), "the arena itself reads");
    cr_assert_eq(ll_snap_verify(path, &err), 0, "%s", err.msg);
    /* Sparse: only the pages written take disk. */
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_lt((uint64_t)st.st_blocks * 512, 4 * MIB, "%lld bytes on disk",
                 (long long)st.st_blocks * 512);
    cr_assert_gt((uint64_t)st.st_size, size, "the data region mirrors the block");
    /* A take moves the state onto a memfd (a new mapping): guards stay. */
    ll_snap *s = ll_snap_take(&b, &err);
    cr_assert_not_null(s, "%s", err.msg);
    cr_assert(faults(na->begin + na->capacity), "the guard is armed after the take");
    walk(&b, COUNT);
    cr_assert_eq(ll_snap_save(&b, path, &err, .layout_version = 0xabc), 0, "%s", err.msg);
    ll_snap_end(&b);
    ll_block_release(&b);
    cleanup();
}

static uint64_t file_hash(const char *p)
{
    int fd = open(p, O_RDONLY);
    cr_assert_geq(fd, 0);
    struct stat st;
    fstat(fd, &st);
    uint8_t *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    uint64_t h = XXH3_64bits(m, (size_t)st.st_size);
    munmap(m, (size_t)st.st_size);
    close(fd);
    return h;
}

Test(snapshot_file, snapshots_after_a_load_never_write_the_file)
{
    scratch();
    ll_block b;
    ll_error err;
    reserve(&b, 8 * MIB);
    for (uint64_t p = 0; p < 300; p += 3) fill_page(b.base, p, 1);
    uint8_t *want = malloc(b.size);
    memcpy(want, b.base, b.size);
    cr_assert_eq(ll_snap_save(&b, path, &err), 0, "%s", err.msg);
    memset(b.base, 0, b.size);
    cr_assert_eq(ll_snap_load(&b, path, &err), 0, "%s", err.msg);
    cr_assert_eq(memcmp(b.base, want, b.size), 0);
    /* Saving straight from a loaded file reads its pages from the file. */
    char again[160];
    snprintf(again, sizeof again, "%s/again.llsnap", dir);
    fill_page(b.base, 299, 4);
    memcpy(want + 299 * 4096, b.base + 299 * 4096, 4096);
    cr_assert_eq(ll_snap_save(&b, again, &err), 0, "%s", err.msg);
    cr_assert_eq(ll_snap_load(&b, again, &err, .verify = 1), 0, "%s", err.msg);
    cr_assert_eq(memcmp(b.base, want, b.size), 0);
    cr_assert_eq(ll_snap_load(&b, path, &err), 0, "%s", err.msg);
    memcpy(want + 299 * 4096, b.base + 299 * 4096, 4096);
    cr_assert_eq(memcmp(b.base, want, b.size), 0);
    uint64_t before = file_hash(path);
    char text[512];
    ll_block_describe_str(&b, text, sizeof text);
    cr_assert(strstr(text, ", a loaded snapshot file, "), "%s", text);
    cr_assert(b.flags & LL_BLOCK_LOADED);
    fill_page(b.base, 1, 2);
    ll_snap *s = ll_snap_take(&b, &err); /* moves onto a fresh memfd */
    cr_assert_not_null(s, "%s", err.msg);
    cr_assert_not(b.flags & LL_BLOCK_LOADED);
    ll_block_describe_str(&b, text, sizeof text);
    cr_assert(strstr(text, ", memfd:looplive, "), "%s", text);
    memcpy(want, b.base, b.size);
    memset(b.base + 4096, 0x11, 3 * 4096);
    cr_assert_eq(ll_snap_restore(&b, s, &err), 0, "%s", err.msg);
    cr_assert_eq(memcmp(b.base, want, b.size), 0);
    cr_assert_eq(file_hash(path), before, "the loaded file was written");
    ll_snap_drop(&b, s);
    ll_snap_end(&b);
    ll_block_release(&b);
    free(want);
    cleanup();
}

Test(snapshot_file, save_an_older_snapshot)
{
    scratch();
    ll_block b;
    ll_error err;
    reserve(&b, 4 * MIB);
    for (uint64_t p = 0; p < 100; p++) fill_page(b.base, p, 1);
    uint8_t *want = malloc(b.size);
    memcpy(want, b.base, b.size);
    ll_snap *s = ll_snap_take(&b, &err);
    for (uint64_t p = 50; p < 200; p++) fill_page(b.base, p, 2);
    memset(b.base, 0, 4096);
    ll_snap *t = ll_snap_take(&b, &err);
    fill_page(b.base, 7, 3);
    cr_assert_eq(ll_snap_save(&b, path, &err, .snap = s), 0, "%s", err.msg);
    cr_assert_eq(ll_snap_count(&b), 2);
    ll_snap_drop(&b, s);
    ll_snap_drop(&b, t);
    cr_assert_eq(ll_snap_load(&b, path, &err, .verify = 1), 0, "%s", err.msg);
    cr_assert_eq(memcmp(b.base, want, b.size), 0);
    ll_snap_end(&b);
    ll_block_release(&b);
    free(want);
    cleanup();
}

/* ---- refusals: each leaves the block exactly as it was ---------------- */

typedef struct fixture {
    ll_block b;
    uint8_t *want;
} fixture;

static void setup_saved(fixture *f, uint64_t layout)
{
    scratch();
    ll_error err;
    reserve(&f->b, 4 * MIB);
    for (uint64_t p = 0; p < 40; p++) fill_page(f->b.base, p, 9);
    cr_assert_eq(ll_snap_save(&f->b, path, &err, .layout_version = layout), 0, "%s", err.msg);
    for (uint64_t p = 20; p < 60; p++) fill_page(f->b.base, p, 10);
    f->want = malloc(f->b.size);
    memcpy(f->want, f->b.base, f->b.size);
}

static void expect_refusal(fixture *f, const char *p, uint64_t layout, const char *text)
{
    ll_error err;
    cr_assert_eq(ll_snap_load(&f->b, p, &err, .layout_version = layout), -1, "loaded: %s", text);
    cr_assert(strstr(err.msg, text), "wanted '%s' in: %s", text, err.msg);
    /* A refusal says what to do: the user met a file they did not write. */
    cr_assert(strstr(err.msg, "(try: "), "no '(try: ...)' in: %s", err.msg);
    cr_assert_eq(memcmp(f->b.base, f->want, f->b.size), 0, "the refusal changed the block");
}

static void teardown_saved(fixture *f)
{
    ll_snap_end(&f->b);
    ll_block_release(&f->b);
    free(f->want);
    cleanup();
}

static void patch(const char *p, uint64_t at, const void *bytes, size_t n)
{
    int fd = open(p, O_RDWR);
    cr_assert_eq(pwrite(fd, bytes, n, (off_t)at), (ssize_t)n);
    close(fd);
}

/* Rewrites one header field and its checksum, as a different writer would. */
#define PATCH_HEADER(field, value)                                                                 \
    do {                                                                                           \
        snap_header hdr_;                                                                          \
        int fd_ = open(path, O_RDWR);                                                              \
        cr_assert_eq(pread(fd_, &hdr_, sizeof hdr_, 0), (ssize_t)sizeof hdr_);                     \
        hdr_.field = (value);                                                                      \
        hdr_.header_hash = snap_header_hash(&hdr_);                                                \
        cr_assert_eq(pwrite(fd_, &hdr_, sizeof hdr_, 0), (ssize_t)sizeof hdr_);                    \
        close(fd_);                                                                                \
    } while (0)

Test(snapshot_file, refuses_another_base)
{
    fixture f;
    setup_saved(&f, 1);
    ll_block other;
    ll_error err;
    reserve(&other, 4 * MIB);
    uint8_t first = other.base[0];
    cr_assert_eq(ll_snap_load(&other, path, &err, .layout_version = 1), -1);
    cr_assert(strstr(err.msg, "holds a block at base"), "%s", err.msg);
    cr_assert(strstr(err.msg, "(try: reserve the block at"), "%s", err.msg);
    cr_assert_eq(other.base[0], first);
    ll_snap_end(&other);
    ll_block_release(&other);
    teardown_saved(&f);
}

Test(snapshot_file, refuses_another_size)
{
    scratch();
    ll_block b;
    ll_error err;
    void *base = free_base(8 * MIB);
    reserve_at(&b, base, 8 * MIB);
    fill_page(b.base, 3, 1);
    cr_assert_eq(ll_snap_save(&b, path, &err), 0, "%s", err.msg);
    ll_snap_end(&b);
    ll_block_release(&b);
    reserve_at(&b, base, 4 * MIB);
    fill_page(b.base, 3, 2);
    uint8_t *want = malloc(b.size);
    memcpy(want, b.base, b.size);
    cr_assert_eq(ll_snap_load(&b, path, &err), -1);
    cr_assert(strstr(err.msg, "holds a block of 8 MiB; this block is 4 MiB"), "%s", err.msg);
    cr_assert(strstr(err.msg, "(try: reserve a block of 8 MiB"), "%s", err.msg);
    cr_assert_eq(memcmp(b.base, want, b.size), 0);
    ll_snap_end(&b);
    ll_block_release(&b);
    free(want);
    cleanup();
}

Test(snapshot_file, refuses_another_page_size)
{
    fixture f;
    setup_saved(&f, 1);
    PATCH_HEADER(page_size, 16384);
    expect_refusal(&f, path, 1, "was saved with 16 KiB pages; this system uses 4 KiB");
    teardown_saved(&f);
}

Test(snapshot_file, refuses_another_architecture)
{
    fixture f;
    setup_saved(&f, 1);
    PATCH_HEADER(arch, 183);
    expect_refusal(&f, path, 1, "was saved on aarch64 (64-bit); this is x86_64");
    teardown_saved(&f);
}

Test(snapshot_file, refuses_another_layout_version)
{
    fixture f;
    setup_saved(&f, 0x1111);
    expect_refusal(&f, path, 0x2222, "has state layout version 0x1111; the program expects 0x2222");
    teardown_saved(&f);
}

Test(snapshot_file, refuses_a_newer_format)
{
    fixture f;
    setup_saved(&f, 1);
    PATCH_HEADER(format_version, 3);
    expect_refusal(&f, path, 1, "has snapshot format version 3; this build reads version 2");
    teardown_saved(&f);
}

Test(snapshot_file, refuses_inconsistent_sizes)
{
    fixture f;
    setup_saved(&f, 1);
    PATCH_HEADER(index_offset, 12345);
    expect_refusal(&f, path, 1, "inconsistent sizes in its header");
    teardown_saved(&f);
}

Test(snapshot_file, refuses_truncated_files)
{
    fixture f;
    setup_saved(&f, 1);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(truncate(path, st.st_size - 1), 0);
    expect_refusal(&f, path, 1, "is truncated");
    cr_assert_eq(truncate(path, 4096 + 1 * MIB), 0);
    expect_refusal(&f, path, 1, "was the save interrupted?");
    cr_assert_eq(truncate(path, 20), 0);
    expect_refusal(&f, path, 1, "shorter than a header");
    teardown_saved(&f);
}

Test(snapshot_file, refuses_corruption)
{
    fixture f;
    setup_saved(&f, 1);
    snap_header h;
    int fd = open(path, O_RDONLY);
    cr_assert_eq(pread(fd, &h, sizeof h, 0), (ssize_t)sizeof h);
    close(fd);
    uint8_t x = 0x5a;
    patch(path, offsetof(snap_header, base) + 2, &x, 1);
    expect_refusal(&f, path, 1, "its header checksum does not match");
    patch(path, 0, &h, sizeof h);
    patch(path, h.index_offset + 3, &x, 1);
    expect_refusal(&f, path, 1, "its page index checksum does not match");
    teardown_saved(&f);
}

/* The checksum of the index as it is now in the file. */
static uint64_t index_hash_of(const snap_header *h)
{
    size_t n = h->extent_count * sizeof(snap_extent);
    void *all = malloc(n);
    int fd = open(path, O_RDONLY);
    cr_assert_eq(pread(fd, all, n, (off_t)h->index_offset), (ssize_t)n);
    close(fd);
    uint64_t hash = XXH3_64bits(all, n);
    free(all);
    return hash;
}

Test(snapshot_file, refuses_a_bad_index)
{
    fixture f;
    setup_saved(&f, 1);
    snap_header h;
    int fd = open(path, O_RDONLY);
    cr_assert_eq(pread(fd, &h, sizeof h, 0), (ssize_t)sizeof h);
    close(fd);
    snap_extent e = {.off = 4 * MIB, .len = 4096, .hash = 0};
    patch(path, h.index_offset, &e, sizeof e);
    PATCH_HEADER(index_hash, index_hash_of(&h));
    expect_refusal(&f, path, 1, "page index entry 0 is out of order");
    teardown_saved(&f);
}

Test(snapshot_file, refuses_an_index_that_does_not_add_up)
{
    fixture f;
    setup_saved(&f, 1);
    PATCH_HEADER(data_bytes, 4096);
    expect_refusal(&f, path, 1, "the page index does not add up");
    teardown_saved(&f);
}

Test(snapshot_file, refuses_other_files)
{
    fixture f;
    setup_saved(&f, 1);
    char other[160];
    snprintf(other, sizeof other, "%s/notes.txt", dir);
    FILE *fp = fopen(other, "w");
    for (int i = 0; i < 100; i++) fprintf(fp, "just some text, not a snapshot\n");
    fclose(fp);
    expect_refusal(&f, other, 1, "is not a looplive snapshot file (no LLSNAP magic)");
    fp = fopen(other, "w");
    fclose(fp);
    expect_refusal(&f, other, 1, "is not a looplive snapshot file (0 bytes)");
    snprintf(other, sizeof other, "%s/missing", dir);
    expect_refusal(&f, other, 1, "cannot open");
    teardown_saved(&f);
}

/* A folder or a FIFO named like a saved state: refused at once (a FIFO's
 * open would wait for a writer forever). */
Test(snapshot_file, refuses_what_is_no_regular_file_at_once, .timeout = 20)
{
    fixture f;
    setup_saved(&f, 1);
    char other[160];
    snprintf(other, sizeof other, "%s/folder.llsnap", dir);
    cr_assert_eq(mkdir(other, 0755), 0);
    expect_refusal(&f, other, 1, "is not a regular file");
    cr_assert_eq(rmdir(other), 0);
    snprintf(other, sizeof other, "%s/fifo.llsnap", dir);
    cr_assert_eq(mkfifo(other, 0644), 0);
    expect_refusal(&f, other, 1, "is not a regular file");
    ll_error err;
    cr_assert_eq(ll_snap_verify(other, &err), -1);
    cr_assert(strstr(err.msg, "is not a regular file"), "%s", err.msg);
    teardown_saved(&f);
}

Test(snapshot_file, refuses_with_live_snapshots)
{
    fixture f;
    setup_saved(&f, 1);
    ll_error err;
    ll_snap *s = ll_snap_take(&f.b, &err);
    expect_refusal(&f, path, 1, "the block has 1 live snapshots (try: ll_snap_drop them first)");
    ll_snap_drop(&f.b, s);
    teardown_saved(&f);
}

Test(snapshot_file, corrupted_data_is_found_by_verify)
{
    fixture f;
    setup_saved(&f, 1);
    ll_error err;
    cr_assert_eq(ll_snap_verify(path, &err), 0, "%s", err.msg);
    uint8_t x = 0xee;
    patch(path, 4096 + 5 * 4096 + 17, &x, 1);
    cr_assert_eq(ll_snap_verify(path, &err), -1);
    cr_assert(strstr(err.msg, "the checksum of block offsets 0x0-0x28000 does not match"), "%s",
              err.msg);
    ll_error e2;
    cr_assert_eq(ll_snap_load(&f.b, path, &e2, .layout_version = 1, .verify = 1), -1);
    cr_assert_str_eq(e2.msg, err.msg);
    cr_assert_eq(memcmp(f.b.base, f.want, f.b.size), 0);
    /* Without .verify the load is lazy and succeeds. */
    cr_assert_eq(ll_snap_load(&f.b, path, &err, .layout_version = 1), 0, "%s", err.msg);
    cr_assert_eq(f.b.base[5 * 4096 + 17], 0xee);
    teardown_saved(&f);
}

Test(snapshot_file, verify_finds_data_outside_the_index)
{
    fixture f;
    setup_saved(&f, 1);
    ll_error err;
    uint8_t x = 1;
    patch(path, 4096 + 3 * MIB + 5, &x, 1);
    cr_assert_eq(ll_snap_verify(path, &err), -1);
    cr_assert(
        strstr(err.msg, "non-zero bytes at block offset 0x300005, outside every indexed page"),
        "%s", err.msg);
    teardown_saved(&f);
}

Test(snapshot_file, save_errors)
{
    ll_block a, b;
    ll_error err;
    reserve(&a, 4 * MIB);
    reserve(&b, 4 * MIB);
    cr_assert_eq(ll_snap_save(&a, "/nonexistent-dir/x.llsnap", &err), -1);
    cr_assert(strstr(err.msg, "cannot create '/nonexistent-dir/x.llsnap.tmp."), "%s", err.msg);
    cr_assert(strstr(err.msg, "is the directory writable?"), "%s", err.msg);
    char longp[5000];
    memset(longp, 'a', sizeof longp - 1);
    longp[sizeof longp - 1] = 0;
    cr_assert_eq(ll_snap_save(&a, longp, &err), -1);
    cr_assert(strstr(err.msg, "a path of 4999 bytes is too long"), "%s", err.msg);
    ll_snap *s = ll_snap_take(&a, &err);
    cr_assert_eq(ll_snap_save(&b, "/tmp/unused.llsnap", &err, .snap = s), -1);
    cr_assert(strstr(err.msg, "this snapshot was dropped or belongs to another block"), "%s",
              err.msg);
    cr_assert_eq(access("/tmp/unused.llsnap", F_OK), -1);
    ll_snap_end(&a);
    ll_snap_end(&b);
    ll_block_release(&a);
    ll_block_release(&b);
}

Test(snapshot_file, save_and_load_system_errors)
{
    scratch();
    ll_block b;
    ll_error err;
    reserve(&b, 4 * MIB);
    fill_page(b.base, 1, 1);
    /* The target is a directory: the rename fails, the temporary goes. */
    cr_assert_eq(mkdir(path, 0755), 0);
    cr_assert_eq(ll_snap_save(&b, path, &err), -1);
    cr_assert(strstr(err.msg, "cannot rename '"), "%s", err.msg);
    cr_assert(strstr(err.msg, ".tmp."), "%s", err.msg);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "test $(ls -A %s | wc -l) = 1", dir);
    cr_assert_eq(system(cmd), 0, "the temporary file was left behind");
    /* A directory is not a snapshot file either. */
    cr_assert_eq(ll_snap_load(&b, path, &err), -1);
    cr_assert(strstr(err.msg, "it is not a regular file (try: "), "%s", err.msg);
    cr_assert_eq(rmdir(path), 0);
    /* A file size limit below the block: sizing the file fails. */
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit old, small = {1 << 20, 1 << 20};
    getrlimit(RLIMIT_FSIZE, &old);
    small.rlim_max = old.rlim_max;
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
    int rc = ll_snap_save(&b, path, &err);
    setrlimit(RLIMIT_FSIZE, &old);
    cr_assert_eq(rc, -1);
    cr_assert(strstr(err.msg, "sizing '"), "%s", err.msg);
    cr_assert_eq(access(path, F_OK), -1);
    ll_snap_end(&b);
    ll_block_release(&b);
    cleanup();
}

/* ---- a kill during save leaves the previous file loadable -------------- */

Test(snapshot_file, kill_during_save_leaves_the_previous_file)
{
    scratch();
    uint64_t size = 32 * MIB;
    void *base = free_base(size);
    for (int round = 0; round < 6; round++) {
        int ready[2];
        cr_assert_eq(pipe(ready), 0);
        pid_t pid = fork();
        if (pid == 0) {
            close(ready[0]);
            ll_block b;
            if (ll_block_reserve(&b, NULL, .base = base, .size = size) != 0) _exit(10);
            /* Every save holds one version v in all of its 16 MiB. */
            for (uint64_t v = 1;; v++) {
                for (uint64_t o = 0; o < 16 * MIB; o += 4096) *(uint64_t *)(b.base + o) = v;
                if (ll_snap_save(&b, path, NULL, .layout_version = 7) != 0) _exit(11);
                if (v == 1 && write(ready[1], "x", 1) != 1) _exit(12);
            }
        }
        close(ready[1]);
        char c;
        cr_assert_eq(read(ready[0], &c, 1), 1, "the first save failed");
        close(ready[0]);
        struct timespec t = {0, (long)(1 + round * 7) * 1000000L};
        nanosleep(&t, NULL);
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        cr_assert(WIFSIGNALED(status), "the saver ended on its own: %d", status);

        ll_block b;
        ll_error err;
        reserve_at(&b, base, size);
        cr_assert_eq(ll_snap_load(&b, path, &err, .layout_version = 7, .verify = 1), 0,
                     "round %d: %s", round, err.msg);
        uint64_t v = *(uint64_t *)b.base;
        cr_assert_geq(v, 1);
        for (uint64_t o = 0; o < 16 * MIB; o += 4096)
            cr_assert_eq(*(uint64_t *)(b.base + o), v, "mixed versions at 0x%llx",
                         (unsigned long long)o);
        ll_snap_end(&b);
        ll_block_release(&b);
    }
    /* Each kill that hit a save in progress left its temporary file. */
    char cmd[160];
    snprintf(cmd, sizeof cmd, "ls %s | grep -c '\\.tmp\\.'", dir);
    FILE *p = popen(cmd, "r");
    int interrupted = 0;
    cr_assert_eq(fscanf(p, "%d", &interrupted), 1);
    pclose(p);
    cr_assert_geq(interrupted, 1, "no kill landed inside a save");
    cleanup();
}

/* ---- untrusted files: sizes that wrap, crafted arena tables ------------ */

/* The block's lines of /proc/self/maps: its mappings and protections. */
static void block_maps(const ll_block *b, char *out, size_t cap)
{
    FILE *fp = fopen("/proc/self/maps", "r");
    char line[512];
    size_t n = 0;
    out[0] = 0;
    while (fp && fgets(line, sizeof line, fp)) {
        unsigned long long lo, hi;
        if (sscanf(line, "%llx-%llx", &lo, &hi) != 2) continue;
        if (hi <= (uintptr_t)b->base || lo >= (uintptr_t)b->base + b->size) continue;
        n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%s", line);
    }
    if (fp) fclose(fp);
}

Test(snapshot_file, verify_refuses_sizes_that_wrap)
{
    fixture f;
    setup_saved(&f, 1);
    ll_error err;
    /* Page size 1 once let extent_count * 24 wrap. */
    PATCH_HEADER(page_size, 1);
    cr_assert_eq(ll_snap_verify(path, &err), -1);
    cr_assert(strstr(err.msg, "inconsistent sizes in its header"), "%s", err.msg);
    PATCH_HEADER(page_size, 4096);
    PATCH_HEADER(extent_count, (UINT64_MAX / 24) + 2);
    cr_assert_eq(ll_snap_verify(path, &err), -1);
    cr_assert(strstr(err.msg, "inconsistent sizes in its header"), "%s", err.msg);
    /* data_offset + size wrapping to index_offset. */
    PATCH_HEADER(extent_count, 1);
    PATCH_HEADER(size, UINT64_MAX - 4095);
    PATCH_HEADER(index_offset, 0);
    cr_assert_eq(ll_snap_verify(path, &err), -1);
    cr_assert(strstr(err.msg, "inconsistent sizes in its header"), "%s", err.msg);
    /* A count that fits the block but not the file. */
    PATCH_HEADER(size, 1ull << 40);
    PATCH_HEADER(index_offset, 4096 + (1ull << 40));
    PATCH_HEADER(extent_count, 1ull << 28);
    cr_assert_eq(ll_snap_verify(path, &err), -1);
    cr_assert(strstr(err.msg, "is truncated"), "%s", err.msg);
    teardown_saved(&f);
}

/* A block with two guarded arenas whose table is then bent by bend(); the
 * block is saved that way (the checksums match, as anyone can make them)
 * and set right again, and the load must refuse, changing nothing. */
typedef void bend_fn(memory_header *h);

/* The block's bytes, guard pages (which fault) left as zeros. */
static void readable_copy(const ll_block *b, uint8_t *out)
{
    for (uint64_t off = 0; off < b->size; off += 4096)
        if (strcmp(ll_block_arena_at(b, off), "guard page")) memcpy(out + off, b->base + off, 4096);
}

static void expect_table_refused(bend_fn *bend, const char *text)
{
    scratch();
    ll_block b;
    ll_error err;
    reserve(&b, 4 * MIB);
    cr_assert_not_null(ll_arena_create(&b, "one", 64 * 1024, &err, .guard = 1), "%s", err.msg);
    cr_assert_not_null(ll_arena_create(&b, "two", 64 * 1024, &err, .guard = 1), "%s", err.msg);
    memory_header *h = (memory_header *)b.base;
    memory_header keep = *h;
    bend(h);
    cr_assert_eq(ll_snap_save(&b, path, &err), 0, "%s", err.msg);
    *h = keep;
    fill_page(b.base, 500, 3);
    uint8_t *want = calloc(1, b.size);
    readable_copy(&b, want);
    char maps_before[4096], maps_after[4096];
    block_maps(&b, maps_before, sizeof maps_before);
    ll_block handle = b;
    cr_assert_eq(ll_snap_load(&b, path, &err), -1, "loaded a bent table: %s", text);
    cr_assert_eq(memcmp(&handle, &b, sizeof b), 0, "the refusal changed the block's handle");
    cr_assert(strstr(err.msg, text), "wanted '%s' in: %s", text, err.msg);
    cr_assert(strstr(err.msg, "cannot load '"), "%s", err.msg);
    uint8_t *got = calloc(1, b.size);
    readable_copy(&b, got);
    cr_assert_eq(memcmp(got, want, b.size), 0, "the refusal changed the block's bytes");
    free(got);
    block_maps(&b, maps_after, sizeof maps_after);
    cr_assert_str_eq(maps_after, maps_before, "the refusal changed the mapping or protections");
    free(want);
    ll_snap_end(&b);
    ll_block_release(&b);
    cleanup();
}

static void count_250(memory_header *h)
{
    h->arena_count = 250;
}
static void begins_outside(memory_header *h)
{
    h->arenas[1].begin = (uint8_t *)(uintptr_t)(h->base - (1ull << 30));
}
static void guard_16_tib(memory_header *h)
{
    h->arenas[0].guard_size = 16ull << 40;
}
static void header_guard_huge(memory_header *h)
{
    h->header_guard = 1ull << 44;
}
static void used_past_capacity(memory_header *h)
{
    h->arenas[0].used = h->arenas[0].capacity + 4096;
}
static void ends_past_next(memory_header *h)
{
    h->arenas[1].capacity += 1ull << 20;
}
static void overlapping(memory_header *h)
{
    h->arenas[1].begin = h->arenas[0].begin;
}
static void unnamed(memory_header *h)
{
    memset(h->arenas[0].name, 'x', sizeof h->arenas[0].name);
}
static void bad_parent(memory_header *h)
{
    h->arenas[0].parent = 5;
}
static void other_base(memory_header *h)
{
    h->base += 1ull << 30;
}

Test(snapshot_file, load_refuses_a_crafted_arena_table_leaving_the_block_as_it_was)
{
    expect_table_refused(count_250, "it counts more arenas than the table holds (arena 250)");
    expect_table_refused(begins_outside, "begins outside (arena 1)");
    expect_table_refused(guard_16_tib, "ends outside the block (arena 0)");
    expect_table_refused(header_guard_huge, "the guard after the header is out of range");
    expect_table_refused(used_past_capacity, "uses more than its capacity (arena 0)");
    expect_table_refused(ends_past_next, "ends outside the block (arena 1)");
    expect_table_refused(overlapping, "begins outside (arena 1)");
    expect_table_refused(unnamed, "has no name (arena 0)");
    expect_table_refused(bad_parent, "has a bad parent (arena 0)");
    expect_table_refused(other_base, "was made for a block at 0x");
}

static int hook_calls;
static int file_hook(ll_arena *a, uint64_t requested, uint64_t available, void *ctx)
{
    hook_calls++;
    return 0;
}

Test(snapshot_file, a_hook_pointer_in_a_file_is_never_called)
{
    scratch();
    ll_block b;
    ll_error err;
    reserve(&b, 4 * MIB);
    ll_arena *a = ll_arena_create(&b, "one", 4096, &err, .guard = -1);
    cr_assert_not_null(a, "%s", err.msg);
    /* What the table held when the hook lived in it: a pid and a pointer. */
    memory_header *h = (memory_header *)b.base;
    ll_arena_full_fn *fn = file_hook;
    h->unused_ = (uint32_t)getpid();
    memcpy(&h->unused_hook_[0], &fn, sizeof fn);
    cr_assert_eq(ll_snap_save(&b, path, &err), 0, "%s", err.msg);
    cr_assert_eq(ll_snap_load(&b, path, &err), 0, "%s", err.msg);
    a = ll_arena_get(&b, "one");
    cr_assert_null(ll_arena_push(a, 8192, .err = &err));
    cr_assert_eq(hook_calls, 0, "a function pointer from the file was called");
    /* The hook set in this process is kept across the load. */
    cr_assert_eq(ll_block_on_full(&b, file_hook, NULL, &err), 0, "%s", err.msg);
    cr_assert_eq(ll_snap_load(&b, path, &err), 0, "%s", err.msg);
    cr_assert_null(ll_arena_push(ll_arena_get(&b, "one"), 8192, .err = &err));
    cr_assert_eq(hook_calls, 1);
    ll_snap_end(&b);
    ll_block_release(&b);
    cleanup();
}

Test(snapshot_file, save_never_follows_a_symlink_at_a_temporary_name)
{
    scratch();
    ll_block b;
    ll_error err;
    reserve(&b, 4 * MIB);
    fill_page(b.base, 2, 5);
    char victim[160], link[200];
    snprintf(victim, sizeof victim, "%s/victim", dir);
    FILE *fp = fopen(victim, "w");
    fputs("keep me", fp);
    fclose(fp);
    /* Every name this process would try first points at the victim. */
    for (int i = 0; i < 20; i++) {
        snprintf(link, sizeof link, "%s.tmp.%d.%d", path, (int)getpid(), i);
        cr_assert_eq(symlink(victim, link), 0);
    }
    cr_assert_eq(ll_snap_save(&b, path, &err), 0, "%s", err.msg);
    struct stat st;
    cr_assert_eq(stat(victim, &st), 0);
    cr_assert_eq(st.st_size, 7, "the save wrote through a symlink");
    cr_assert_eq(ll_snap_verify(path, &err), 0, "%s", err.msg);
    /* With all the names it tries taken, it says so. */
    for (int i = 20; i < 200; i++) {
        snprintf(link, sizeof link, "%s.tmp.%d.%d", path, (int)getpid(), i);
        cr_assert_eq(symlink(victim, link), 0);
    }
    cr_assert_eq(ll_snap_save(&b, path, &err), -1);
    cr_assert(strstr(err.msg, "cannot create a temporary file next to '"), "%s", err.msg);
    cr_assert(strstr(err.msg, "100 names taken"), "%s", err.msg);
    ll_snap_end(&b);
    ll_block_release(&b);
    cleanup();
}
