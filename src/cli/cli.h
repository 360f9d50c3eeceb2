/* cli.h - the looplive command: one function per subcommand. */
#ifndef LL_CLI_H
#define LL_CLI_H

#include "looplive.h"

#include <stdio.h>

/* Each takes the arguments after the subcommand name (argv[0] is the
 * subcommand) and returns the exit status: 0 ok, 1 failure, 2 bad usage. */
int cli_addr(int argc, char **argv);
int cli_replay(int argc, char **argv);
int cli_run(int argc, char **argv);

/* replay.c: reads a hashes file ("FRAME HASH" lines, as `looplive replay`
 * prints them; '#' comments and blank lines skipped). Returns 0, or the
 * exit status 1 with the message printed and h empty. */
typedef struct cli_hashes {
    uint64_t *hashes;
    uint64_t count;
} cli_hashes;
int cli_hashes_read(FILE *f, const char *path, cli_hashes *h);

/* replay.c: replays recording through module and checks it against hashes,
 * writing the result line ("N frames match HASHES") to out and an error to
 * stderr. Returns the exit status. */
int cli_replay_check(const char *module, const char *recording, const char *hashes, FILE *out);

/* replay.c: --who-wrote's TARGET, ARENA+OFFSET, block+OFFSET or ADDRESS,
 * then :LEN (1 to LL_LOOP_WATCH_MAX, default 1): the offset in b of bytes
 * inside it. Returns 0, or the exit status (2 bad syntax, 1 not in b) with
 * the message printed. */
int cli_who_target_parse(const char *text, const ll_block *b, uint64_t *offset, uint32_t *len);

/* replay_dir.c: `looplive replay --dir DIR --jobs N`: checks every
 * DIR/NAME.llrec against DIR/NAME.hashes, jobs at once, each in a child
 * process; one line each and a summary on out. Returns the exit status. */
int cli_replay_dir(const char *module, const char *dir, int jobs, FILE *out);
/* capture.c: replay's pictures. The options (from, to, every: the frames
 * chosen; platform "sdl" for a canvas of pixels, else cells; the canvas
 * size, 0 for the platform's), then what begin makes. Each returns 0 or
 * the exit status 1 with the message printed. */
typedef struct cli_capture {
    const char *frames_dir, *video, *check_dir, *platform;
    uint64_t from, to, every;
    int scale, tolerance, width, height;
    ll_canvas canvas; /* what the application draws into */
    uint32_t *picture;
    int pic_w, pic_h;
    ll_video *out;
    uint64_t written, checked;
} cli_capture;
/* 1 when any picture is asked for; 1 when frame is one of the chosen. */
int cli_capture_wanted(const cli_capture *c);
int cli_capture_due(const cli_capture *c, uint64_t frame);
/* Makes the canvas, the --frames folder and the clip (at fps). */
int cli_capture_begin(cli_capture *c, double fps);
/* Clears the canvas before the application draws a frame into it ... */
void cli_capture_clear(cli_capture *c);
/* ... then writes, adds to the clip or checks that frame's picture. */
int cli_capture_frame(cli_capture *c, uint64_t frame);
/* Finishes the clip, says what was written or matched on out, frees. */
int cli_capture_end(cli_capture *c, int rc, FILE *out);

/* Prints "looplive: <msg>" on stderr and returns status. */
__attribute__((format(printf, 2, 3))) int cli_error(int status, const char *fmt, ...);

/* After a fault that left the C library unusable (err.code
 * ENOTRECOVERABLE): writes "looplive: " and the parts as one line with
 * write(2) and leaves with _exit(1): no stdio, no exit handlers, no
 * freeing, any of which could wait forever on a lock the fault left taken. */
__attribute__((noreturn)) void cli_die_unsafe(const char *a, const char *b, const char *c,
                                              const char *msg);

/* draw.c: the terminal picture of an ll_advice: one line per chunk, zone and gap, to scale where
 * the ranges allow and on a log scale otherwise, the block marked. */
void cli_draw_text(FILE *out, const ll_advice *a, const ll_maps *sample, int width, int color);

/* The same picture as an SVG document. */
int cli_draw_svg(FILE *out, const ll_advice *a, const ll_maps *sample);

#endif
