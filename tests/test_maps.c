/* test_maps.c - parsing and classifying /proc/PID/maps: the samples in tests/data/maps
 * against pmap -x, live processes, every error message. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/base.h"
#include "maps/maps.h"

/* bash, nopie-threads, pie-threads, python3, static */
enum { KNOWN_SAMPLES = 5 };

/* The mapping count and "total kB" of a pmap -x listing. */
static void pmap_oracle(const char *path, size_t *count, uint64_t *total_kib)
{
    FILE *f = fopen(path, "r");
    cr_assert(f, "cannot open %s", path);
    char line[4096];
    *count = 0;
    *total_kib = 0;
    while (fgets(line, sizeof line, f)) {
        if (strspn(line, "0123456789abcdef") == 16 && line[16] == ' ') (*count)++;
        if (!strncmp(line, "total kB", 8)) *total_kib = strtoull(line + 8, NULL, 10);
    }
    fclose(f);
}

static void read_sample(const char *name, ll_maps *m)
{
    char path[256];
    ll_error err;
    snprintf(path, sizeof path, "tests/data/maps/%s.maps", name);
    cr_assert_eq(ll_maps_read_file(path, m, &err), 0, "%s: %s", path, err.msg);
}

/* Every *.maps in the samples in tests/data/maps, including any added later. */
Test(maps, samples_agree_with_pmap)
{
    glob_t g;
    cr_assert_eq(glob("tests/data/maps/*.maps", 0, NULL, &g), 0, "no samples found");
    cr_assert_geq(g.gl_pathc, KNOWN_SAMPLES);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        ll_maps m;
        ll_error err;
        cr_assert_eq(ll_maps_read_file(g.gl_pathv[i], &m, &err), 0, "%s", err.msg);
        char path[4096];
        size_t count;
        uint64_t kib;
        snprintf(path, sizeof path, "%.*s.pmap", (int)(strlen(g.gl_pathv[i]) - 5), g.gl_pathv[i]);
        pmap_oracle(path, &count, &kib);
        cr_assert_gt(count, 0);
        cr_assert_eq(m.count, count, "%s: %zu regions, pmap says %zu", path, m.count, count);
        cr_assert_eq(ll_maps_total_get(&m) / 1024, kib, "%s: total differs", path);
        for (size_t r = 1; r < m.count; r++)
            cr_assert_geq(m.regions[r].start, m.regions[r - 1].end);
        ll_maps_free(&m);
    }
    globfree(&g);
}

static const ll_region *find_path(const ll_maps *m, const char *path)
{
    for (size_t i = 0; i < m->count; i++)
        if (!strcmp(m->regions[i].path, path)) return &m->regions[i];
    return NULL;
}

/* The start address and inode of the first line of a sample that ends with
 * TAIL (or of its first line when TAIL is NULL), read with sscanf, apart
 * from the parser under test, so that regenerated samples
 * (tests/data/gen-maps.sh) need no new constants here. */
static void sample_line(const char *name, const char *tail, uint64_t *start, uint64_t *inode)
{
    char path[256], line[4096];
    snprintf(path, sizeof path, "tests/data/maps/%s.maps", name);
    FILE *f = fopen(path, "r");
    cr_assert(f, "cannot open %s", path);
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        size_t n = strlen(line), t = tail ? strlen(tail) : 0;
        if (tail && (n < t || strcmp(line + n - t, tail))) continue;
        unsigned long long s, e, ino;
        cr_assert_eq(sscanf(line, "%llx-%llx %*s %*s %*s %llu", &s, &e, &ino), 3, "%s", line);
        *start = s;
        *inode = ino;
        fclose(f);
        return;
    }
    cr_assert_fail("%s: no line ends with '%s'", path, tail);
}

