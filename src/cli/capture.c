/* capture.c - `looplive replay`'s pictures: each chosen frame as a PNG
 * (--frames DIR), a clip (--video FILE), or checked against golden PNGs
 * (--check-frames DIR). */
#include "cli/cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define fail(status, ...) (cli_error(status, __VA_ARGS__), status)

int cli_capture_wanted(const cli_capture *c)
{
    return c->frames_dir || c->video || c->check_dir;
}

int cli_capture_due(const cli_capture *c, uint64_t frame)
{
    return cli_capture_wanted(c) && frame >= c->from && frame <= c->to &&
           (frame - c->from) % c->every == 0;
}

/* --frames DIR is made when it is not there (one level, as mkdir). */
static int frames_dir_ready(const char *dir)
{
    struct stat st;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return fail(1, "--frames %s: cannot make the folder: %s (try: a folder you can write)", dir,
                    strerror(errno));
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return fail(1, "--frames %s: not a folder (try: another DIR)", dir);
    if (access(dir, W_OK | X_OK) != 0)
        return fail(1, "--frames %s: cannot write there: %s (try: another DIR)", dir,
                    strerror(errno));
    return 0;
}

int cli_capture_begin(cli_capture *c, double fps)
{
    int pixels = c->platform && !strcmp(c->platform, "sdl");
    /* The sizes of the host's canvases: an SDL window's, or an 80x24
     * terminal's less the status lines, so that a picture the host saved
     * (alt+p) can be a golden frame here. */
    int w = c->width ? c->width : pixels ? 640 : 80;
    int h = c->height ? c->height : pixels ? 360 : 24 - LL_HOST_STATUS_LINES;
    size_t n = (size_t)w * (size_t)h;
    ll_error err;
    c->canvas = (ll_canvas){.width = w, .height = h};
    if (pixels)
        c->canvas.pixels = calloc(n, sizeof *c->canvas.pixels);
    else if (ll_canvas_cells_alloc(&c->canvas, w, h, &err) != 0)
        return fail(1, "%s", err.msg);
    ll_canvas_pixels_size_get(&c->canvas, &c->pic_w, &c->pic_h);
    c->picture = calloc((size_t)c->pic_w * (size_t)c->pic_h, sizeof *c->picture);
    if (!c->picture || (pixels && !c->canvas.pixels))
        return fail(1, "out of memory for a %dx%d canvas", w, h);
    if (c->frames_dir && frames_dir_ready(c->frames_dir) != 0) return 1;
    if (c->check_dir) {
        struct stat st;
        if (stat(c->check_dir, &st) != 0 || !S_ISDIR(st.st_mode))
            return fail(1,
                        "--check-frames %s: no such folder (try: write the golden frames with "
                        "--frames %s)",
                        c->check_dir, c->check_dir);
    }
    /* Every Nth frame makes a clip N times shorter at the same speed. */
    if (c->video && !(c->out = ll_video_open(c->video, c->pic_w, c->pic_h, fps / (double)c->every,
                                             c->scale ? c->scale : 1, &err)))
        return fail(1, "%s", err.msg);
    return 0;
}

/* Before the application draws: the canvas as a platform gives it. */
void cli_capture_clear(cli_capture *c)
{
    ll_canvas_clear(&c->canvas);
}

/* What differs from the golden picture: pixels off by more than the
 * tolerance in any channel, and their bounding box. The diff image shows
 * them red on the frame, dimmed. */
typedef struct frame_diff {
    uint64_t count;
    int x0, y0, x1, y1;
} frame_diff;

static frame_diff compare(const cli_capture *c, const uint32_t *golden, uint32_t *diff)
{
    frame_diff d = {.x0 = c->pic_w, .y0 = c->pic_h, .x1 = -1, .y1 = -1};
    for (int y = 0; y < c->pic_h; y++)
        for (int x = 0; x < c->pic_w; x++) {
            size_t i = (size_t)y * (size_t)c->pic_w + (size_t)x;
            uint32_t a = c->picture[i], b = golden[i];
            int off = 0;
            for (int sh = 0; sh < 24; sh += 8) {
                int ca = (int)(a >> sh & 0xff), cb = (int)(b >> sh & 0xff);
                if (abs(ca - cb) > c->tolerance) off = 1;
            }
            diff[i] = off ? 0xffff0000 : 0xff000000 | (a >> 2 & 0x3f3f3f);
            if (!off) continue;
            d.count++;
            if (x < d.x0) d.x0 = x;
            if (y < d.y0) d.y0 = y;
            if (x > d.x1) d.x1 = x;
            if (y > d.y1) d.y1 = y;
        }
    return d;
}

