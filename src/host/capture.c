/* capture.c - pictures and clips of a canvas: PNG files through libspng,
 * and video files through an ffmpeg process fed raw frames. */
#include "host/host.h"
#include "base/base.h"

#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <spng.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Large enough for any canvas the host makes (8192 x 8192 cells of 6x9). */
#define PICTURE_MAX (1 << 16)

/* --- PNG ------------------------------------------------------------------ */

/* zlib level 1, no filter: a 640x360 pong frame in 1.3 ms and 5.4 KB,
 * where libspng's default (level 6, every filter) takes 10 ms for 1.7 KB
 * (docs/PERFORMANCE.md). A picture is written often and kept little. */
#define PNG_LEVEL  1
#define PNG_FILTER SPNG_FILTER_CHOICE_NONE

static int png_encode(const uint32_t *pixels, int width, int height, void **png, size_t *len)
{
    size_t n = (size_t)width * (size_t)height;
    uint8_t *rgb = malloc(n * 3);
    spng_ctx *ctx = spng_ctx_new(SPNG_CTX_ENCODER);
    int rc = rgb && ctx ? 0 : SPNG_EMEM;
    for (size_t i = 0; rgb && i < n; i++)
        rgb[3 * i] = (uint8_t)(pixels[i] >> 16), rgb[3 * i + 1] = (uint8_t)(pixels[i] >> 8),
                rgb[3 * i + 2] = (uint8_t)pixels[i];
    struct spng_ihdr ihdr = {.width = (uint32_t)width,
                             .height = (uint32_t)height,
                             .bit_depth = 8,
                             .color_type = SPNG_COLOR_TYPE_TRUECOLOR};
    if (!rc) rc = spng_set_option(ctx, SPNG_ENCODE_TO_BUFFER, 1);
    if (!rc) rc = spng_set_option(ctx, SPNG_IMG_COMPRESSION_LEVEL, PNG_LEVEL);
    if (!rc) rc = spng_set_option(ctx, SPNG_FILTER_CHOICE, PNG_FILTER);
    if (!rc) rc = spng_set_ihdr(ctx, &ihdr);
    if (!rc) rc = spng_encode_image(ctx, rgb, n * 3, SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE);
    int error = 0;
    if (!rc) *png = spng_get_png_buffer(ctx, len, &error);
    if (!rc && error) rc = error;
    spng_ctx_free(ctx);
    free(rgb);
    return rc;
}

/* Written under a temporary name and renamed: a picture is there whole or
 * not at all, and a failed write leaves the file that was there. */
static int write_whole(const char *path, const void *data, size_t len, ll_error *err)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", path) >= (int)sizeof tmp)
        return ll_fail(err, ENAMETOOLONG,
                       "cannot write picture %.60s...: the name is too long (try: a shorter path)",
                       path);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return ll_fail(err, errno, "cannot write picture %s: %s (try: a folder you can write)",
                       path, strerror(errno));
    int rc = ll_file_pwrite_all(fd, data, len, 0);
    int saved = errno;
    fchmod(fd, 0644);
    if (close(fd) != 0 && rc == 0) rc = -1, saved = errno;
    if (rc == 0 && rename(tmp, path) != 0) rc = -1, saved = errno;
    if (rc != 0) {
        unlink(tmp);
        return ll_fail(err, saved, "cannot write picture %s: %s (try: a disk with room)", path,
                       strerror(saved));
    }
    return 0;
}

int ll_png_write(const char *path, const uint32_t *pixels, int width, int height, ll_error *err)
{
    if (width < 1 || height < 1 || width > PICTURE_MAX || height > PICTURE_MAX)
        return ll_fail(err, EINVAL, "cannot write picture %s: %dx%d is not a picture size", path,
                       width, height);
    void *png = NULL;
    size_t len = 0;
    int rc = png_encode(pixels, width, height, &png, &len);
    if (rc != 0) {
        free(png);
        return ll_fail(err, rc == SPNG_EMEM ? ENOMEM : EIO, "cannot write picture %s: %s", path,
                       spng_strerror(rc));
    }
    rc = write_whole(path, png, len, err);
    free(png);
    return rc;
}