Test(maps, sample_paths_and_chunks)
{
    ll_maps m;
    uint64_t start, inode, first, unused;
    read_sample("pie-threads", &m);
    cr_assert_str_eq(m.exe, "/srv/game/many_pie");
    const ll_region *r = find_path(&m, "/srv/game/with space.bin");
    cr_assert(r);
    sample_line("pie-threads", " /srv/game/with space.bin", &start, &inode);
    cr_assert_eq(r->start, start);
    cr_assert_eq(r->inode, inode);
    cr_assert_str_eq(r->perms, "r--s");
    cr_assert_neq(r->dev_major, 0);
    cr_assert(find_path(&m, "/srv/game/gone.bin (deleted)"));
    cr_assert_eq(find_path(&m, "[vvar]")->chunk, LL_CHUNK_KERNEL);
    cr_assert_eq(find_path(&m, "[vsyscall]")->chunk, LL_CHUNK_KERNEL);
    cr_assert_eq(find_path(&m, "[heap]")->chunk, LL_CHUNK_APP);
    cr_assert_eq(find_path(&m, "[stack]")->chunk, LL_CHUNK_STACK);
    cr_assert_eq(find_path(&m, "/usr/lib/x86_64-linux-gnu/libc.so.6")->chunk, LL_CHUNK_LIB);
    ll_span app = ll_maps_span_get(&m, LL_CHUNK_APP);
    cr_assert_eq(app.count, 6); /* five segments of the executable and [heap] */
    sample_line("pie-threads", NULL, &first, &unused);
    cr_assert_eq(app.lo, first);
    cr_assert_eq(app.hi, find_path(&m, "[heap]")->end);
    size_t kernel = ll_maps_span_get(&m, LL_CHUNK_KERNEL).count;
    cr_assert(kernel == 3 || kernel == 4, "%zu", kernel); /* [vvar_vclock] since Linux 6.12 */
    cr_assert_eq(ll_maps_span_get(&m, LL_CHUNK_STACK).count, 1);
    ll_span lib = ll_maps_span_get(&m, LL_CHUNK_LIB);
    cr_assert_eq(app.count + lib.count + kernel + 1, m.count);
    cr_assert_eq(lib.lo, m.regions[app.count].start); /* the first mapping above [heap] */
    ll_maps_free(&m);

    read_sample("static", &m);
    cr_assert_str_eq(m.exe, "/srv/game/many_static");
    /* The anonymous .bss tail right after the executable is application. */
    const ll_region *bss = &m.regions[5];
    cr_assert_str_eq(bss->path, "");
    cr_assert_eq(bss->start, m.regions[4].end);
    cr_assert_eq(ll_maps_overlap_find(&m, bss->start, bss->end)->chunk, LL_CHUNK_APP);
    cr_assert_eq(ll_maps_span_get(&m, LL_CHUNK_APP).count, 7);
    ll_maps_free(&m);

    read_sample("python3", &m);
    cr_assert_str_eq(m.exe, "/usr/bin/python3.11");
    ll_maps_free(&m);
}

Test(maps, parse_odd_lines)
{
    const char text[] =
        "7f0000002000-7f0000003000 rw-p 00000000 00:00 0 [anon:game state]\n"
        "\n"
        "7f0000000000-7f0000001000 r--s 00001000 08:01 42 /tmp/a b  c.bin (deleted)\r\n"
        "55550000-55551000 r-xp 00000000 08:01 7 /opt/app\n"
        "55551000-55552000 rw-p 00000000 00:00 0\n"
        "7f0000004000-7f0000005000 rw-p 00000000 00:00 0 [stack:123]\n"
        "7f0000006000-7f0000007000 r--p 00000000 00:00 0 [uprobes]\n"
        "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]";
    ll_maps m;
    ll_error err;
    cr_assert_eq(ll_maps_parse(text, sizeof text - 1, &m, &err), 0, "%s", err.msg);
    cr_assert_eq(m.count, 7);
    cr_assert_eq(m.pid, 0);
    cr_assert_eq(m.regions[0].start, 0x55550000); /* sorted */
    cr_assert_str_eq(m.regions[0].path, "/opt/app");
    cr_assert_str_eq(m.exe, "/opt/app");
    cr_assert_eq(m.regions[1].chunk, LL_CHUNK_APP);
    cr_assert_str_eq(m.regions[2].path, "/tmp/a b  c.bin (deleted)");
    cr_assert_eq(m.regions[2].offset, 0x1000);
    cr_assert_eq(m.regions[2].dev_minor, 1);
    cr_assert_str_eq(m.regions[3].path, "[anon:game state]");
    cr_assert_eq(m.regions[3].chunk, LL_CHUNK_LIB);
    cr_assert_eq(m.regions[4].chunk, LL_CHUNK_LIB);
    cr_assert_eq(m.regions[5].chunk, LL_CHUNK_KERNEL);
    cr_assert_eq(m.regions[6].chunk, LL_CHUNK_STACK);
    cr_assert_str_eq(ll_chunk_name_get(m.regions[6].chunk), "stack");
    ll_maps_classify(&m, "/tmp/a b  c.bin (deleted)");
    cr_assert_eq(m.regions[2].chunk, LL_CHUNK_APP);
    cr_assert_eq(m.regions[0].chunk, LL_CHUNK_LIB);
    ll_maps_free(&m);
    ll_maps_free(&m); /* safe twice: zeroed */
}

