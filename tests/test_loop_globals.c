/* test_loop_globals.c - an application's globals are state (issue 15):
 * restored by snapshots, rewinds and a loop's wrap, saved with a recording
 * and a snapshot file and loaded back by a new load of the library (and a
 * new process: `looplive replay`), kept across reloads (static locals too),
 * and a reload whose globals changed size is refused naming them, or
 * migrated when the layout version changed. A global in a section of its
 * own is not state. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "looplive.h"

typedef struct globals_out { /* tests/loop/globals_app.c */
    int64_t counter, calls;
    uint64_t big_sum;
    char label[16];
    int64_t outside;
} globals_out;

static const char *const symbols[] = {"looplive_app"};
static ll_block block;
static ll_module *mod;
static ll_loop *loop;
static ll_error err;
static char dir[64], lib[128];

static const char *build_dir(void)
{
    const char *b = getenv("BUILD");
    return b ? b : "build";
}

static void install(const char *variant)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cp %s/tests/loop/globals_%s.so %s.new && mv %s.new %s", build_dir(),
             variant, lib, lib, lib);
    cr_assert_eq(system(cmd), 0);
}

/* What `looplive run` does: a first look says how much room the globals
 * want at the end of the block. */
static uint64_t room_of(const char *path)
{
    ll_module *probe = ll_module_open(path, &err, .symbols = symbols, .symbol_count = 1);
    cr_assert(probe, "%s", err.msg);
    ll_module_info info;
    ll_module_info_get(probe, &info);
    ll_module_close(probe);
    return info.globals_room;
}

static void open_at(void *base)
{
    uint64_t room = room_of(lib);
    cr_assert_gt(room, 0);
    memset(&block, 0, sizeof block);
    uint64_t chosen = 0;
    /* At the address looplive run would choose: far from where threads'
     * stacks go, so that a second open finds it free again. */
    if (!base && ll_base_advise((1 << 20) + room, &chosen, &err) == 0)
        base = (void *)(uintptr_t)chosen;
    cr_assert_eq(ll_block_reserve(&block, &err, .base = base, .size = (1 << 20) + room), 0, "%s",
                 err.msg);
    mod = ll_module_open(lib, &err, .symbols = symbols, .symbol_count = 1, .block = &block,
                         .no_watch = 1, .globals_room = room);
    cr_assert(mod, "%s", err.msg);
    loop = ll_loop_create(&block, &err, .module = mod, .fps = 60);
    cr_assert(loop, "%s", err.msg);
}

static void close_all(void)
{
    ll_loop_destroy(loop);
    ll_module_close(mod);
    ll_snap_end(&block);
    ll_block_release(&block);
    loop = NULL;
    mod = NULL;
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/looplive-test-globals-XXXXXX");
    cr_assert(mkdtemp(dir));
    snprintf(lib, sizeof lib, "%s/globals.so", dir);
    install("v1");
    open_at(NULL);
}

