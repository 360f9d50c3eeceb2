/* bench_files.c - group `files`: what a recording's declared block size
 * costs a replay. A file may declare any size (a crafted one once made
 * `replay` run for 25 s with 1 TiB): loading and playing it must cost the
 * pages it holds, not the size it declares. Side by side: the same
 * recording in a 1 GiB and in a 1 TiB block. */
#include "bench.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { ROUNDS = 5, FRAMES = 10 };

typedef struct files_input {
    uint8_t key;
} files_input;

static void files_update(ll_block *block, const void *input, uint64_t frame, double dt)
{
    block->base[(frame % 16) * block->page_size] = (uint8_t)(frame + 1);
}

static void files_translate(const ll_platform_input *p, void *out)
{
    memset(out, 0, sizeof(files_input));
}

static const ll_app files_app = {
    .api_version = LL_APP_API_VERSION,
    .input_size = sizeof(files_input),
    .layout_version = 1,
    .name = "files",
    .translate = files_translate,
    .update = files_update,
};

/* Records FRAMES frames in a block of size bytes and saves them to path. */
static int record(uint64_t size, const char *path)
{
    ll_block block;
    ll_error err;
    if (ll_block_reserve(&block, &err, .size = size) != 0) return -1;
    ll_loop *loop = ll_loop_create(&block, &err, .app = &files_app);
    int rc = loop && ll_loop_record(loop, 0, &err) == 0 ? 0 : -1;
    for (int i = 0; rc == 0 && i < FRAMES; i++)
        rc = ll_loop_frame_run(loop, NULL, &err) == 1 ? 0 : -1;
    if (rc == 0) rc = ll_loop_save(loop, 0, path, &err);
    if (rc != 0) fprintf(stderr, "bench files: %s\n", err.msg);
    if (loop) ll_loop_destroy(loop);
    ll_snap_end(&block);
    ll_block_release(&block);
    return rc;
}

/* What `replay` does: a fresh block at the recording's base and size, a
 * loop, the load, and one play of the recording. */
static double replay_ms(const char *path)
{
    ll_loop_file info;
    ll_error err;
    if (ll_loop_file_read(path, &info, &err) != 0) return -1;
    uint64_t t0 = bench_now_ns();
    ll_block block;
    if (ll_block_reserve(&block, &err, .base = (void *)(uintptr_t)info.block_base,
                         .size = info.block_size) != 0)
        return -1;
    ll_loop *loop = ll_loop_create(&block, &err, .app = &files_app);
    int rc =
        loop && ll_loop_load(loop, 0, path, &err) == 0 && ll_loop_play(loop, 0, &err) == 0 ? 0 : -1;
    for (uint64_t i = 0; rc == 0 && i < info.frames; i++)
        rc = ll_loop_frame_run(loop, NULL, &err) == 1 ? 0 : -1;
    double ms = (double)(bench_now_ns() - t0) / 1e6;
    if (rc != 0) fprintf(stderr, "bench files: %s\n", err.msg);
    if (loop) ll_loop_destroy(loop);
    ll_snap_end(&block);
    ll_block_release(&block);
    return rc == 0 ? ms : -1;
}

static int figure(uint64_t size, const char *name)
{
    char dir[] = "/tmp/looplive-bench-files-XXXXXX", path[64];
    if (!mkdtemp(dir)) return -1;
    snprintf(path, sizeof path, "%s/r.llrec", dir);
    double ms[ROUNDS];
    int rc = record(size, path);
    for (int r = 0; rc == 0 && r < ROUNDS; r++)
        if ((ms[r] = replay_ms(path)) < 0) rc = -1;
    if (rc == 0) bench_print(name, bench_median(ms, ROUNDS), "ms");
    unlink(path);
    rmdir(dir);
    return rc;
}

int bench_files(void)
{
    if (figure(1ull << 30, "replay_1gib_block_ms") != 0) return 1;
    if (figure(1ull << 40, "replay_1tib_block_ms") != 0) return 1;
    return 0;
}