static void expect_malformed(const char *text, const char *want)
{
    ll_maps m;
    ll_error err;
    cr_assert_eq(ll_maps_parse(text, strlen(text), &m, &err), -1, "accepted: %s", text);
    cr_assert(strstr(err.msg, want), "%s", err.msg);
    cr_assert_eq(m.regions, NULL);
}

Test(maps, malformed_lines_name_their_number)
{
    const char *good = "1000-2000 r--p 00000000 00:00 0\n";
    char text[512];
    snprintf(text, sizeof text, "%s%snot a maps line\n", good, good);
    expect_malformed(text, "maps line 3 is malformed: 'not a maps line'");
    expect_malformed("1000-2000 r--p 0 00:00\n", "maps line 1");
    expect_malformed("2000-1000 r--p 0 00:00 0\n", "maps line 1");  /* end before start */
    expect_malformed("1000-2000 rq-p 0 00:00 0\n", "maps line 1");  /* bad perms */
    expect_malformed("1000-2000 r--p 0 00:00 x7\n", "maps line 1"); /* bad inode */
    expect_malformed("10000000000000000-10000000000000001 r--p 0 00:00 0\n", "line 1");
    expect_malformed("\n1000-2000 r--p 0 00:00 0\n1000 2000\n", "maps line 3");
    /* A NUL among the permissions (a corrupted file) is not a permission. */
    static const char nul[] = "1000-2000 r\0-p 0 00:00 0\n";
    ll_maps m;
    ll_error err;
    cr_assert_eq(ll_maps_parse(nul, sizeof nul - 1, &m, &err), -1);
    cr_assert(strstr(err.msg, "maps line 1 is malformed"), "%s", err.msg);
}

Test(maps, read_file_errors)
{
    ll_maps m;
    ll_error err;
    cr_assert_eq(ll_maps_read_file("/nonexistent/x.maps", &m, &err), -1);
    cr_assert_str_eq(err.msg, "cannot read maps file '/nonexistent/x.maps': No such file or "
                              "directory (try: cat /proc/PID/maps > FILE)");
    cr_assert_eq(ll_maps_read_file("/tmp", &m, &err), -1);
    cr_assert(strstr(err.msg, "cannot read maps file '/tmp': Is a directory"), "%s", err.msg);
    char path[] = "/tmp/ll_maps_XXXXXX";
    int fd = mkstemp(path);
    const char bad[] = "1000-2000 r--p 0 00:00 0\nbroken\n";
    cr_assert_eq(write(fd, bad, sizeof bad - 1), (ssize_t)sizeof bad - 1);
    close(fd);
    cr_assert_eq(ll_maps_read_file(path, &m, &err), -1);
    cr_assert(strstr(err.msg, ": maps line 2 is malformed: 'broken'"), "%s", err.msg);
    cr_assert(strstr(err.msg, path), "%s", err.msg);
    fd = open(path, O_WRONLY | O_TRUNC);
    close(fd);
    cr_assert_eq(ll_maps_read_file(path, &m, &err), -1);
    cr_assert(strstr(err.msg, "has no mappings"), "%s", err.msg);
    unlink(path);
}

static void marker(void) {}

