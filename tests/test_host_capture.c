/* test_host_capture.c - pictures and clips of a canvas (src/host/capture.c,
 * src/host/font.c): a canvas of cells drawn with the font in its colours,
 * PNG files written and read back the same, clips made by ffmpeg, and each
 * failure's message. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "looplive.h"

static char dir[64];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/ll-capture-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(capture, .init = setup, .fini = teardown);

Test(capture, pixels_are_themselves_made_opaque)
{
    uint32_t px[6] = {0x00102030, 0xff405060, 0, 1, 2, 3}, out[6];
    ll_canvas c = {.width = 3, .height = 2, .pixels = px};
    int w, h;
    ll_canvas_pixels_size_get(&c, &w, &h);
    cr_assert_eq(w, 3);
    cr_assert_eq(h, 2);
    ll_canvas_pixels_render(&c, out);
    cr_assert_eq(out[0], 0xff102030);
    cr_assert_eq(out[1], 0xff405060);
    cr_assert_eq(out[5], 0xff000003);
}

/* '|' is the middle column of its cell (bit 0x04 of rows 0-6); colour 9 is
 * bright red, 0 the terminal's light grey; a space is black. */
Test(capture, cells_are_drawn_with_the_font_in_their_colours)
{
    char cells[3] = {'|', ' ', '|'};
    uint8_t colors[3] = {9, 9, 0};
    ll_canvas c = {.width = 3, .height = 1, .cells = cells, .colors = colors};
    int w, h;
    ll_canvas_pixels_size_get(&c, &w, &h);
    cr_assert_eq(w, 3 * LL_CELL_WIDTH);
    cr_assert_eq(h, LL_CELL_HEIGHT);
    uint32_t *out = malloc((size_t)w * (size_t)h * 4);
    ll_canvas_pixels_render(&c, out);
    cr_assert_eq(out[2], 0xffff0000, "the first bar is red: %08x", out[2]);
    cr_assert_eq(out[6 * w + 2], 0xffff0000);
    cr_assert_eq(out[7 * w + 2], 0xff000000, "the bar ends at row 6");
    cr_assert_eq(out[0], 0xff000000);
    for (int x = LL_CELL_WIDTH; x < 2 * LL_CELL_WIDTH; x++)
        cr_assert_eq(out[3 * w + x], 0xff000000, "the space is black");
    cr_assert_eq(out[2 * LL_CELL_WIDTH + 2], 0xffc0c0c0, "colour 0 is light grey");
    free(out);
}

Test(capture, png_written_reads_back_the_same)
{
    uint32_t px[12];
    for (int i = 0; i < 12; i++) px[i] = 0xff000000u | (uint32_t)i * 0x0a1b2c;
    char path[128];
    snprintf(path, sizeof path, "%s/p.png", dir);
    ll_error err;
    cr_assert_eq(ll_png_write(path, px, 4, 3, &err), 0, "%s", err.msg);
    uint32_t *back;
    int w, h;
    cr_assert_eq(ll_png_read(path, &back, &w, &h, &err), 0, "%s", err.msg);
    cr_assert_eq(w, 4);
    cr_assert_eq(h, 3);
    cr_assert_arr_eq(back, px, sizeof px);
    free(back);
}

Test(capture, png_into_a_folder_that_cannot_be_made_fails_and_names_it)
{
    char file[128], path[160];
    snprintf(file, sizeof file, "%s/file", dir);
    FILE *f = fopen(file, "w");
    cr_assert_not_null(f);
    fclose(f);
    /* Under a regular file: fails for root too. */
    snprintf(path, sizeof path, "%s/p.png", file);
    uint32_t px = 0;
    ll_error err;
    cr_assert_eq(ll_png_write(path, &px, 1, 1, &err), -1);
    cr_assert(strstr(err.msg, "cannot write picture") && strstr(err.msg, path) &&
                  strstr(err.msg, "Not a directory"),
              "%s", err.msg);
    cr_assert_eq(ll_png_write(file, &px, 0, 1, &err), -1);
    cr_assert(strstr(err.msg, "0x1 is not a picture size"), "%s", err.msg);
}