static void teardown(void)
{
    close_all();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(globals, .init = setup, .fini = teardown);

static const globals_out *out(void)
{
    return (const globals_out *)block.base;
}

static void frames(int n, int add)
{
    for (int i = 0; i < n; i++) {
        ll_platform_input p = {0};
        memcpy(p.keys, &add, sizeof add); /* no translate: the input is its first bytes */
        cr_assert_eq(ll_loop_frame_run(loop, &p, &err), 1, "%s", err.msg);
    }
}

Test(globals, start_from_their_initial_values_and_the_app_sees_its_own_size)
{
    frames(1, 3);
    cr_assert_eq(out()->counter, 103);
    cr_assert_eq(out()->calls, 1);
    cr_assert_str_eq(out()->label, "globals");
    cr_assert_eq(ll_module_app_block_get(mod)->size, 1 << 20);
    cr_assert_eq(block.base[(1 << 20) - 1], 0, "frame 0 wrote the last byte it sees");
}

Test(globals, restored_with_a_snapshot)
{
    frames(5, 2);
    ll_loop_destroy(loop); /* its snapshots would see the restore as a write */
    ll_snap *s = ll_snap_take(&block, &err);
    cr_assert(s, "%s", err.msg);
    loop = ll_loop_create(&block, &err, .module = mod, .fps = 60);
    cr_assert(loop, "%s", err.msg);
    frames(3, 2);
    cr_assert_eq(out()->counter, 116);
    ll_loop_destroy(loop);
    cr_assert_eq(ll_snap_restore(&block, s, &err), 0, "%s", err.msg);
    ll_snap_drop(&block, s);
    loop = ll_loop_create(&block, &err, .module = mod, .fps = 60);
    cr_assert(loop, "%s", err.msg);
    frames(1, 0);
    cr_assert_eq(out()->counter, 110, "counter went back to 110 with the block");
    cr_assert_eq(out()->calls, 6, "the static local too");
    cr_assert_eq(out()->outside, 10, "a global in a section of its own is not state");
}

Test(globals, rewound_and_wrapped_with_the_loop)
{
    frames(4, 1);
    frames(6, 10);
    cr_assert_eq(out()->counter, 164);
    cr_assert_eq(ll_loop_rewind(loop, 6, &err), 0, "%s", err.msg);
    frames(1, 1);
    cr_assert_eq(out()->counter, 105);
    cr_assert_eq(out()->calls, 5);
    cr_assert_eq(ll_loop_record(loop, 0, &err), 0, "%s", err.msg);
    frames(3, 7);
    cr_assert_eq(ll_loop_play(loop, 0, &err), 0, "%s", err.msg);
    uint64_t hashes[3];
    for (int pass = 0; pass < 3; pass++)
        for (int i = 0; i < 3; i++) {
            cr_assert_eq(ll_loop_frame_run(loop, NULL, &err), 1, "%s", err.msg);
            if (pass == 0) hashes[i] = ll_loop_hash_get(loop);
            cr_assert_eq(ll_loop_hash_get(loop), hashes[i], "pass %d frame %d", pass, i);
            cr_assert_eq(out()->counter, 105 + 7 * (i + 1));
            cr_assert_eq(out()->calls, 5 + i + 1);
        }
    ll_loop_diff d;
    cr_assert_eq(ll_loop_determinism_check(loop, 0, &d, &err), 0, "%s", err.msg);
    cr_assert_eq(d.differs, 0, "frame %llu byte 0x%llx", (unsigned long long)d.frame,
                 (unsigned long long)d.offset);
}

Test(globals, kept_across_reloads_static_locals_too)
{
    frames(5, 3);
    install("v2");
    cr_assert_eq(ll_module_reload(mod, &err), 0, "%s", err.msg);
    frames(1, 3);
    cr_assert_eq(out()->counter, 115 + 6, "version 2 adds twice, to the kept value");
    cr_assert_eq(out()->calls, 6);
    cr_assert_str_eq(out()->label, "globals");
}

Test(globals, a_size_change_is_refused_naming_the_global)
{
    frames(5, 3);
    uint64_t hash = ll_loop_hash_get(loop);
    install("grow");
    cr_assert_eq(ll_module_reload(mod, &err), 0, "%s", err.msg);
    ll_platform_input p = {0};
    cr_assert_eq(ll_loop_frame_run(loop, &p, &err), -1);
    cr_assert(strstr(err.msg, "the global 'counter' (4 -> 8 bytes) of globals.so changed size "
                              "in version 2: the state holds the old value (try: bump "
                              "layout_version"),
              "%s", err.msg);
    cr_assert_eq(ll_loop_hash_get(loop), hash, "the state is unchanged");
    install("v1"); /* back: the kept values are all there */
    cr_assert_eq(ll_module_reload(mod, &err), 0, "%s", err.msg);
    frames(1, 3);
    cr_assert_eq(out()->counter, 118);
    cr_assert_eq(out()->calls, 6);
}

Test(globals, a_global_pointing_out_of_the_block_is_named)
{
    close_all();
    install("c_heap");
    open_at(NULL);
    frames(2, 1);
    cr_assert_eq(ll_loop_record(loop, 0, &err), -1);
    cr_assert(strstr(err.msg, " (the global 'title' of globals.so +0x0) holds 0x"), "%s", err.msg);
    cr_assert(strstr(err.msg, "allocate it from the block"), "%s", err.msg);
}

Test(globals, a_size_change_with_a_new_layout_migrates)
{
    frames(5, 3);
    install("migrates");
    cr_assert_eq(ll_module_reload(mod, &err), 0, "%s", err.msg);
    frames(1, 3);
    cr_assert_eq(out()->counter, 503, "migrate saw the grown counter at its initial value");
    cr_assert_eq(out()->calls, 6, "the others kept theirs");
}

Test(globals, a_size_change_starts_over_with_reinit_on_layout)
{
    frames(5, 3);
    ll_loop_destroy(loop);
    loop = ll_loop_create(&block, &err, .module = mod, .fps = 60, .reinit_on_layout = 1);
    cr_assert(loop, "%s", err.msg);
    install("grow");
    cr_assert_eq(ll_module_reload(mod, &err), 0, "%s", err.msg);
    frames(1, 3);
    cr_assert_eq(out()->counter, 103);
    cr_assert_eq(out()->calls, 1);
    cr_assert_eq(ll_loop_status_get(loop).reinits, 1);
}

Test(globals, saved_and_loaded_by_a_new_load_of_the_library)
{
    frames(5, 3);
    char snap[128], rec[128], hashes[128];
    snprintf(snap, sizeof snap, "%s/state.llsnap", dir);
    snprintf(rec, sizeof rec, "%s/a.llrec", dir);
    snprintf(hashes, sizeof hashes, "%s/a.hashes", dir);
    /* With the code map, as a host saves: label points at a string of
     * this build, which the next load re-points to its own. */
    void *map;
    uint64_t map_size;
    cr_assert_eq(ll_module_codemap_build(mod, &map, &map_size, &err), 0, "%s", err.msg);
    cr_assert_eq(ll_snap_save(&block, snap, &err, .extra = map, .extra_size = map_size,
                              .extra_tag = LL_MODULE_CODEMAP_TAG),
                 0, "%s", err.msg);
    free(map);
    cr_assert_eq(ll_loop_record(loop, 0, &err), 0, "%s", err.msg);
    frames(4, 2);
    cr_assert_eq(ll_loop_save(loop, 0, rec, &err), 0, "%s", err.msg);
    /* The hashes of the recording played here, for the new process. */
    cr_assert_eq(ll_loop_play(loop, 0, &err), 0, "%s", err.msg);
    FILE *f = fopen(hashes, "w");
    cr_assert(f);
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(ll_loop_frame_run(loop, NULL, &err), 1, "%s", err.msg);
        fprintf(f, "%d %016llx\n", i, (unsigned long long)ll_loop_hash_get(loop));
    }
    fclose(f);
    void *base = block.base;
    close_all();
    open_at(base); /* a new copy of the library, its globals at their initial values */
    ll_loop_destroy(loop);
    cr_assert_eq(ll_snap_load(&block, snap, &err, .extra_tag = LL_MODULE_CODEMAP_TAG,
                              .extra_fn = ll_module_snap_extra_apply, .extra_ctx = mod),
                 0, "%s", err.msg);
    loop = ll_loop_create(&block, &err, .module = mod, .fps = 60);
    frames(1, 3);
    cr_assert_eq(out()->counter, 118);
    cr_assert_eq(out()->calls, 6);
    cr_assert_str_eq(out()->label, "globals");
    /* A new process replays the recording to the same hashes. */
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "%s/looplive replay --recording %s --module %s --check %s >/dev/null 2>&1 && "
             "%s/looplive replay --recording %s --module %s --determinism >/dev/null 2>&1",
             build_dir(), rec, lib, hashes, build_dir(), rec, lib);
    int st = system(cmd);
    cr_assert_eq(st, 0, "replay in a new process: exit %d", st);
}