Test(maps, read_self)
{
    ll_maps m;
    ll_error err;
    cr_assert_eq(ll_maps_read_pid(0, &m, &err), 0, "%s", err.msg);
    cr_assert_eq(m.pid, getpid());
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n] = 0;
    cr_assert_str_eq(m.exe, exe);
    uint64_t code = (uint64_t)(uintptr_t)&marker;
    const ll_region *r = ll_maps_overlap_find(&m, code, code + 1);
    cr_assert(r);
    cr_assert_eq(r->chunk, LL_CHUNK_APP);
    cr_assert_eq(r->perms[2], 'x');
    int local;
    uint64_t sp = (uint64_t)(uintptr_t)&local;
    cr_assert_eq(ll_maps_overlap_find(&m, sp, sp + 1)->chunk, LL_CHUNK_STACK);
    uint64_t libc = (uint64_t)(uintptr_t)&malloc;
    cr_assert_eq(ll_maps_overlap_find(&m, libc, libc + 1)->chunk, LL_CHUNK_LIB);
    ll_maps_free(&m);
}

Test(maps, overlap_and_gaps)
{
    const char text[] = "1000-2000 r--p 0 00:00 0\n"
                        "3000-5000 r--p 0 00:00 0\n"
                        "5000-6000 r--p 0 00:00 0\n"
                        "9000-a000 r--p 0 00:00 0\n";
    ll_maps m;
    cr_assert_eq(ll_maps_parse(text, sizeof text - 1, &m, NULL), 0);
    cr_assert_eq(ll_maps_overlap_find(&m, 0, 0x1000), NULL);
    cr_assert_eq(ll_maps_overlap_find(&m, 0, 0x1001)->start, 0x1000);
    cr_assert_eq(ll_maps_overlap_find(&m, 0x2000, 0x3000), NULL);
    cr_assert_eq(ll_maps_overlap_find(&m, 0x2000, 0x9000)->start, 0x3000);
    cr_assert_eq(ll_maps_overlap_find(&m, 0x5fff, 0x6000)->start, 0x5000);
    cr_assert_eq(ll_maps_overlap_find(&m, 0xa000, 0xb000), NULL);
    cr_assert_eq(ll_maps_overlap_find(&m, 0x4000, 0x4000), NULL); /* empty range */
    ll_range g[8];
    cr_assert_eq(ll_maps_gaps_find(&m, 0, 0x10000, g, 8), 4);
    cr_assert_eq(g[0].start, 0);
    cr_assert_eq(g[0].end, 0x1000);
    cr_assert_eq(g[1].start, 0x2000);
    cr_assert_eq(g[1].end, 0x3000);
    cr_assert_eq(g[2].start, 0x6000);
    cr_assert_eq(g[3].start, 0xa000);
    cr_assert_eq(g[3].end, 0x10000);
    cr_assert_eq(ll_maps_gaps_find(&m, 0x1800, 0x5800, g, 1), 1);
    cr_assert_eq(g[0].start, 0x2000);
    cr_assert_eq(ll_maps_gaps_find(&m, 0, 0x10000, NULL, 0), 4);
    ll_maps_free(&m);
}

