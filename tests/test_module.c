/* test_module.c - loading, watching and reloading the code library, and
 * builds that must not load. */
#include <elf.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <sys/file.h>

#include "module/helpers.h"

TEST_SUITE_WITH_LIB(module);

static ll_module *open_lib(ll_error *err)
{
    ll_module *m = ll_module_open(t.lib, err, .symbols = test_symbols, .symbol_count = SYM_COUNT);
    cr_assert(m, "%s", err->msg);
    return m;
}

Test(module, open_binds_the_table)
{
    ll_error err;
    ll_module *m = open_lib(&err);
    cr_assert_eq(call_value(m), 1);
    cr_assert_eq(((value_fn *)ll_module_symbol_get(m, SYM_HELLO))(), 101);
    cr_assert_null(ll_module_symbol_get(m, SYM_COUNT), "an index past the table has no address");
    ll_module_info info;
    ll_module_info_get(m, &info);
    cr_assert_eq(info.version, 1);
    cr_assert_eq(info.loads, 1);
    cr_assert_str_eq(info.watch, "inotify");
    cr_assert(strncmp(info.copy_path, info.copy_dir, strlen(info.copy_dir)) == 0,
              "the code runs from a private copy, not from %s", info.copy_path);
    cr_assert_eq(ll_module_poll(m, &err), 0, "nothing new yet");
    ll_module_close(m);
}

Test(module, reload_picks_up_a_changed_function)
{
    ll_error err;
    ll_module *m = open_lib(&err);
    install(&t, "v2");
    cr_assert_eq(poll_until(m, &err, 3000), 1, "%s", err.msg);
    cr_assert_eq(call_value(m), 2);
    install(&t, "v3");
    cr_assert_eq(poll_until(m, &err, 3000), 1, "%s", err.msg);
    cr_assert_eq(call_value(m), 3);
    ll_module_info info;
    ll_module_info_get(m, &info);
    cr_assert_eq(info.version, 3);
    cr_assert_eq(info.loads, 3);
    cr_assert(strstr(info.copy_path, "/libgame.so.3"), "%s", info.copy_path);
    ll_module_close(m);
}

Test(module, build_written_in_place_loads_once_closed)
{
    ll_error err;
    ll_module *m = open_lib(&err);
    char src[PATH_MAX + 32];
    snprintf(src, sizeof src, "%s/libmod_v2.so", t.built);
    copy_file(src, t.lib); /* truncate and write, as a linker does */
    cr_assert_eq(poll_until(m, &err, 3000), 1, "%s", err.msg);
    cr_assert_eq(call_value(m), 2);
    ll_module_close(m);
}

Test(module, forced_reload)
{
    ll_error err;
    ll_module *m = open_lib(&err);
    cr_assert_eq(ll_module_reload(m, &err), 0, "%s", err.msg);
    cr_assert_eq(call_value(m), 1, "the same file again");
    ll_module_info info;
    ll_module_info_get(m, &info);
    cr_assert_eq(info.version, 2);
    ll_module_close(m);
}

/* A writer that stops half-way through the file, as a slow linker might. */
typedef struct stall {
    const char *from, *to;
    int ms;
    volatile int done;
} stall;

static void *write_with_stall(void *arg)
{
    stall *s = arg;
    FILE *in = fopen(s->from, "rb");
    fseek(in, 0, SEEK_END);
    long size = ftell(in);
    rewind(in);
    char *bytes = malloc((size_t)size);
    cr_assert_eq(fread(bytes, 1, (size_t)size, in), (size_t)size);
    fclose(in);
    int fd = open(s->to, O_WRONLY | O_TRUNC);
    cr_assert_eq(write(fd, bytes, (size_t)size / 2), size / 2);
    sleep_ms(s->ms);
    cr_assert_eq(write(fd, bytes + size / 2, (size_t)(size - size / 2)), size - size / 2);
    s->done = 1;
    close(fd);
    free(bytes);
    return NULL;
}

/* Returns how many times the ELF check refused the half-written file. */
static int half_written_never_loads(ll_module *m)
{
    ll_error err;
    char src[PATH_MAX + 32];
    snprintf(src, sizeof src, "%s/libmod_v2.so", t.built);
    stall s = {.from = src, .to = t.lib, .ms = 400};
    pthread_t th;
    pthread_create(&th, NULL, write_with_stall, &s);
    int reloaded = 0, refused = 0;
    while (!s.done) { /* the frame loop while the writer is stalled */
        int rc = ll_module_poll(m, &err);
        cr_assert_neq(rc, 1, "a half-written library was loaded");
        if (rc < 0) cr_assert(strstr(err.msg, "is incomplete"), "%s", err.msg);
        refused += rc < 0;
        cr_assert_eq(call_value(m), 1);
        sleep_ms(1);
    }
    pthread_join(th, NULL);
    for (int i = 0; i < 3000 && !reloaded; i++, sleep_ms(1))
        reloaded = ll_module_poll(m, &err) == 1;
    cr_assert(reloaded, "the completed build loads: %s", err.msg);
    cr_assert_eq(call_value(m), 2);
    return refused;
}

