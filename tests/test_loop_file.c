/* test_loop_file.c - recordings on disk (save, load, every bad input), a
 * module reload during playback, and the determinism check. */
#include <criterion/criterion.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loop/helpers.h"
#include "memory/memory.h"
#include "loop/loop.h"

#include <xxhash.h>

static const ll_app app = TEST_APP(app_update_v1);

static ll_block block;
static ll_loop *loop;
static ll_error err;
static char dir[64], path[128];

static void setup(void)
{
    memset(&block, 0, sizeof block);
    cr_assert_eq(ll_block_reserve(&block, &err, .size = 1 << 20), 0, "%s", err.msg);
    loop = ll_loop_create(&block, &err, .app = &app);
    cr_assert(loop, "%s", err.msg);
    snprintf(dir, sizeof dir, "/tmp/looplive-test-loop-XXXXXX");
    cr_assert(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/a.llrec", dir);
}

static void teardown(void)
{
    ll_loop_destroy(loop);
    ll_snap_end(&block);
    ll_block_release(&block);
    unlink(path);
    rmdir(dir);
}

static void run(uint64_t frames, uint64_t first, uint64_t *hashes)
{
    for (uint64_t i = 0; i < frames; i++) {
        ll_platform_input p = {0};
        p.mouse_x = (int32_t)((first + i) * 7 % 13) - 6;
        p.mouse_y = (int32_t)((first + i) * 5 % 11);
        cr_assert_eq(ll_loop_frame_run(loop, &p, &err), 1, "%s", err.msg);
        if (hashes) hashes[i] = ll_loop_hash_get(loop);
    }
}

/* Records 40 frames into slot 0 and saves them; returns the start hash. */
static uint64_t record_and_save(uint64_t *hashes)
{
    run(4, 100, NULL);
    uint64_t start = ll_loop_hash_get(loop);
    cr_assert_eq(ll_loop_record(loop, 0, &err), 0, "%s", err.msg);
    run(40, 0, hashes);
    cr_assert_eq(ll_loop_save(loop, 0, path, &err), 0, "%s", err.msg);
    return start;
}

TestSuite(loop_file, .init = setup, .fini = teardown);

Test(loop_file, save_then_load_in_a_fresh_block_replays_the_same_hashes)
{
    uint64_t live[40];
    uint64_t start = record_and_save(live);
    ll_loop_file info;
    cr_assert_eq(ll_loop_file_read(path, &info, &err), 0, "%s", err.msg);
    cr_assert_eq(info.frames, 40);
    cr_assert_eq(info.layout_version, 7);
    cr_assert_eq(info.input_size, sizeof(app_input));
    cr_assert_eq(info.block_base, (uint64_t)(uintptr_t)block.base);
    cr_assert_eq(info.block_size, block.size);
    cr_assert_eq(info.start_frame, 4);
    cr_assert_str_eq(info.app_name, "test");
    cr_assert_leq(info.pages, 12, "only the pages written are stored");
    /* A fresh block at the same address, as a later process would have. */
    uint8_t *base = block.base;
    ll_loop_destroy(loop);
    ll_snap_end(&block);
    ll_block_release(&block);
    cr_assert_eq(ll_block_reserve(&block, &err, .base = base, .size = 1 << 20), 0, "%s", err.msg);
    loop = ll_loop_create(&block, &err, .app = &app);
    cr_assert(loop, "%s", err.msg);
    cr_assert_eq(ll_loop_load(loop, 3, path, &err), 0, "%s", err.msg);
    cr_assert_eq(ll_loop_hash_get(loop), start);
    cr_assert_eq(ll_loop_slot_frames_get(loop, 3), 40);
    cr_assert_eq(ll_loop_status_get(loop).frame, 4);
    cr_assert_eq(ll_loop_play(loop, 3, &err), 0, "%s", err.msg);
    for (int i = 0; i < 40; i++) {
        cr_assert_eq(ll_loop_frame_run(loop, NULL, &err), 1, "%s", err.msg);
        cr_assert_eq(ll_loop_hash_get(loop), live[i], "frame %d", i);
    }
}

Test(loop_file, save_leaves_the_present_state)
{
    run(3, 0, NULL);
    cr_assert_eq(ll_loop_record(loop, 1, &err), 0, "%s", err.msg);
    run(20, 0, NULL);
    uint64_t now = ll_loop_hash_get(loop);
    uint64_t c = *(uint64_t *)block.base;
    cr_assert_eq(ll_loop_save(loop, 1, path, &err), 0, "%s", err.msg);
    cr_assert_eq(ll_loop_hash_get(loop), now);
    cr_assert_eq(*(uint64_t *)block.base, c);
    run(1, 20, NULL); /* and the loop goes on */
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0644);
}