Test(maps, many_mappings_and_anon_names)
{
    /* 65,000 mappings: alternate the protection of single pages. */
    size_t pages = 65000, page = ll_page_size_get();
    uint8_t *base = mmap(NULL, pages * page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(base, MAP_FAILED);
    for (size_t i = 1; i < pages; i += 2) mprotect(base + i * page, page, PROT_NONE);
    int named = prctl(0x53564d41 /* PR_SET_VMA */, 0 /* ANON_NAME */, (unsigned long)base, page,
                      (unsigned long)"game state") == 0;
    ll_maps m;
    ll_error err;
    cr_assert_eq(ll_maps_read_pid(0, &m, &err), 0, "%s", err.msg);
    cr_assert_gt(m.count, pages);
    const ll_region *r =
        ll_maps_overlap_find(&m, (uint64_t)(uintptr_t)base, (uint64_t)(uintptr_t)base + 1);
    cr_assert_eq(r->end - r->start, page);
    if (named) cr_assert_str_eq(r->path, "[anon:game state]");
    r = ll_maps_overlap_find(&m, (uint64_t)(uintptr_t)base + page,
                             (uint64_t)(uintptr_t)base + page + 1);
    cr_assert_str_eq(r->perms, "---p");
    ll_maps_free(&m);
    munmap(base, pages * page);
}

Test(maps, no_such_process)
{
    ll_maps m;
    ll_error err;
    cr_assert_eq(ll_maps_read_pid(999999999, &m, &err), -1);
    cr_assert_str_eq(err.msg,
                     "no process has pid 999999999 (try: ps -e, or looplive addr --name NAME)");
    cr_assert_eq(ll_maps_read_pid(-3, &m, &err), -1);
    cr_assert_str_eq(err.msg, "pid -3 is not valid (a pid is positive)");
}

Test(maps, kernel_thread)
{
    ll_maps m;
    ll_error err;
    /* pid 2 is kthreadd on every Linux system. */
    cr_assert_eq(ll_maps_read_pid(2, &m, &err), -1);
    cr_assert(strstr(err.msg, "pid 2 (kthreadd) is a kernel thread: it has no user address space"),
              "%s", err.msg);
}

Test(maps, process_gone_mid_read)
{
    for (int reap = 0; reap < 2; reap++) {
        pid_t child = fork();
        if (child == 0) {
            pause();
            _exit(0);
        }
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/maps", child);
        int fd = open(path, O_RDONLY);
        cr_assert_geq(fd, 0);
        kill(child, SIGKILL);
        if (reap)
            waitpid(child, NULL, 0);
        else
            usleep(50000); /* a zombie: still in /proc, without an address space */
        ll_maps m;
        ll_error err;
        cr_assert_eq(maps_read_fd(fd, child, &m, &err), -1);
        char want[128];
        snprintf(want, sizeof want, "pid %d", child);
        cr_assert(strstr(err.msg, want), "%s", err.msg);
        cr_assert(strstr(err.msg, "exited while its maps were being read"), "%s", err.msg);
        close(fd);
        if (!reap) waitpid(child, NULL, 0);
    }
}

Test(maps, permission_explains_ptrace)
{
    if (geteuid() == 0) cr_assert_eq(setresuid(65534, 65534, 65534), 0);
    ll_maps m;
    ll_error err;
    cr_assert_eq(ll_maps_read_pid(1, &m, &err), -1);
    cr_assert(strstr(err.msg, "cannot read the maps of pid 1 ("), "%s", err.msg);
    cr_assert(strstr(err.msg, "ptrace read access"), "%s", err.msg);
    cr_assert(strstr(err.msg, "CAP_SYS_PTRACE"), "%s", err.msg);
    cr_assert(strstr(err.msg, "sudo looplive addr --pid 1"), "%s", err.msg);
    cr_assert_null(strstr(err.msg, "setuid"), "%s", err.msg);
    cr_assert_eq(err.code, EACCES);
}

Test(maps, permission_messages_for_each_rule)
{
    ll_error err;
    struct {
        unsigned owner;
        int scope;
        const char *want;
    } cases[] = {
        {1000, -1,
         "it belongs to another user, and reading another process's address space "
         "needs ptrace read access: the same user, or CAP_SYS_PTRACE"},
        {0, -1, "ptrace read access was denied (the process may be undumpable"},
        {0, 0, "ptrace read access was denied"},
        {0, 1, "Yama ptrace_scope is 1: only its parent"},
        {0, 2, "Yama ptrace_scope is 2: only CAP_SYS_PTRACE"},
        {1000, 3, "Yama ptrace_scope is 3: no process may read another's address space"},
    };
    for (size_t i = 0; i < LL_ARRAY_COUNT(cases); i++) {
        cr_assert_eq(maps_explain_access(42, "game", cases[i].owner, 0, cases[i].scope, &err), -1);
        cr_assert(strstr(err.msg, cases[i].want), "%s", err.msg);
        cr_assert(!strncmp(err.msg, "cannot read the maps of pid 42 (game, uid ", 42), "%s",
                  err.msg);
        cr_assert(strstr(err.msg, "sudo looplive addr --pid 42"), "%s", err.msg);
        cr_assert_null(strstr(err.msg, "setuid"));
        cr_assert_eq(err.code, EACCES);
    }
    maps_explain_access(42, "game", 0, 0, 1, &err);
    cr_assert(strstr(err.msg, "looplive addr --exec 'CMD'"), "%s", err.msg);
    maps_explain_access(42, "game", 0, 0, 3, &err);
    cr_assert(strstr(err.msg, "holds until reboot"), "%s", err.msg);
}

Test(maps, ptrace_scope_and_comm)
{
    int scope = maps_ptrace_scope();
    cr_assert(scope >= -1 && scope <= 3);
    char comm[64];
    cr_assert_str_eq(maps_comm(2, comm, sizeof comm), "kthreadd");
    cr_assert_str_eq(maps_comm(999999999, comm, sizeof comm), "");
}

Test(maps, launch_reads_a_running_program)
{
    ll_maps m;
    ll_error err;
    char *argv[] = {"sleep", "5", NULL};
    cr_assert_eq(ll_maps_launch(argv, 100, &m, &err), 0, "%s", err.msg);
    cr_assert_eq(m.pid, 0, "the program is gone after the read");
    cr_assert(m.exe && strstr(m.exe, "sleep"), "exe %s", m.exe ? m.exe : "(null)");
    cr_assert_gt(ll_maps_span_get(&m, LL_CHUNK_APP).count, 0);
    cr_assert_gt(ll_maps_span_get(&m, LL_CHUNK_STACK).count, 0);
    ll_maps_free(&m);
}

Test(maps, launch_reads_a_program_that_exits_first)
{
    ll_maps m;
    ll_error err;
    char *argv[] = {"true", NULL};
    uint64_t t0 = ll_now_ns();
    cr_assert_eq(ll_maps_launch(argv, 10000, &m, &err), 0, "%s", err.msg);
    cr_assert_lt(ll_now_ns() - t0, 5000000000ull, "read at its exit, not after the delay");
    cr_assert(m.exe && strstr(m.exe, "true"), "exe %s", m.exe ? m.exe : "(null)");
    ll_maps_free(&m);
}

Test(maps, launch_errors)
{
    ll_maps m;
    ll_error err;
    char *none[] = {NULL};
    cr_assert_eq(ll_maps_launch(none, 10, &m, &err), -1);
    cr_assert_str_eq(err.msg, "no program to launch (try: --exec './game --level 1')");
    char *empty[] = {"", NULL};
    cr_assert_eq(ll_maps_launch(empty, 10, &m, &err), -1);
    cr_assert(strstr(err.msg, "no program to launch"), "%s", err.msg);
    char *missing[] = {"/nonexistent/looplive-no-such-program", NULL};
    cr_assert_eq(ll_maps_launch(missing, 10, &m, &err), -1);
    cr_assert_eq(err.code, ENOENT);
    cr_assert(strstr(err.msg, "cannot run '/nonexistent/looplive-no-such-program': No such file"),
              "%s", err.msg);
}

/* A child renamed (comm) to name that waits until killed. */
static pid_t named_child(const char *name)
{
    int ready[2];
    cr_assert_eq(pipe(ready), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        prctl(PR_SET_NAME, name);
        if (write(ready[1], "x", 1) != 1) _exit(1);
        for (;;) pause();
    }
    char c;
    cr_assert_eq(read(ready[0], &c, 1), 1);
    close(ready[0]);
    close(ready[1]);
    return pid;
}

Test(maps, find_pid_by_name)
{
    char name[16];
    snprintf(name, sizeof name, "llfind%d", (int)getpid() % 100000);
    ll_error err;
    int pid = 0;
    cr_assert_eq(ll_maps_find_pid(name, &pid, &err), -1);
    cr_assert_eq(err.code, ESRCH);
    char want[128];
    snprintf(want, sizeof want, "no process is named '%s' (try: ps -e, or --pid N)", name);
    cr_assert_str_eq(err.msg, want);

    pid_t a = named_child(name);
    cr_assert_eq(ll_maps_find_pid(name, &pid, &err), 0, "%s", err.msg);
    cr_assert_eq(pid, a);

    pid_t b = named_child(name);
    cr_assert_eq(ll_maps_find_pid(name, &pid, &err), -1);
    cr_assert_eq(err.code, EEXIST);
    char pa[16], pb[16];
    snprintf(pa, sizeof pa, "%d (", (int)a);
    snprintf(pb, sizeof pb, "%d (", (int)b);
    cr_assert(strstr(err.msg, "2 processes are named") && strstr(err.msg, pa) &&
                  strstr(err.msg, pb) && strstr(err.msg, "(try: --pid N)"),
              "%s", err.msg);
    kill(a, SIGKILL);
    kill(b, SIGKILL);
    waitpid(a, NULL, 0);
    waitpid(b, NULL, 0);

    cr_assert_eq(ll_maps_find_pid("", &pid, &err), -1);
    cr_assert_str_eq(err.msg, "empty process name (try: --name game)");
}
