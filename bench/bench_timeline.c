/* bench_timeline.c - group `timeline`: the whole-recording features of
 * issue 16 on a 36,000-frame (10 minute) bounce recording made here.
 *
 * who_wrote_s: `looplive replay --who-wrote` on the bounce score as of the
 * last frame, the whole command (load, one replay under hardware write
 * breakpoints that finds the last frame that changed it and keeps that
 * frame's writes, libdw naming them); target <= 2 s. Side by side: the
 * plain replay of the same recording (who_wrote_replay_s, what one pass
 * costs) and the command with page tracking forced (who_wrote_page_s: a
 * plain replay to find the frame, a second to run it tracked). Median of 3
 * each. */
#include "bench.h"

#include "../examples/bounce/bounce.h"

#include <libgen.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { WHO_RUNS = 3, WHO_FRAMES = 36000 };

/* Runs argv with stdout and stderr to /dev/null; seconds, or -1. */
static double run_s(char *const argv[])
{
    uint64_t t0 = bench_now_ns();
    pid_t pid = fork();
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr)) _exit(127);
        execv(argv[0], argv);
        _exit(127);
    }
    int st;
    if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) return -1;
    return (double)(bench_now_ns() - t0) / 1e9;
}

/* Ten minutes of play: a ball launched now and then, the paddle moving. */
static int write_script(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    uint64_t frames = 0;
    for (int i = 0; frames < WHO_FRAMES; i++) {
        int n = 40 + i * 37 % 80;
        if (frames + (uint64_t)n + 1 > WHO_FRAMES) n = (int)(WHO_FRAMES - frames - 1);
        fprintf(f, "%d %s\n1 %s\n", n, i % 2 ? "left" : "right", i % 9 == 0 ? "c" : "space");
        frames += (uint64_t)n + 1;
    }
    return fclose(f);
}

static double median_of(char *const argv[], const char *page)
{
    double t[WHO_RUNS];
    if (page) setenv("LOOPLIVE_WATCH", page, 1);
    for (int i = 0; i < WHO_RUNS; i++)
        if ((t[i] = run_s(argv)) < 0) break;
    unsetenv("LOOPLIVE_WATCH");
    for (int i = 0; i < WHO_RUNS; i++)
        if (t[i] < 0) return -1;
    return bench_median(t, WHO_RUNS);
}

static int who_wrote(void)
{
    char self[4096], cli[4200], bounce[4200], dir[] = "/tmp/looplive-bench-who-XXXXXX";
    char script[4200], rec[4200], target[64];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0 || !mkdtemp(dir)) return 1;
    self[n] = 0;
    const char *build = dirname(self);
    snprintf(cli, sizeof cli, "%s/looplive", build);
    snprintf(bounce, sizeof bounce, "%s/examples/bounce.so", build);
    snprintf(script, sizeof script, "%s/ten-minutes.script", dir);
    snprintf(rec, sizeof rec, "%s/ten-minutes.llrec", dir);
    snprintf(target, sizeof target, "block+%zu:4", offsetof(bounce_state, score));
    char *make[] = {cli,    "replay",   "--module", bounce, "--script",
                    script, "--output", rec,        "-q",   NULL};
    char *plain[] = {cli, "replay", "--module", bounce, "--recording", rec, "-q", NULL};
    char *who[] = {cli, "replay",      "--module", bounce, "--recording",
                   rec, "--who-wrote", target,     NULL};
    int rc = 1;
    double t_who = -1, t_plain = -1, t_page = -1;
    if (write_script(script) == 0 && run_s(make) >= 0) {
        t_who = median_of(who, NULL);
        t_plain = median_of(plain, NULL);
        t_page = median_of(who, "page");
        rc = t_who < 0 || t_plain < 0 || t_page < 0;
    }
    if (rc)
        fprintf(stderr, "bench timeline: who-wrote on a %d-frame recording failed\n", WHO_FRAMES);
    else {
        bench_print("who_wrote_s", t_who, "s");
        bench_print("who_wrote_replay_s", t_plain, "s");
        bench_print("who_wrote_page_s", t_page, "s");
    }
    unlink(script);
    unlink(rec);
    rmdir(dir);
    return rc;
}

int bench_timeline(void)
{
    return who_wrote();
}