Test(module, half_written_library_is_never_loaded)
{
    ll_error err;
    ll_module *m = open_lib(&err);
    half_written_never_loads(m);
    ll_module_close(m);
}

Test(module, half_written_library_is_never_loaded_with_stat_polling)
{
    ll_error err;
    /* A short settle time: the stalled file looks finished to stat(), and
     * the ELF check is what must refuse it. */
    ll_module *m = ll_module_open(t.lib, &err, .symbols = test_symbols, .symbol_count = SYM_COUNT,
                                  .watch_stat = 1, .stable_ms = 5, .stat_interval_ms = 2);
    cr_assert(m, "%s", err.msg);
    ll_module_info info;
    ll_module_info_get(m, &info);
    cr_assert_str_eq(info.watch, "stat");
    cr_assert_gt(half_written_never_loads(m), 0, "the ELF check saw the stalled file");
    ll_module_close(m);
}

Test(module, directory_removed_and_made_again)
{
    ll_error err;
    ll_module *m = open_lib(&err);
    char moved[300];
    snprintf(moved, sizeof moved, "%s.old", t.path);
    cr_assert_eq(rename(t.path, moved), 0); /* as `make clean` removing build/ */
    sleep_ms(50);
    cr_assert_eq(mkdir(t.path, 0755), 0);
    install(&t, "v2");
    cr_assert_eq(poll_until(m, &err, 3000), 1, "the new directory is watched: %s", err.msg);
    cr_assert_eq(call_value(m), 2);
    cr_assert_eq(unlink(t.lib), 0); /* and removed outright */
    cr_assert_eq(rmdir(t.path), 0);
    sleep_ms(50);
    cr_assert_eq(mkdir(t.path, 0755), 0);
    install(&t, "v3");
    cr_assert_eq(poll_until(m, &err, 3000), 1, "%s", err.msg);
    cr_assert_eq(call_value(m), 3);
    ll_module_close(m);
    char lib[320];
    snprintf(lib, sizeof lib, "%s/libgame.so", moved);
    unlink(lib);
    rmdir(moved);
}

Test(module, build_lock_delays_the_load)
{
    ll_error err;
    ll_module *m = open_lib(&err);
    char lock[PATH_MAX + 8];
    snprintf(lock, sizeof lock, "%s.lock", t.lib);
    int fd = open(lock, O_RDWR | O_CREAT, 0644);
    cr_assert_eq(flock(fd, LOCK_EX), 0);
    install(&t, "v2");
    cr_assert_eq(poll_until(m, &err, 200), 0, "loaded while the build held the lock");
    cr_assert_eq(call_value(m), 1);
    flock(fd, LOCK_UN);
    close(fd);
    cr_assert_eq(poll_until(m, &err, 3000), 1, "%s", err.msg);
    cr_assert_eq(call_value(m), 2);
    ll_module_close(m);
}

static void call_through(void *ctx)
{
    cr_assert_eq(call_value(ctx), 2);
}

Test(module, missing_entry_point_keeps_the_old_code)
{
    ll_error err;
    ll_module *m = open_lib(&err);
    install(&t, "missing");
    cr_assert_eq(poll_until(m, &err, 3000), -1);
    cr_assert(strstr(err.msg, "has no entry point 'value'"), "%s", err.msg);
    cr_assert(strstr(err.msg, "version 1 keeps running"), "%s", err.msg);
    cr_assert_eq(call_value(m), 1);
    install(&t, "v2");
    cr_assert_eq(poll_until(m, &err, 3000), 1, "the next good build loads: %s", err.msg);
    cr_assert_eq(call_value(m), 2);
    ll_module_info info;
    ll_module_info_get(m, &info);
    cr_assert_eq(info.failures, 1);
    cr_assert_eq(count_entries(info.copy_dir), 2,
                 "version 1 stays (mapped, forwarding); the failed copy is gone");
    cr_assert_eq(ll_module_protect(m, call_through, m, &err), 0, "%s", err.msg);
    cr_assert_eq(count_entries(info.copy_dir), 2, "version 2 proved good: version 1 stays");
    ll_module_close(m);
}

