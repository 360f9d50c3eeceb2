/* test_host_pause.c - the host over a loop whose new build faults at one
 * frame only (tests/faults/fault_app.c, key p): the loop pauses there with
 * the fault in the overlay instead of faulting on every pass; `.` skips the
 * frame; a new build resumes the loop. */
#include <criterion/criterion.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "looplive.h"

static char dir[] = "/tmp/ll-host-pause-XXXXXX", lib[PATH_MAX];

/* build/tests/test_host_pause -> build/tests/NAME */
static void put_build(const char *name)
{
    char exe[PATH_MAX] = {0}, cmd[4 * PATH_MAX];
    cr_assert(readlink("/proc/self/exe", exe, sizeof exe - 1) > 0);
    snprintf(cmd, sizeof cmd, "cp %s/%s %s.new && mv %s.new %s", dirname(exe), name, lib, lib, lib);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
}

static ll_host_status status(const ll_host *h)
{
    ll_host_status s;
    ll_host_get_status(h, &s);
    return s;
}

static void run_frames(ll_host *h, int n)
{
    for (int i = 0; i < n; i++) ll_host_frame(h);
}

static int wait_reloads(ll_host *h, uint64_t n)
{
    for (int i = 0; i < 2000 && status(h).reloads < n; i++) {
        ll_host_frame(h);
        usleep(2000);
    }
    return status(h).reloads >= n;
}

Test(host_pause, a_build_that_faults_at_one_frame_of_the_loop_pauses_there)
{
    cr_assert(mkdtemp(dir));
    snprintf(lib, sizeof lib, "%s/app.so", dir);
    put_build("fault_app_harmless.so");
    ll_error err;
    ll_host *h = ll_host_open(lib, &err, .headless = 1);
    cr_assert(h, "%s", err.msg);
    /* Record 10 frames with p pressed at the fifth, then loop them. */
    ll_host_press(h, LL_KEY_ALT | 'l');
    run_frames(h, 5);
    ll_host_press(h, 'p');
    run_frames(h, 5);
    ll_host_press(h, LL_KEY_ALT | 'l');
    run_frames(h, 1);
    cr_assert(status(h).looping);
    /* The build that faults on p: it plays the frames before p, then
     * faults at p with no earlier good build to go back to. */
    put_build("fault_app.so");
    cr_assert(wait_reloads(h, 1), "no reload: %s", status(h).error);
    for (int i = 0; i < 40 && !status(h).fault_paused; i++) ll_host_frame(h);
    ll_host_status s = status(h);
    cr_assert(s.fault_paused && s.paused, "not paused at the fault: %s", s.error);
    cr_assert(strstr(s.error, "SIGSEGV (Segmentation fault) at address 0x10 in fault+0x"), "%s",
              s.error);
    char line[512];
    ll_host_overlay(h, line, sizeof line);
    cr_assert(strstr(line, "PAUSED AT FAULT"), "%s", line);
    cr_assert(strstr(line, "error: SIGSEGV at address 0x10 in fault+0x"), "%s", line);
    cr_assert(strstr(line, "(alt+. skips the frame; a new build resumes)"), "%s", line);
    /* It stays there: no fault on every frame. */
    run_frames(h, 30);
    cr_assert_eq(status(h).crashes, s.crashes, "the fault repeated");
    cr_assert_eq(status(h).loop_pos, s.loop_pos, "the loop moved");
    /* `.` passes the frame: the loop plays on (and pauses at it next pass). */
    ll_host_press(h, LL_KEY_ALT | '.');
    run_frames(h, 2);
    cr_assert(!status(h).fault_paused);
    cr_assert_neq(status(h).loop_pos, s.loop_pos, "the loop did not move on");
    for (int i = 0; i < 40 && !status(h).fault_paused; i++) ll_host_frame(h);
    cr_assert(status(h).fault_paused, "the next pass did not stop at the fault");
    /* A new build resumes at that frame. */
    uint64_t pos = status(h).loop_pos;
    put_build("fault_app_harmless.so");
    cr_assert(wait_reloads(h, 2), "no second reload: %s", status(h).error);
    run_frames(h, 2);
    cr_assert(!status(h).paused, "the new build did not resume the loop");
    cr_assert_neq(status(h).loop_pos, pos);
    cr_assert(status(h).looping);
    ll_host_close(h);
    unlink(lib);
    rmdir(dir);
}