Test(globals, a_room_that_is_not_whole_pages_is_refused)
{
    ll_module *m = ll_module_open(lib, &err, .symbols = symbols, .symbol_count = 1, .block = &block,
                                  .no_watch = 1, .globals_room = 100);
    cr_assert_null(m);
    cr_assert(strstr(err.msg, "globals.so': .globals_room of 100 B does not fit a block of "), "%s",
              err.msg);
    cr_assert(strstr(err.msg, "in whole pages (try: ll_module_info.globals_room of a first open, "
                              "added to the block's size)"),
              "%s", err.msg);
}

Test(globals, too_little_room_refuses_the_frame)
{
    close_all();
    memset(&block, 0, sizeof block);
    uint64_t page = ll_page_size_get();
    cr_assert_eq(ll_block_reserve(&block, &err, .size = (1 << 20) + page), 0, "%s", err.msg);
    mod = ll_module_open(lib, &err, .symbols = symbols, .symbol_count = 1, .block = &block,
                         .no_watch = 1, .globals_room = page);
    cr_assert(mod, "%s", err.msg);
    loop = ll_loop_create(&block, &err, .module = mod, .fps = 60);
    cr_assert(loop, "%s", err.msg);
    cr_assert_eq(ll_loop_frame_run(loop, NULL, &err), -1);
    cr_assert(strstr(err.msg, "the globals of version 1 of globals.so take "), "%s", err.msg);
    cr_assert(strstr(err.msg, ", the block keeps 4 KiB for them (try: start looplive run again, "
                              "which makes room for them)"),
              "%s", err.msg);
}