/* Loading must fail with msg and leave block, hash and slots as they were. */
static void expect_load_fails(const char *msg)
{
    uint8_t *before = malloc(block.size);
    memcpy(before, block.base, block.size);
    uint64_t hash = ll_loop_hash_get(loop), frames = ll_loop_slot_frames_get(loop, 0);
    ll_loop_status st = ll_loop_status_get(loop);
    cr_assert_eq(ll_loop_load(loop, 0, path, &err), -1);
    cr_assert(strstr(err.msg, msg), "%s", err.msg);
    cr_assert_eq(memcmp(before, block.base, block.size), 0, "block unchanged");
    cr_assert_eq(ll_loop_hash_get(loop), hash);
    cr_assert_eq(ll_loop_slot_frames_get(loop, 0), frames);
    cr_assert_eq(ll_loop_status_get(loop).mode, st.mode);
    free(before);
}

static void patch_file(long at, const void *bytes, size_t n)
{
    int fd = open(path, O_WRONLY);
    cr_assert_geq(fd, 0);
    cr_assert_eq(pwrite(fd, bytes, n, at), (ssize_t)n);
    close(fd);
}

/* Rewrites the checksum so that only the field under test is wrong. */
static void fix_checksum(void)
{
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    uint8_t *data = malloc((size_t)size);
    fseek(f, 0, SEEK_SET);
    cr_assert_eq(fread(data, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    memset(data + 16, 0, 8);
    uint64_t sum = XXH3_64bits(data, (size_t)size);
    free(data);
    patch_file(16, &sum, 8);
}

Test(loop_file, truncated_recording)
{
    record_and_save(NULL);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(truncate(path, st.st_size - 100), 0);
    expect_load_fails("truncated or extended recording: header says");
    cr_assert_eq(truncate(path, 50), 0);
    expect_load_fails("truncated recording: 50 bytes, shorter than its 128-byte header");
}

Test(loop_file, corrupted_recording)
{
    record_and_save(NULL);
    uint8_t x = 0xee;
    patch_file(128 + 8 + 9, &x, 1);
    expect_load_fails("corrupted recording: checksum");
}

Test(loop_file, not_a_recording)
{
    record_and_save(NULL);
    patch_file(0, "NOTLLREC", 8);
    expect_load_fails("not a looplive recording");
}

/* A short file that does not start like a recording is no recording cut
 * short: an 11-byte text file, an empty file. */
Test(loop_file, a_short_text_file_is_not_a_recording)
{
    record_and_save(NULL);
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fputs("hello world", f);
    fclose(f);
    expect_load_fails("not a looplive recording (no LLREC magic; try: a file saved by the s key");
    cr_assert_eq(truncate(path, 0), 0);
    expect_load_fails("not a looplive recording");
}

Test(loop_file, other_format_version)
{
    record_and_save(NULL);
    uint32_t v = 99;
    patch_file(8, &v, 4);
    fix_checksum();
    expect_load_fails("recording format version 99, this looplive reads version 2");
}

Test(loop_file, corrupted_sections)
{
    record_and_save(NULL);
    uint64_t pages = 1u << 30;
    patch_file(80, &pages, 8);
    fix_checksum();
    expect_load_fails("corrupted recording: sections do not add up");
}

Test(loop_file, corrupted_page_offset)
{
    record_and_save(NULL);
    uint64_t off = 123;
    patch_file(128, &off, 8);
    fix_checksum();
    expect_load_fails("corrupted recording: page 0 at offset 0x7b");
}

Test(loop_file, wrong_layout_version)
{
    record_and_save(NULL);
    ll_app v2 = app;
    v2.layout_version = 8;
    ll_loop_app_set(loop, &v2);
    expect_load_fails("recording has layout version 7, the application test has 8");
}

Test(loop_file, another_application)
{
    record_and_save(NULL);
    ll_app other = app;
    other.name = "pong";
    other.layout_version = 9;
    ll_loop_app_set(loop, &other);
    expect_load_fails("recording was made by the application test, this is pong (try: play it "
                      "with test's library)");
}

Test(loop_file, wrong_input_size)
{
    record_and_save(NULL);
    ll_app v2 = app;
    v2.input_size = 12;
    ll_loop_app_set(loop, &v2);
    expect_load_fails("recording has 8-byte inputs, the application test takes 12");
}

Test(loop_file, different_block_size)
{
    record_and_save(NULL);
    uint64_t size = 2 << 20;
    patch_file(48, &size, 8);
    fix_checksum();
    expect_load_fails("recording was made in a 2 MiB block at");
    cr_assert(strstr(err.msg, "this block is 1 MiB at"), "%s", err.msg);
}

Test(loop_file, different_block_base)
{
    record_and_save(NULL);
    uint64_t base = (uint64_t)(uintptr_t)block.base + (1ull << 30);
    patch_file(40, &base, 8);
    fix_checksum();
    expect_load_fails("recording was made in a 1 MiB block at 0x");
    cr_assert(strstr(err.msg, "try: reserve the block at the recording's base and size"), "%s",
              err.msg);
    /* The way to do that with the ready-made host, exactly. */
    char want[128];
    snprintf(want, sizeof want, "e.g. looplive run --base 0x%llx --size 0x100000)",
             (unsigned long long)base);
    cr_assert(strstr(err.msg, want), "wanted '%s' in: %s", want, err.msg);
}

Test(loop_file, missing_file)
{
    snprintf(path, sizeof path, "%s/none.llrec", dir);
    expect_load_fails("cannot open recording");
    cr_assert_eq(ll_loop_file_read(path, &(ll_loop_file){0}, &err), -1);
    cr_assert(strstr(err.msg, "No such file"), "%s", err.msg);
}

Test(loop_file, save_to_a_missing_directory)
{
    cr_assert_eq(ll_loop_record(loop, 0, &err), 0, "%s", err.msg);
    run(2, 0, NULL);
    cr_assert_eq(ll_loop_save(loop, 0, "/nonexistent-dir/x.llrec", &err), -1);
    cr_assert(strstr(err.msg, "cannot create '/nonexistent-dir/x.llrec.tmp."), "%s", err.msg);
}

Test(loop_file, determinism_passes_for_a_deterministic_app)
{
    record_and_save(NULL);
    ll_loop_diff d;
    cr_assert_eq(ll_loop_determinism_check(loop, 0, &d, &err), 0, "%s", err.msg);
    cr_assert_eq(d.differs, 0);
    cr_assert_eq(d.frames, 40);
    cr_assert_eq(ll_loop_status_get(loop).mode, LL_LOOP_LIVE);
}

/* ---- through real modules ------------------------------------------------ */

static uint64_t full_hash(void)
{
    return block_full_hash(&block);
}

static const char *const symbols[] = {"looplive_app"};

static void copy_file(const char *from, const char *to)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cp %s %s.new && mv %s.new %s", from, to, to, to);
    cr_assert_eq(system(cmd), 0);
}

static const char *build_dir(void)
{
    const char *b = getenv("BUILD");
    return b ? b : "build";
}

static ll_loop *module_loop(const char *lib, ll_module **m)
{
    *m = ll_module_open(lib, &err, .symbols = symbols, .symbol_count = 1, .block = &block);
    cr_assert(*m, "%s", err.msg);
    ll_loop *l = ll_loop_create(&block, &err, .module = *m);
    cr_assert(l, "%s", err.msg);
    return l;
}

Test(loop_file, module_reload_during_playback_takes_effect_next_frame)
{
    char lib[160], src[160];
    snprintf(lib, sizeof lib, "%s/app.so", dir);
    snprintf(src, sizeof src, "%s/tests/loop/app_v1.so", build_dir());
    copy_file(src, lib);
    ll_module *m;
    ll_loop_destroy(loop);
    loop = module_loop(lib, &m);
    cr_assert_eq(ll_loop_record(loop, 0, &err), 0, "%s", err.msg);
    for (int i = 0; i < 10; i++) {
        ll_platform_input p = {0};
        p.keys[0] = 3; /* app.c has no translate: the input is the first 8 bytes */
        cr_assert_eq(ll_loop_frame_run(loop, &p, &err), 1, "%s", err.msg);
    }
    cr_assert_eq(*(uint64_t *)block.base, 30);
    cr_assert_eq(ll_loop_play(loop, 0, &err), 0, "%s", err.msg);
    for (int i = 0; i < 4; i++) cr_assert_eq(ll_loop_frame_run(loop, NULL, &err), 1, "%s", err.msg);
    cr_assert_eq(*(uint64_t *)block.base, 12);
    snprintf(src, sizeof src, "%s/tests/loop/app_v2.so", build_dir());
    copy_file(src, lib);
    cr_assert_eq(ll_module_reload(m, &err), 0, "%s", err.msg);
    cr_assert_eq(ll_loop_frame_run(loop, NULL, &err), 1, "%s", err.msg);
    cr_assert_eq(*(uint64_t *)block.base, 18, "version 2 adds twice the input");
    for (int i = 0; i < 5; i++) cr_assert_eq(ll_loop_frame_run(loop, NULL, &err), 1);
    cr_assert_eq(ll_loop_frame_run(loop, NULL, &err), 1, "%s", err.msg); /* wraps */
    cr_assert_eq(ll_loop_status_get(loop).loops, 1);
    cr_assert_eq(*(uint64_t *)block.base, 6);
    /* Under the module's protection (a snapshot per call) the hash still
     * sees every write, the host's between frames included. */
    cr_assert_eq(ll_loop_hash_get(loop), full_hash());
    block.base[9 * block.page_size + 1] = 0x77;
    cr_assert_eq(ll_loop_frame_run(loop, NULL, &err), 1, "%s", err.msg);
    cr_assert_eq(ll_loop_hash_get(loop), full_hash());
    ll_loop_destroy(loop);
    loop = NULL;
    ll_module_close(m);
    unlink(lib);
}

Test(loop_file, determinism_names_frame_and_byte_for_state_outside_the_block)
{
    char lib[160];
    snprintf(lib, sizeof lib, "%s/tests/loop/app_nondet.so", build_dir());
    ll_module *m;
    ll_loop_destroy(loop);
    loop = module_loop(lib, &m);
    const ll_app *a = ((ll_app_get *)ll_module_symbol_get(m, 0))();
    cr_assert_eq(a->init(&block), 0);
    cr_assert_eq(ll_loop_record(loop, 0, &err), 0, "%s", err.msg);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(ll_loop_frame_run(loop, NULL, &err), 1, "%s", err.msg);
    ll_loop_diff d;
    cr_assert_eq(ll_loop_determinism_check(loop, 0, &d, &err), 0, "%s", err.msg);
    cr_assert_eq(d.differs, 1);
    cr_assert_eq(d.frame, 0);
    const ll_arena *scratch = ll_block_arena_find(&block, "scratch");
    cr_assert(scratch);
    cr_assert_eq(d.offset, (uint64_t)(scratch->begin - block.base) + 100);
    cr_assert_str_eq(ll_block_owner_get(&block, d.offset), "scratch");
    cr_assert_eq((uint8_t)(d.first + 1), d.second);
    cr_assert_neq(d.hash_first, d.hash_second);
    ll_loop_destroy(loop);
    loop = NULL;
    ll_module_close(m);
}

Test(loop_file, crash_in_update_leaves_the_frame_undone)
{
    char lib[160];
    snprintf(lib, sizeof lib, "%s/tests/loop/app_crash.so", build_dir());
    ll_module *m;
    ll_loop_destroy(loop);
    loop = module_loop(lib, &m);
    ll_platform_input p = {0};
    p.keys[0] = 5;
    cr_assert_eq(ll_loop_frame_run(loop, &p, &err), 1, "%s", err.msg);
    uint64_t hash = ll_loop_hash_get(loop);
    p.keys[0] = 99;
    cr_assert_eq(ll_loop_frame_run(loop, &p, &err), -1);
    cr_assert(strstr(err.msg, "SIGSEGV"), "%s", err.msg);
    cr_assert_eq(*(uint64_t *)block.base, 5, "the counter write was rolled back");
    cr_assert_eq(ll_loop_hash_get(loop), hash);
    cr_assert_eq(ll_loop_hash_get(loop), full_hash());
    cr_assert_eq(ll_loop_status_get(loop).frame, 1);
    p.keys[0] = 1;
    cr_assert_eq(ll_loop_frame_run(loop, &p, &err), 1, "%s", err.msg);
    cr_assert_eq(*(uint64_t *)block.base, 6);
    cr_assert_eq(ll_loop_hash_get(loop), full_hash());
    ll_loop_destroy(loop);
    loop = NULL;
    ll_module_close(m);
}

/* A frame with a module costs one page table walk: the loop hands its own
 * snapshot (the state the frame starts from) to ll_module_protect. A fault
 * in the middle of update must still put back every byte. */
Test(loop_file, crash_mid_update_restores_every_byte_of_the_frame_start)
{
    char lib[160];
    snprintf(lib, sizeof lib, "%s/tests/loop/app_crash.so", build_dir());
    ll_module *m;
    ll_loop_destroy(loop);
    loop = module_loop(lib, &m);
    ll_platform_input p = {0};
    for (uint32_t i = 0; i < 6; i++) {
        p.keys[0] = (uint8_t)(i + 1);
        p.keys[4] = (uint8_t)(10 + i * 17); /* a different page each frame */
        cr_assert_eq(ll_loop_frame_run(loop, &p, &err), 1, "%s", err.msg);
    }
    uint8_t *start = malloc(block.size);
    memcpy(start, block.base, block.size);
    size_t snaps = ll_snap_count_get(&block);
    ll_loop_status before = ll_loop_status_get(loop);
    /* A write between frames: the frame starts where the previous one left
     * the block, so the fault undoes this too. */
    block.base[200 * 4096 + 5] = 0x77;
    p.keys[0] = 99; /* app_crash writes the counter, then faults */
    p.keys[4] = 0;
    cr_assert_eq(ll_loop_frame_run(loop, &p, &err), -1);
    cr_assert(strstr(err.msg, "SIGSEGV"), "%s", err.msg);
    cr_assert(strstr(err.msg, "block restored to its state before the call"), "%s", err.msg);
    cr_assert_eq(memcmp(block.base, start, block.size), 0, "the block equals the frame's start");
    cr_assert_eq(ll_snap_count_get(&block), snaps, "no snapshot taken or dropped by the fault");
    ll_loop_status after = ll_loop_status_get(loop);
    cr_assert_eq(after.frame, before.frame, "the frame did not happen");
    cr_assert_eq(after.rewind_frames, before.rewind_frames);
    cr_assert_eq(ll_loop_hash_get(loop), before.hash);
    cr_assert_eq(ll_loop_hash_get(loop), full_hash());
    /* The window still rewinds, and frames run on from the undone one. */
    cr_assert_eq(ll_loop_rewind(loop, 2, &err), 0, "%s", err.msg);
    cr_assert_eq(*(uint64_t *)block.base, 1 + 2 + 3 + 4);
    p.keys[0] = 1;
    cr_assert_eq(ll_loop_frame_run(loop, &p, &err), 1, "%s", err.msg);
    cr_assert_eq(*(uint64_t *)block.base, 1 + 2 + 3 + 4 + 1);
    cr_assert_eq(ll_loop_hash_get(loop), full_hash());
    free(start);
    ll_loop_destroy(loop);
    loop = NULL;
    ll_module_close(m);
}

static void crash_between_frames(void *arg)
{
    uint8_t *base = arg;
    base[300 * 4096] = 0x55; /* damage, then fault like a bad render */
    raise(SIGSEGV);
}

/* A call between frames (a host's render) protected with the loop's own
 * snapshot: no snapshot of its own, and a crash puts back the end of the
 * last frame, which the loop's hash still describes. */
Test(loop_file, calls_between_frames_can_use_the_loop_snapshot)
{
    char lib[160];
    snprintf(lib, sizeof lib, "%s/tests/loop/app_crash.so", build_dir());
    ll_module *m;
    ll_loop_destroy(loop);
    loop = module_loop(lib, &m);
    ll_platform_input p = {0};
    p.keys[0] = 4;
    p.keys[4] = 9;
    cr_assert_eq(ll_loop_frame_run(loop, &p, &err), 1, "%s", err.msg);
    ll_snap *s = ll_loop_snap_get(loop);
    cr_assert_not_null(s);
    uint8_t *end = malloc(block.size);
    memcpy(end, block.base, block.size);
    size_t snaps = ll_snap_count_get(&block);
    cr_assert_eq(ll_module_protect(m, crash_between_frames, block.base, &err, .snap = s), -1);
    cr_assert(strstr(err.msg, "block restored to its state before the call"), "%s", err.msg);
    cr_assert_eq(memcmp(block.base, end, block.size), 0);
    cr_assert_eq(ll_snap_count_get(&block), snaps);
    cr_assert_eq(ll_loop_snap_get(loop), s, "still the loop's");
    cr_assert_eq(ll_loop_frame_run(loop, &p, &err), 1, "%s", err.msg);
    cr_assert_eq(*(uint64_t *)block.base, 8);
    cr_assert_eq(ll_loop_hash_get(loop), full_hash());
    cr_assert_neq(ll_loop_snap_get(loop), s, "each frame takes a new one");
    free(end);
    ll_loop_destroy(loop);
    loop = NULL;
    ll_module_close(m);
}

static double seen_dt;

static void dt_update(ll_block *b, const void *input, uint64_t frame, double dt)
{
    seen_dt = dt;
    app_update_v1(b, input, frame, dt);
}

Test(loop_file, playback_uses_the_recording_frame_rate)
{
    record_and_save(NULL);
    ll_app a = app;
    a.update = dt_update;
    ll_loop_destroy(loop);
    loop = ll_loop_create(&block, &err, .app = &a, .fps = 30);
    cr_assert(loop, "%s", err.msg);
    cr_assert_eq(ll_loop_frame_run(loop, NULL, &err), 1, "%s", err.msg);
    cr_assert_float_eq(seen_dt, 1.0 / 30, 1e-12);
    cr_assert_eq(ll_loop_load(loop, 2, path, &err), 0, "%s", err.msg);
    cr_assert_eq(ll_loop_play(loop, 2, &err), 0, "%s", err.msg);
    cr_assert_eq(ll_loop_frame_run(loop, NULL, &err), 1, "%s", err.msg);
    cr_assert_float_eq(seen_dt, 1.0 / 60, 1e-12);
    ll_loop_stop(loop);
    cr_assert_eq(ll_loop_frame_run(loop, NULL, &err), 1, "%s", err.msg);
    cr_assert_float_eq(seen_dt, 1.0 / 30, 1e-12);
}

/* ---- untrusted recordings: frame rate, the start state's arena table ---- */

static void expect_fps_refused(double fps, const char *shown)
{
    record_and_save(NULL);
    patch_file(96, &fps, 8);
    fix_checksum();
    char want[128];
    snprintf(want, sizeof want, "corrupted recording: frame rate %s is not above 0", shown);
    expect_load_fails(want);
    cr_assert_eq(ll_loop_file_read(path, &(ll_loop_file){0}, &err), -1);
    cr_assert(strstr(err.msg, want), "%s", err.msg);
}

Test(loop_file, infinite_frame_rate)
{
    expect_fps_refused(1.0 / 0.0, "inf");
}

Test(loop_file, nan_frame_rate)
{
    expect_fps_refused(0.0 / 0.0, "NaN");
}

Test(loop_file, zero_frame_rate)
{
    expect_fps_refused(0, "0");
}

Test(loop_file, negative_frame_rate)
{
    expect_fps_refused(-60, "-60");
}

Test(loop_file, replay_of_a_zero_frame_rate_says_so)
{
    record_and_save(NULL);
    double fps = 0;
    patch_file(96, &fps, 8);
    fix_checksum();
    char cmd[512], out[1024] = "";
    snprintf(cmd, sizeof cmd,
             "%s/looplive replay --recording %s --module %s/tests/loop/app_v1.so 2>&1", build_dir(),
             path, build_dir());
    FILE *p = popen(cmd, "r");
    cr_assert(p);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = 0;
    pclose(p);
    cr_assert(strstr(out, "frame rate 0 is not above 0"), "%s", out);
    cr_assert_null(strstr(out, "inf s"), "%s", out);
}

Test(loop_file, crafted_arena_table_in_the_start_state)
{
    record_and_save(NULL);
    /* Page 0 of the start state becomes an arena table that counts 250
     * arenas in a table of 64 (the checksum recomputed, as anyone can). */
    memory_header h = {.magic = MEMORY_MAGIC, .version = MEMORY_VERSION, .arena_count = 250};
    h.header_size = (uint32_t)ll_align_up(sizeof h, 4096);
    h.base = (uint64_t)(uintptr_t)block.base;
    h.size = h.next = block.size;
    uint64_t off;
    int fd = open(path, O_RDONLY);
    cr_assert_eq(pread(fd, &off, 8, 128), 8);
    close(fd);
    cr_assert_eq(off, 0, "the recording's first page is page 0");
    patch_file(128 + 8, &h, offsetof(memory_header, arenas));
    fix_checksum();
    expect_load_fails("recording's start state: the block's arena table is corrupted: it counts "
                      "more arenas than the table holds (arena 250)");
}

/* What a user may find named slotN.llrec: a folder, a FIFO (whose open
 * would wait for a writer forever and freeze the host), a missing file.
 * Each is refused at once, saying what to do. */
Test(loop_file, a_file_that_is_no_regular_file_is_refused_at_once, .timeout = 20)
{
    record_and_save(NULL);
    cr_assert_eq(unlink(path), 0);
    cr_assert_eq(mkdir(path, 0755), 0);
    expect_load_fails("it is not a regular file (try: a file saved by the s key");
    cr_assert_eq(rmdir(path), 0);
    cr_assert_eq(mkfifo(path, 0644), 0);
    expect_load_fails("it is not a regular file (try: a file saved by the s key");
    cr_assert_eq(unlink(path), 0);
    expect_load_fails("No such file or directory (try: check the path");
    cr_assert_eq(ll_loop_file_read(path, &(ll_loop_file){0}, &err), -1);
}