Test(module, unresolved_symbol_keeps_the_old_code)
{
    ll_error err;
    ll_module *m = open_lib(&err);
    install(&t, "unresolved");
    cr_assert_eq(poll_until(m, &err, 3000), -1);
    cr_assert(strstr(err.msg, "cannot load"), "%s", err.msg);
    cr_assert(strstr(err.msg, "looplive_test_no_such_function"), "%s", err.msg);
    cr_assert_eq(call_value(m), 1);
    install(&t, "v3");
    cr_assert_eq(poll_until(m, &err, 3000), 1, "%s", err.msg);
    cr_assert_eq(call_value(m), 3);
    ll_module_close(m);
}

static void write_text(const char *path, const void *bytes, size_t n)
{
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.new", path);
    FILE *f = fopen(tmp, "wb");
    cr_assert_eq(fwrite(bytes, 1, n, f), n);
    fclose(f);
    cr_assert_eq(rename(tmp, path), 0);
}

Test(module, bad_elf_keeps_the_old_code)
{
    ll_error err;
    ll_module *m = open_lib(&err);
    write_text(t.lib, "#!/bin/sh\necho not a library\n", 29);
    cr_assert_eq(poll_until(m, &err, 3000), -1);
    cr_assert(strstr(err.msg, "is not an ELF file (it starts with 23 21 2f 62"), "%s", err.msg);
    cr_assert_eq(call_value(m), 1);
    ll_module_close(m);
}

/* Each ELF check, on a doctored copy of a good library. */
static void elf_case(size_t at, const void *bytes, size_t n, long truncate_to, const char *want)
{
    char src[PATH_MAX + 32];
    snprintf(src, sizeof src, "%s/libmod_v2.so", t.built);
    copy_file(src, t.lib);
    int fd = open(t.lib, O_RDWR);
    if (n) cr_assert_eq(pwrite(fd, bytes, n, (off_t)at), (ssize_t)n);
    if (truncate_to >= 0) cr_assert_eq(ftruncate(fd, truncate_to), 0);
    close(fd);
    ll_error err;
    cr_assert_null(ll_module_open(t.lib, &err, .symbols = test_symbols, .symbol_count = 1));
    cr_assert(strstr(err.msg, want), "want '%s' in: %s", want, err.msg);
}

Test(module, elf_checks)
{
    uint8_t b32 = 1, so[2] = {2, 0}, arm[2] = {183, 0};
    elf_case(4, &b32, 1, -1, "is a 32-bit ELF file");
    elf_case(16, so, 2, -1, "is not a shared library (ELF type 2");
    elf_case(18, arm, 2, -1, "is built for ELF machine 183");
    elf_case(0, NULL, 0, 0, "is empty (still being written?)");
    elf_case(0, NULL, 0, 40, "its ELF header end at byte 64 but the file has 40");
    elf_case(0, NULL, 0, 2000, "is incomplete");
    uint16_t no_ph = 0;
    elf_case(56, &no_ph, 2, -1, "has no usable program headers");
}

/* A segment past the first 64 program headers is checked too: a table of
 * 70 moved to the end of the file, its 66th a PT_LOAD beyond the end. */
Test(module, segment_past_64_program_headers_is_checked)
{
    char src[PATH_MAX + 32];
    snprintf(src, sizeof src, "%s/libmod_v2.so", t.built);
    copy_file(src, t.lib);
    int fd = open(t.lib, O_RDWR);
    Elf64_Ehdr eh;
    cr_assert_eq(pread(fd, &eh, sizeof eh, 0), (ssize_t)sizeof eh);
    struct stat st;
    cr_assert_eq(fstat(fd, &st), 0);
    Elf64_Phdr ph[70];
    memset(ph, 0, sizeof ph);
    cr_assert_leq(eh.e_phnum, 64);
    size_t old = eh.e_phnum * sizeof ph[0];
    cr_assert_eq(pread(fd, ph, old, (off_t)eh.e_phoff), (ssize_t)old);
    ph[65] = (Elf64_Phdr){.p_type = PT_LOAD, .p_offset = 0, .p_filesz = (uint64_t)st.st_size * 4};
    eh.e_phoff = (uint64_t)st.st_size;
    eh.e_phnum = 70;
    cr_assert_eq(pwrite(fd, ph, sizeof ph, (off_t)eh.e_phoff), (ssize_t)sizeof ph);
    cr_assert_eq(pwrite(fd, &eh, sizeof eh, 0), (ssize_t)sizeof eh);
    close(fd);
    ll_error err;
    cr_assert_null(ll_module_open(t.lib, &err));
    char want[128];
    snprintf(want, sizeof want, "its segments end at byte %llu but the file has %llu",
             (unsigned long long)st.st_size * 4, (unsigned long long)st.st_size + sizeof ph);
    cr_assert(strstr(err.msg, want), "want '%s' in: %s", want, err.msg);
}