int ll_png_read(const char *path, uint32_t **pixels, int *width, int *height, ll_error *err)
{
    *pixels = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return ll_fail(err, errno, "cannot read picture %s: %s", path, strerror(errno));
    spng_ctx *ctx = spng_ctx_new(0);
    struct spng_ihdr ihdr;
    size_t len = 0;
    uint8_t *rgba = NULL;
    int rc = ctx ? 0 : SPNG_EMEM;
    /* A picture is at most PICTURE_MAX a side and 256 MiB decoded: a
     * header that claims more is refused before anything is allocated. */
    if (!rc) rc = spng_set_image_limits(ctx, PICTURE_MAX, PICTURE_MAX);
    if (!rc) rc = spng_set_chunk_limits(ctx, 1 << 24, 1 << 28);
    if (!rc) rc = spng_set_png_file(ctx, f);
    if (!rc) rc = spng_get_ihdr(ctx, &ihdr);
    if (!rc) rc = spng_decoded_image_size(ctx, SPNG_FMT_RGBA8, &len);
    if (!rc && len > (256u << 20)) rc = SPNG_EOVERFLOW;
    if (!rc && !(rgba = malloc(len))) rc = SPNG_EMEM;
    if (!rc) rc = spng_decode_image(ctx, rgba, len, SPNG_FMT_RGBA8, SPNG_DECODE_TRNS);
    spng_ctx_free(ctx);
    fclose(f);
    if (rc != 0) {
        free(rgba);
        return ll_fail(err, EINVAL, "cannot read picture %s: %s (try: a PNG file)", path,
                       spng_strerror(rc));
    }
    size_t n = (size_t)ihdr.width * ihdr.height;
    uint32_t *out = malloc(n * sizeof *out);
    if (!out) {
        free(rgba);
        return ll_fail(err, ENOMEM, "cannot read picture %s: out of memory", path);
    }
    for (size_t i = 0; i < n; i++)
        out[i] = (uint32_t)rgba[4 * i + 3] << 24 | (uint32_t)rgba[4 * i] << 16 |
                 (uint32_t)rgba[4 * i + 1] << 8 | rgba[4 * i + 2];
    free(rgba);
    *pixels = out;
    *width = (int)ihdr.width, *height = (int)ihdr.height;
    return 0;
}

/* --- video through ffmpeg ------------------------------------------------- */

struct ll_video {
    pid_t pid;
    int sock;               /* frames go here: ffmpeg's standard input */
    int log;                /* ffmpeg's standard error (a memfd) */
    size_t frame_bytes;     /* width * height * 4 */
    uint64_t frames;        /* written so far */
    char path[PATH_MAX];    /* the file asked for ... */
    char tmp[PATH_MAX + 8]; /* ... and the one ffmpeg writes, renamed at the end */
};

/* What each extension is made with: fast encoders, so that a clip costs
 * little more than the replay (BENCH replay_video_fps). */
static const char *const *video_codec(const char *path, const char **format)
{
    static const char *const mp4[] = {"-c:v", "libx264",  "-preset", "ultrafast", "-crf",
                                      "20",   "-pix_fmt", "yuv420p", NULL};
    static const char *const webm[] = {"-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8",
                                       "-b:v", "4M",     "-pix_fmt",  "yuv420p",  NULL};
    static const char *const gif[] = {NULL};
    const char *dot = strrchr(path, '.');
    if (!dot || strchr(dot, '/')) return NULL;
    if (!strcmp(dot, ".mp4")) return *format = "mp4", mp4;
    if (!strcmp(dot, ".webm")) return *format = "webm", webm;
    if (!strcmp(dot, ".gif")) return *format = "gif", gif;
    return NULL;
}