Test(capture, png_read_refuses_what_is_not_a_png)
{
    char path[128];
    snprintf(path, sizeof path, "%s/not.png", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("P6\n1 1\n255\nabc", f);
    fclose(f);
    uint32_t *px = (uint32_t *)1;
    int w, h;
    ll_error err;
    cr_assert_eq(ll_png_read(path, &px, &w, &h, &err), -1);
    cr_assert_null(px);
    cr_assert(strstr(err.msg, "cannot read picture") && strstr(err.msg, "(try: a PNG file)"), "%s",
              err.msg);
    snprintf(path, sizeof path, "%s/missing.png", dir);
    cr_assert_eq(ll_png_read(path, &px, &w, &h, &err), -1);
    cr_assert(strstr(err.msg, "No such file"), "%s", err.msg);
}

Test(capture, video_of_frames_is_made_whole_at_close)
{
    char path[128];
    snprintf(path, sizeof path, "%s/clip.mp4", dir);
    ll_error err;
    ll_video *v = ll_video_open(path, 33, 17, 30, 2, &err);
    cr_assert_not_null(v, "%s", err.msg);
    uint32_t px[33 * 17];
    for (int f = 0; f < 5; f++) {
        for (int i = 0; i < 33 * 17; i++) px[i] = 0xff000000u | (uint32_t)(i * 7 + f * 40);
        cr_assert_eq(ll_video_frame_write(v, px, &err), 0, "%s", err.msg);
    }
    cr_assert_eq(ll_video_frames_get(v), 5);
    cr_assert_neq(access(path, F_OK), 0, "the file appears at close");
    cr_assert_eq(ll_video_close(v, &err), 0, "%s", err.msg);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_gt(st.st_size, 0);
    cr_assert_eq(ll_video_close(NULL, &err), 0);
}

Test(capture, video_refuses_an_unknown_kind_and_a_missing_ffmpeg)
{
    char path[128];
    ll_error err;
    snprintf(path, sizeof path, "%s/clip.avi", dir);
    cr_assert_null(ll_video_open(path, 8, 8, 60, 1, &err));
    cr_assert(strstr(err.msg, "unknown kind of file (try: a name ending in .mp4, .webm or .gif)"),
              "%s", err.msg);
    snprintf(path, sizeof path, "%s/clip.gif", dir);
    char *saved = strdup(getenv("PATH") ? getenv("PATH") : "");
    setenv("PATH", dir, 1);
    ll_video *v = ll_video_open(path, 8, 8, 60, 1, &err);
    setenv("PATH", saved, 1);
    free(saved);
    cr_assert_null(v);
    cr_assert(strstr(err.msg, "ffmpeg is not on PATH (try: apt-get install ffmpeg)"), "%s",
              err.msg);
}

Test(capture, video_without_frames_fails_and_leaves_nothing)
{
    char path[128];
    snprintf(path, sizeof path, "%s/empty.webm", dir);
    ll_error err;
    ll_video *v = ll_video_open(path, 8, 8, 60, 1, &err);
    cr_assert_not_null(v, "%s", err.msg);
    cr_assert_eq(ll_video_close(v, &err), -1);
    cr_assert(strstr(err.msg, "no frames were given"), "%s", err.msg);
    cr_assert_neq(access(path, F_OK), 0);
}

Test(capture, video_into_a_folder_that_cannot_be_written_fails_at_open)
{
    char file[128], path[160];
    snprintf(file, sizeof file, "%s/file", dir);
    FILE *f = fopen(file, "w");
    cr_assert_not_null(f);
    fclose(f);
    snprintf(path, sizeof path, "%s/clip.mp4", file);
    ll_error err;
    cr_assert_null(ll_video_open(path, 8, 8, 60, 1, &err));
    cr_assert(strstr(err.msg, "is not a folder that can be written"), "%s", err.msg);
}

Test(capture, a_name_too_long_and_a_size_of_nothing_are_refused)
{
    char path[4200];
    memset(path, 'a', sizeof path - 1);
    path[sizeof path - 1] = 0;
    memcpy(path, "/tmp/", 5);
    uint32_t px = 0;
    ll_error err;
    cr_assert_eq(ll_png_write(path, &px, 1, 1, &err), -1);
    cr_assert(strstr(err.msg, "the name is too long"), "%s", err.msg);
    snprintf(path, sizeof path, "%s/clip.mp4", dir);
    cr_assert_null(ll_video_open(path, 0, 8, 60, 1, &err));
    cr_assert(strstr(err.msg, "0x8 at scale 1 is not a size"), "%s", err.msg);
}

/* An ffmpeg on PATH that is not a program the kernel can start. */
Test(capture, an_ffmpeg_that_cannot_start_is_named)
{
    char fake[128], path[128];
    snprintf(fake, sizeof fake, "%s/ffmpeg", dir);
    FILE *f = fopen(fake, "w");
    cr_assert_not_null(f);
    fputs("\x7f"
          "ELF not really",
          f);
    fclose(f);
    cr_assert_eq(chmod(fake, 0755), 0);
    snprintf(path, sizeof path, "%s/clip.mp4", dir);
    char *saved = strdup(getenv("PATH") ? getenv("PATH") : "");
    setenv("PATH", dir, 1);
    ll_error err;
    ll_video *v = ll_video_open(path, 8, 8, 60, 1, &err);
    setenv("PATH", saved, 1);
    free(saved);
    cr_assert_null(v);
    cr_assert(strstr(err.msg, "cannot write video") && strstr(err.msg, "cannot start") &&
                  strstr(err.msg, fake),
              "%s", err.msg);
}
