/* test_host_faults.c - the host's errors that need a failing system or
 * library: the SDL platform against a fake libSDL2 (tests/faults/fake_sdl.c,
 * chosen with LOOPLIVE_SDL_LIB), and inotify_init1, posix_spawn and
 * tcgetattr wrapped at link time (mk/errtests.mk) to fail on demand. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pty.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "host/host.h"

int __real_inotify_init1(int flags);
int __wrap_inotify_init1(int flags);
int __real_posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                       const posix_spawnattr_t *attr, char *const argv[], char *const envp[]);
int __wrap_posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                       const posix_spawnattr_t *attr, char *const argv[], char *const envp[]);
int __real_tcgetattr(int fd, struct termios *t);
int __wrap_tcgetattr(int fd, struct termios *t);
int __real_pipe2(int fds[2], int flags);
int __wrap_pipe2(int fds[2], int flags);

static int fail_inotify, fail_spawn, fail_tcgetattr, fail_pipe;

int __wrap_pipe2(int fds[2], int flags)
{
    if (fail_pipe) return errno = EMFILE, -1;
    return __real_pipe2(fds, flags);
}

int __wrap_inotify_init1(int flags)
{
    if (fail_inotify) return errno = EMFILE, -1;
    return __real_inotify_init1(flags);
}

int __wrap_posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                       const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    if (fail_spawn) return EAGAIN; /* posix_spawn returns the error */
    return __real_posix_spawn(pid, path, fa, attr, argv, envp);
}

int __wrap_tcgetattr(int fd, struct termios *t)
{
    if (fail_tcgetattr) return errno = EIO, -1;
    return __real_tcgetattr(fd, t);
}

/* build/tests/test_host_faults -> build/tests/NAME */
static const char *test_file(const char *name)
{
    static char path[PATH_MAX];
    char exe[PATH_MAX] = {0};
    cr_assert(readlink("/proc/self/exe", exe, sizeof exe - 1) > 0);
    snprintf(path, sizeof path, "%s/%s", dirname(exe), name);
    cr_assert(access(path, R_OK) == 0, "%s is missing (make build-tests builds it)", path);
    return path;
}

static int sdl_open_with(const char *lib, const char *fail, host_platform *p, ll_error *err)
{
    setenv("LOOPLIVE_SDL_LIB", lib, 1);
    if (fail) setenv("FAKE_SDL_FAIL", fail, 1);
    host_platform_sdl(p);
    ll_canvas canvas;
    return p->open(p, 64, 32, 2, &canvas, err);
}

Test(host_faults, sdl_library_lacking_a_function)
{
    const char *lib = test_file("fake_sdl_partial.so");
    host_platform p = {0};
    ll_error err = {0};
    cr_assert_eq(sdl_open_with(lib, NULL, &p, &err), -1);
    char want[PATH_MAX + 80];
    snprintf(want, sizeof want, "%s lacks SDL_CreateWindow (SDL 2.0.10 or later is needed)", lib);
    cr_assert_str_eq(err.msg, want);
    p.close(&p);
}

Test(host_faults, sdl_window_that_does_not_open)
{
    host_platform p = {0};
    ll_error err = {0};
    cr_assert_eq(sdl_open_with(test_file("fake_sdl.so"), "window", &p, &err), -1);
    /* 64 wide at scale 2; 32 rows and the status strip under them. */
    cr_assert(strstr(err.msg, "cannot open a 128x"), "%s", err.msg);
    cr_assert(
        strstr(err.msg, " window: fake: no window today (try: a smaller --scale, or --headless)"),
        "%s", err.msg);
    p.close(&p);
}

Test(host_faults, sdl_audio_device_that_does_not_open)
{
    host_platform p = {0};
    ll_error err = {0};
    cr_assert_eq(sdl_open_with(test_file("fake_sdl.so"), "audio", &p, &err), 0, "%s", err.msg);
    cr_assert_eq(p.audio_open(&p, &err), 0);
    cr_assert_str_eq(err.msg,
                     "cannot open an audio device: fake: no sound card (try: without --audio)");
    p.close(&p);
}

Test(host_faults, sdl_fake_library_opens_when_nothing_fails)
{
    /* The fake itself is sound: without a failure asked for, all opens. */
    host_platform p = {0};
    ll_error err = {0};
    cr_assert_eq(sdl_open_with(test_file("fake_sdl.so"), NULL, &p, &err), 0, "%s", err.msg);
    cr_assert_eq(p.audio_open(&p, &err), 48000, "%s", err.msg);
    p.close(&p);
}