/* ffmpeg on PATH, as a shell would find it; 0 when it is not there. */
static int find_ffmpeg(char *out, size_t cap)
{
    const char *path = getenv("PATH");
    for (const char *p = path ? path : ""; *p;) {
        size_t n = strcspn(p, ":");
        if (n && snprintf(out, cap, "%.*s/ffmpeg", (int)n, p) < (int)cap && access(out, X_OK) == 0)
            return 1;
        p += n + (p[n] == ':');
    }
    return 0;
}

/* The filter: each pixel scale x scale (nearest, as the window shows it),
 * sizes made even for yuv420p, a palette of the clip's own for a GIF. */
static void video_filter(char *buf, size_t cap, int scale, const char *format)
{
    int n = snprintf(buf, cap, "scale=iw*%d:ih*%d:flags=neighbor", scale, scale);
    if (strcmp(format, "gif") != 0)
        snprintf(buf + n, cap - (size_t)n, ",pad=ceil(iw/2)*2:ceil(ih/2)*2");
    else
        snprintf(buf + n, cap - (size_t)n,
                 ",split[a][b];[a]palettegen=stats_mode=full[p];[b][p]"
                 "paletteuse=dither=none");
}

static int video_check(const char *path, int width, int height, int scale, char *ffmpeg, size_t cap,
                       ll_error *err)
{
    const char *format;
    if (!video_codec(path, &format))
        return ll_fail(err, EINVAL,
                       "cannot write video %s: unknown kind of file (try: a name ending in .mp4, "
                       ".webm or .gif)",
                       path);
    if (width < 1 || height < 1 || scale < 1 || width > PICTURE_MAX || height > PICTURE_MAX)
        return ll_fail(err, EINVAL, "cannot write video %s: %dx%d at scale %d is not a size", path,
                       width, height, scale);
    if (!find_ffmpeg(ffmpeg, cap))
        return ll_fail(err, ENOENT,
                       "cannot write video %s: ffmpeg is not on PATH (try: apt-get install ffmpeg)",
                       path);
    char copy[PATH_MAX];
    snprintf(copy, sizeof copy, "%s", path);
    const char *dir = dirname(copy);
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || access(dir, W_OK | X_OK) != 0)
        return ll_fail(err, errno ? errno : ENOTDIR,
                       "cannot write video %s: %s is not a folder that can be written (try: "
                       "mkdir -p %s, or another path)",
                       path, dir, dir);
    return 0;
}

static int video_spawn(ll_video *v, const char *ffmpeg, int width, int height, double fps,
                       int scale, int in, ll_error *err)
{
    const char *format = "mp4"; /* video_check refused any other ending */
    const char *const *codec = video_codec(v->path, &format);
    char size[32], rate[32], filter[256];
    snprintf(size, sizeof size, "%dx%d", width, height);
    snprintf(rate, sizeof rate, "%g", fps);
    video_filter(filter, sizeof filter, scale, format);
    const char *argv[40] = {"ffmpeg",   "-hide_banner", "-loglevel", "error", "-f",  "rawvideo",
                            "-pix_fmt", "bgra",         "-s",        size,    "-r",  rate,
                            "-i",       "pipe:0",       "-an",       "-vf",   filter};
    size_t n = 17;
    for (size_t i = 0; codec[i]; i++) argv[n++] = codec[i];
    const char *tail[] = {"-f", format, "-y", v->tmp, NULL};
    for (size_t i = 0; i < LL_ARRAY_COUNT(tail); i++) argv[n++] = tail[i];
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in, STDIN_FILENO);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, v->log, STDERR_FILENO);
    posix_spawnattr_init(&attr);
    sigset_t all;
    sigfillset(&all);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
    int rc = posix_spawn(&v->pid, ffmpeg, &fa, &attr, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0)
        return ll_fail(err, rc, "cannot write video %s: cannot start %s: %s", v->path, ffmpeg,
                       strerror(rc));
    return 0;
}