static int check_frame(cli_capture *c, uint64_t frame)
{
    char path[4096], diff_path[4200];
    snprintf(path, sizeof path, "%s/frame-%06" PRIu64 ".png", c->check_dir, frame);
    if (access(path, F_OK) != 0) return 0;
    uint32_t *golden;
    int gw, gh;
    ll_error err;
    if (ll_png_read(path, &golden, &gw, &gh, &err) != 0)
        return fail(1, "cannot check frame %" PRIu64 ": %s", frame, err.msg);
    if (gw != c->pic_w || gh != c->pic_h) {
        free(golden);
        return fail(1,
                    "frame %" PRIu64 " is %dx%d, %s is %dx%d (try: the --platform and --canvas "
                    "the golden frames were written with)",
                    frame, c->pic_w, c->pic_h, path, gw, gh);
    }
    c->checked++;
    frame_diff d = compare(c, golden, golden); /* the diff is drawn over the golden copy */
    if (!d.count) {
        free(golden);
        return 0;
    }
    /* The diff goes beside the frame written (--frames), else the golden one. */
    snprintf(diff_path, sizeof diff_path, "%s/frame-%06" PRIu64 ".diff.png",
             c->frames_dir ? c->frames_dir : c->check_dir, frame);
    int wrote = ll_png_write(diff_path, golden, c->pic_w, c->pic_h, &err) == 0;
    free(golden);
    return fail(1,
                "frame %" PRIu64 " differs from %s: %" PRIu64 " pixels in x %d-%d, y %d-%d%s%s "
                "(try: look at the diff; if the change is meant, write the golden frames again "
                "with --frames %s)",
                frame, path, d.count, d.x0, d.x1, d.y0, d.y1,
                wrote ? ", diff in " : "; no diff image: ", wrote ? diff_path : err.msg,
                c->check_dir);
}

int cli_capture_frame(cli_capture *c, uint64_t frame)
{
    ll_error err;
    ll_canvas_pixels_render(&c->canvas, c->picture);
    if (c->frames_dir) {
        char path[4096];
        snprintf(path, sizeof path, "%s/frame-%06" PRIu64 ".png", c->frames_dir, frame);
        if (ll_png_write(path, c->picture, c->pic_w, c->pic_h, &err) != 0)
            return fail(1, "frame %" PRIu64 ": %s", frame, err.msg);
        c->written++;
    }
    if (c->out && ll_video_frame_write(c->out, c->picture, &err) != 0)
        return fail(1, "frame %" PRIu64 ": %s", frame, err.msg);
    return c->check_dir ? check_frame(c, frame) : 0;
}

int cli_capture_end(cli_capture *c, int rc, FILE *out)
{
    ll_error err;
    uint64_t clip = c->out ? ll_video_frames_get(c->out) : 0;
    if (c->out && ll_video_close(c->out, &err) != 0 && rc == 0) rc = fail(1, "%s", err.msg);
    c->out = NULL;
    if (rc == 0 && c->check_dir && !c->checked)
        rc = fail(1,
                  "no golden frame in %s for the frames replayed (try: write them with "
                  "--frames %s)",
                  c->check_dir, c->check_dir);
    if (rc == 0 && c->frames_dir)
        fprintf(out, "%" PRIu64 " frame%s written to %s\n", c->written, c->written == 1 ? "" : "s",
                c->frames_dir);
    if (rc == 0 && c->video)
        fprintf(out, "%" PRIu64 " frame%s written to %s\n", clip, clip == 1 ? "" : "s", c->video);
    if (rc == 0 && c->check_dir)
        fprintf(out, "%" PRIu64 " frame%s match%s %s\n", c->checked, c->checked == 1 ? "" : "s",
                c->checked == 1 ? "es" : "", c->check_dir);
    ll_canvas_free(&c->canvas);
    free(c->picture);
    return rc;
}