Test(host_faults, terminal_modes_unreadable)
{
    /* A real terminal on stdin and stdout (a pseudo-terminal), whose modes
     * cannot be read. */
    int master, slave;
    cr_assert_eq(openpty(&master, &slave, NULL, NULL, NULL), 0);
    int in = dup(0), out = dup(1);
    dup2(slave, 0), dup2(slave, 1);
    fail_tcgetattr = 1;
    host_platform p = {0};
    host_platform_terminal(&p);
    ll_canvas canvas;
    ll_error err = {0};
    int rc = p.open(&p, 40, 10, 1, &canvas, &err);
    fail_tcgetattr = 0;
    dup2(in, 0), dup2(out, 1);
    close(in), close(out), close(slave), close(master);
    cr_assert_eq(rc, -1);
    cr_assert_str_eq(err.msg, "cannot read the terminal modes: Input/output error (try: --headless "
                              "--frames N, or --platform sdl)");
}

Test(host_faults, watcher_that_cannot_start)
{
    fail_inotify = 1;
    ll_error err = {0};
    host_builder *b = host_builder_open("/tmp", "true", &err);
    fail_inotify = 0;
    cr_assert_null(b);
    cr_assert(strstr(err.msg, "cannot start watching /tmp: Too many open files (try: raise "
                              "fs.inotify.max_user_instances, or run without --watch)"),
              "%s", err.msg);
}

/* A source change under the watched directory starts a build; *fail makes
 * one system call of that start fail, and the error must be want. */
static void build_fails(int *fail, const char *want)
{
    char dir[] = "/tmp/ll-faults-XXXXXX";
    cr_assert(mkdtemp(dir));
    ll_error err = {0};
    host_builder *b = host_builder_open(dir, "make app", &err);
    cr_assert(b, "%s", err.msg);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/a.c", dir);
    int fd = open(path, O_WRONLY | O_CREAT, 0644);
    cr_assert(fd >= 0 && write(fd, "int x;\n", 7) == 7);
    close(fd);
    *fail = 1;
    int r = 0;
    for (int i = 0; i < 1000 && r == 0; i++) {
        r = host_builder_poll(b, &err);
        if (!r) usleep(10000);
    }
    *fail = 0;
    host_builder_close(b);
    unlink(path);
    rmdir(dir);
    cr_assert_eq(r, -1, "the build started");
    cr_assert_str_eq(err.msg, want);
}

Test(host_faults, build_that_cannot_run)
{
    build_fails(&fail_spawn, "cannot run the build 'make app': Resource temporarily unavailable "
                             "(try: check that /bin/sh runs)");
}

Test(host_faults, build_that_cannot_start)
{
    build_fails(&fail_pipe, "cannot start the build: Too many open files (try: close some files "
                            "or raise ulimit -n)");
}

Test(host_faults, sdl_scale_that_does_not_fit_the_screen_comes_down)
{
    /* The fake screen is 1024x768: 640x360 at scale 2 (1280x778) does not
     * fit, at scale 1 it does. */
    setenv("LOOPLIVE_SDL_LIB", test_file("fake_sdl.so"), 1);
    unsetenv("FAKE_SDL_FAIL");
    host_platform p = {0};
    host_platform_sdl(&p);
    ll_canvas canvas;
    ll_error err = {0};
    cr_assert_eq(p.open(&p, 640, 360, 2, &canvas, &err), 0, "%s", err.msg);
    cr_assert_eq(canvas.width, 640);
    cr_assert_str_eq(p.note, "--scale 2 makes a 1280x778 window, more than the 1024x768 screen: "
                             "scale 1");
    p.close(&p);
}

Test(host_faults, sdl_audio_device_missing_plays_silence_with_a_warning)
{
    setenv("LOOPLIVE_SDL_LIB", test_file("fake_sdl.so"), 1);
    setenv("FAKE_SDL_FAIL", "audio", 1);
    ll_error err = {0};
    ll_host *h = ll_host_open(test_file("host_app.so"), &err, .platform = "sdl", .audio = 1,
                              .width = 64, .height = 32);
    cr_assert(h, "%s", err.msg);
    ll_host_status s;
    ll_host_status_get(h, &s);
    cr_assert_str_eq(s.message, "warning: no sound: cannot open an audio device: fake: no sound "
                                "card (try: without --audio)");
    cr_assert_eq(ll_host_frame_run(h), 1);
    ll_host_close(h);
}