ll_video *ll_video_open(const char *path, int width, int height, double fps, int scale,
                        ll_error *err)
{
    char ffmpeg[PATH_MAX];
    errno = 0;
    if (video_check(path, width, height, scale, ffmpeg, sizeof ffmpeg, err) != 0) return NULL;
    ll_video *v = calloc(1, sizeof *v);
    if (!v) return ll_fail(err, ENOMEM, "cannot write video %s: out of memory", path), NULL;
    v->sock = v->log = -1;
    v->frame_bytes = (size_t)width * (size_t)height * 4;
    snprintf(v->path, sizeof v->path, "%s", path);
    /* The extension stays last: ffmpeg is told the format, the name shows it. */
    const char *dot = strrchr(path, '.');
    snprintf(v->tmp, sizeof v->tmp, "%.*s.tmp-%d%s", (int)(dot - path), path, (int)getpid(), dot);
    int fds[2] = {-1, -1};
    /* A socket, not a pipe: a write after ffmpeg died fails with EPIPE
     * (MSG_NOSIGNAL) instead of raising SIGPIPE in the caller. */
    if ((v->log = memfd_create("looplive-ffmpeg", MFD_CLOEXEC)) < 0 ||
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
        ll_fail(err, errno, "cannot write video %s: %s", path, strerror(errno));
    } else if (video_spawn(v, ffmpeg, width, height, fps > 0 ? fps : 60, scale, fds[0], err) == 0) {
        close(fds[0]);
        v->sock = fds[1];
        return v;
    }
    if (fds[0] >= 0) close(fds[0]), close(fds[1]);
    if (v->log >= 0) close(v->log);
    free(v);
    return NULL;
}

/* ffmpeg's last line of complaint, for the message. */
static void video_why(ll_video *v, char *buf, size_t cap)
{
    char text[4096];
    ssize_t n = pread(v->log, text, sizeof text - 1, 0);
    text[n > 0 ? n : 0] = 0;
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r')) text[--n] = 0;
    const char *last = strrchr(text, '\n');
    snprintf(buf, cap, "%.400s", last ? last + 1 : text[0] ? text : "no message");
}

int ll_video_frame_write(ll_video *v, const uint32_t *pixels, ll_error *err)
{
    const char *p = (const char *)pixels;
    for (size_t left = v->frame_bytes; left;) {
        ssize_t n = send(v->sock, p, left, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            char why[512];
            int saved = errno;
            /* ffmpeg stopped: its own message says why. */
            close(v->sock);
            v->sock = -1;
            int status;
            waitpid(v->pid, &status, 0);
            v->pid = 0;
            video_why(v, why, sizeof why);
            return ll_fail(err, saved ? saved : EPIPE, "cannot write video %s: ffmpeg stopped: %s",
                           v->path, why);
        }
        p += n, left -= (size_t)n;
    }
    v->frames++;
    return 0;
}

uint64_t ll_video_frames_get(const ll_video *v)
{
    return v->frames;
}

int ll_video_close(ll_video *v, ll_error *err)
{
    if (!v) return 0;
    int status = 0, rc = 0;
    if (v->sock >= 0) close(v->sock);
    if (v->pid > 0 && waitpid(v->pid, &status, 0) < 0) status = -1;
    if (v->pid <= 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || !v->frames) {
        char why[512];
        video_why(v, why, sizeof why);
        rc = ll_fail(err, EIO, "cannot write video %s: %s", v->path,
                     !v->frames ? "no frames were given" : why);
        unlink(v->tmp);
    } else if (rename(v->tmp, v->path) != 0) {
        rc = ll_fail(err, errno, "cannot write video %s: %s", v->path, strerror(errno));
        unlink(v->tmp);
    }
    close(v->log);
    free(v);
    return rc;
}