Test(globals, a_corrupted_mirror_refuses_the_frame)
{
    frames(2, 1);
    uint8_t *mirror = block.base + block.size - room_of(lib);
    uint64_t bad = 3; /* data_off, after magic and layout: not page aligned */
    memcpy(mirror + 16, &bad, sizeof bad);
    cr_assert_eq(ll_loop_frame_run(loop, NULL, &err), -1);
    cr_assert_str_eq(err.msg, "the globals kept at the end of the block are corrupted (try: start "
                              "the state over with the host's re-init key or --reinit)");
    cr_assert_eq(ll_loop_reinit(loop, &err), 0, "%s", err.msg); /* the way out */
    frames(1, 1);
    cr_assert_eq(out()->counter, 101, "the globals started over");
    cr_assert_eq(out()->calls, 1);
}

/* A re-simulation runs the application's update in forked processes,
 * directly: the globals come from the recording's state there too, so the
 * same build re-simulates to the recording's own hashes, and a build that
 * doubles the input changes every frame from the first. */
static ll_resim_status resim_with(const char *variant)
{
    ll_error e;
    frames(5, 3);
    cr_assert_eq(ll_loop_record(loop, 0, &err), 0, "%s", err.msg);
    frames(40, 2);
    ll_loop_stop(loop);
    frames(7, 9); /* the live globals move on: what the children start from */
    install(variant);
    cr_assert_eq(ll_module_reload(mod, &err), 0, "%s", err.msg);
    ll_resim *r = ll_resim_start(loop, &e, .slot = 0, .old_version = 1);
    cr_assert(r, "%s", e.msg);
    for (int i = 0; i < 10000 && !ll_resim_poll(r); i++) usleep(1000);
    ll_resim_status s;
    ll_resim_status_get(r, &s);
    ll_resim_destroy(r);
    cr_assert(s.done, "not done after 10 s");
    cr_assert_not(s.failed, "%s", s.error);
    cr_assert_eq(s.compared, 40);
    return s;
}

Test(globals, a_reload_that_changes_nothing_re_simulates_unchanged)
{
    ll_resim_status s = resim_with("v1");
    cr_assert_eq(s.changed, 0, "first changed: %lld", (long long)s.first_changed);
}

Test(globals, a_reload_that_doubles_the_input_re_simulates_changed)
{
    ll_resim_status s = resim_with("v2");
    cr_assert_eq(s.first_changed, 0);
    cr_assert_eq(s.changed, 40);
}