Test(module, library_without_dynamic_section)
{
    char src[PATH_MAX + 32];
    snprintf(src, sizeof src, "%s/libmod_v2.so", t.built);
    copy_file(src, t.lib);
    int fd = open(t.lib, O_RDWR);
    Elf64_Ehdr eh;
    cr_assert_eq(pread(fd, &eh, sizeof eh, 0), (ssize_t)sizeof eh);
    for (int i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        off_t at = (off_t)(eh.e_phoff + (uint64_t)i * sizeof ph);
        cr_assert_eq(pread(fd, &ph, sizeof ph, at), (ssize_t)sizeof ph);
        if (ph.p_type != PT_DYNAMIC) continue;
        ph.p_type = PT_NOTE;
        cr_assert_eq(pwrite(fd, &ph, sizeof ph, at), (ssize_t)sizeof ph);
    }
    close(fd);
    ll_error err;
    cr_assert_null(ll_module_open(t.lib, &err));
    cr_assert(strstr(err.msg, "has no dynamic section (build it with cc -shared)"), "%s", err.msg);
}

Test(module, copy_errors_keep_the_old_code)
{
    ll_error err;
    ll_module *m = open_lib(&err);
    ll_module_info info;
    ll_module_info_get(m, &info);
    char copy[PATH_MAX];
    snprintf(copy, sizeof copy, "%s", info.copy_path);
    cr_assert_eq(unlink(copy), 0); /* the loaded image does not need its file */
    cr_assert_eq(rmdir(info.copy_dir), 0);
    cr_assert_eq(ll_module_reload(m, &err), -1);
    cr_assert(strstr(err.msg, "cannot copy"), "%s", err.msg);
    cr_assert(strstr(err.msg, "No such file or directory; version 1 keeps running"), "%s", err.msg);
    cr_assert_eq(call_value(m), 1);
    ll_module_close(m);
}

Test(module, open_errors)
{
    ll_error err;
    cr_assert_null(ll_module_open("/nonexistent/libx.so", &err));
    cr_assert(strstr(err.msg, "cannot open module '/nonexistent/libx.so': No such file"), "%s",
              err.msg);
    cr_assert_null(ll_module_open(NULL, &err));
    cr_assert(strstr(err.msg, "no module path given"), "%s", err.msg);
    cr_assert_null(ll_module_open(t.lib, &err, .symbol_count = 2));
    cr_assert(strstr(err.msg, "symbol_count is 2 but symbols is NULL"), "%s", err.msg);
    const char *names[] = {"value", NULL};
    cr_assert_null(ll_module_open(t.lib, &err, .symbols = names, .symbol_count = 2));
    cr_assert(strstr(err.msg, "entry point name 1 is NULL"), "%s", err.msg);
    const char *absent[] = {"no_such_entry"};
    cr_assert_null(ll_module_open(t.lib, &err, .symbols = absent, .symbol_count = 1));
    cr_assert(strstr(err.msg, "has no entry point 'no_such_entry'"), "%s", err.msg);
    ll_module_close(NULL);
}

Test(module, copy_dir_error)
{
    ll_error err;
    setenv("TMPDIR", "/nonexistent-dir", 1);
    cr_assert_null(ll_module_open(t.lib, &err));
    cr_assert(strstr(err.msg, "cannot create a directory for copies"), "%s", err.msg);
    cr_assert(strstr(err.msg, "in /nonexistent-dir"), "%s", err.msg);
}

static int count_prefixed(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    int found = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        found += !strncmp(e->d_name, prefix, strlen(prefix));
    if (d) closedir(d);
    return found;
}

Test(module, copies_of_a_dead_process_are_swept)
{
    /* A process that was killed before ll_module_close. */
    pid_t pid = fork();
    if (pid == 0) {
        ll_error e;
        if (ll_module_open(t.lib, &e)) kill(getpid(), SIGKILL);
        _exit(3);
    }
    int status;
    waitpid(pid, &status, 0);
    cr_assert(WIFSIGNALED(status), "the child opened the module and was killed");
    const char *tmp = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char left[64];
    snprintf(left, sizeof left, "looplive-libgame.so-%d-", (int)pid);
    cr_assert_eq(count_prefixed(tmp, left), 1, "the killed process left its copies");
    ll_error err;
    ll_module *m = open_lib(&err);
    cr_assert_eq(count_prefixed(tmp, left), 0, "the next open swept them");
    ll_module_close(m);
}

Test(module, close_removes_the_copies)
{
    ll_error err;
    ll_module *m = open_lib(&err);
    install(&t, "v2");
    cr_assert_eq(poll_until(m, &err, 3000), 1, "%s", err.msg);
    ll_module_info info;
    ll_module_info_get(m, &info);
    char dir[256];
    snprintf(dir, sizeof dir, "%s", info.copy_dir);
    cr_assert_geq(count_entries(dir), 1);
    ll_module_close(m);
    cr_assert_eq(access(dir, F_OK), -1, "%s is gone", dir);
}
