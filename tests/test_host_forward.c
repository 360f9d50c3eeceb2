/* test_host_forward.c - the host driven headless over an application whose
 * entities keep static behaviour functions in the state (tests/
 * host_behave.c): a recorded loop wraps after a reload and after a
 * rollback, rewinds after a reload, and a layout change is refused, started
 * over with the re-init key or --reinit, or migrated. Builds are swapped by
 * renaming prebuilt variants into place. */
#include <criterion/criterion.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "looplive.h"

#define ALT(c) (LL_KEY_ALT | (c)) /* the host's keys */

static char dir[64], lib[128];

static const char *built(const char *variant)
{
    static char path[PATH_MAX];
    char exe[PATH_MAX] = {0};
    cr_assert(readlink("/proc/self/exe", exe, sizeof exe - 1) > 0);
    snprintf(path, sizeof path, "%s/behave_%s.so", dirname(exe), variant);
    return path;
}

static void install(const char *variant)
{
    char tmp[160], cmd[2 * PATH_MAX + 400];
    snprintf(tmp, sizeof tmp, "%s/.next.so", dir);
    snprintf(cmd, sizeof cmd, "cp %s %s && mv %s %s", built(variant), tmp, tmp, lib);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/ll-host-forward-XXXXXX");
    cr_assert(mkdtemp(dir));
    snprintf(lib, sizeof lib, "%s/app.so", dir);
    install("v1");
}

static void teardown(void)
{
    unlink(lib);
    rmdir(dir);
}

TestSuite(host_forward, .init = setup, .fini = teardown);

static ll_host_status status(const ll_host *h)
{
    ll_host_status s;
    ll_host_status_get(h, &s);
    return s;
}

static const char *line0(const ll_host *h)
{
    static char line[81];
    const ll_canvas *c = ll_host_canvas_get(h);
    int n = c->width < 80 ? c->width : 80;
    memcpy(line, c->cells, (size_t)n);
    line[n] = 0;
    return line;
}

static void run_frames(ll_host *h, int n)
{
    for (int i = 0; i < n; i++) ll_host_frame_run(h);
}

/* Runs frames until `reloads` builds have loaded, or 10 s pass. */
static void until_reloads(ll_host *h, uint64_t reloads)
{
    for (int i = 0; i < 2000 && status(h).reloads < reloads; i++) {
        ll_host_frame_run(h);
        usleep(5000);
    }
    cr_assert_geq(status(h).reloads, reloads, "no reload: %s", status(h).error);
}

static ll_host *open_looping(int reinit)
{
    ll_error err;
    ll_host *h = ll_host_open(lib, &err, .headless = 1, .reinit = reinit);
    cr_assert(h, "%s", err.msg);
    run_frames(h, 2);
    ll_host_press(h, ALT('l'));
    run_frames(h, 10);
    ll_host_press(h, ALT('l'));
    run_frames(h, 1);
    cr_assert(status(h).looping);
    cr_assert(strstr(line0(h), "values=101,102,101,102"), "%s", line0(h));
    return h;
}

Test(host_forward, a_loop_with_behaviour_pointers_wraps_after_a_reload_and_a_rollback)
{
    ll_host *h = open_looping(0);
    install("v2");
    until_reloads(h, 1);
    run_frames(h, 25); /* two wraps: the start state holds version 1's pointers */
    cr_assert_geq(status(h).loop_len, 10);
    cr_assert_eq(status(h).crashes, 0, "%s", status(h).error);
    cr_assert(status(h).looping);
    cr_assert(strstr(line0(h), "v2 values=201,202,201,202"), "%s", line0(h));

    /* wander() faults in this build: rolled back to version 2, and the
     * loop wraps on with every pointer, version 3's included, on it. */
    install("crash");
    for (int i = 0; i < 2000 && status(h).crashes < 1; i++) {
        ll_host_frame_run(h);
        usleep(5000);
    }
    cr_assert_eq(status(h).crashes, 1, "%s", status(h).error);
    uint64_t crashes = status(h).crashes;
    run_frames(h, 25);
    cr_assert_eq(status(h).crashes, crashes, "crashed again: %s", status(h).error);
    cr_assert(status(h).looping);
    cr_assert(strstr(line0(h), "values=201,202,201,202"), "%s", line0(h));
    ll_host_close(h);
}

Test(host_forward, rewind_after_a_reload)
{
    ll_host *h = open_looping(0);
    ll_host_press(h, ALT('l')); /* stop: live */
    run_frames(h, 30);
    install("v2");
    until_reloads(h, 1);
    ll_host_press(h, ALT('b'));
    run_frames(h, 5);
    cr_assert_eq(status(h).crashes, 0, "%s", status(h).error);
    cr_assert(strstr(line0(h), "values=201,202,201,202"), "%s", line0(h));
    ll_host_close(h);
}

Test(host_forward, a_layout_change_is_refused_then_the_re_init_key_starts_over)
{
    ll_host *h = open_looping(0);
    install("layout2");
    until_reloads(h, 1);
    run_frames(h, 3);
    cr_assert(strstr(status(h).error, "refusing to run behave with state layout version 2 on a "
                                      "state of layout version 1"),
              "%s", status(h).error);
    uint64_t frame = status(h).app_frame;
    run_frames(h, 3);
    cr_assert_eq(status(h).app_frame, frame, "the new build does not run on the old state");
    ll_host_press(h, ALT('i'));
    run_frames(h, 3);
    cr_assert_eq(status(h).crashes, 0, "%s", status(h).error);
    cr_assert(strstr(line0(h), "v5 values=501,502,501,502"), "%s", line0(h));
    cr_assert(!status(h).looping, "a re-init goes back to live input");
    ll_host_close(h);
}

Test(host_forward, reinit_option_starts_over_by_itself)
{
    ll_host *h = open_looping(1);
    install("layout2");
    until_reloads(h, 1);
    run_frames(h, 3);
    cr_assert(strstr(line0(h), "v5 values=501,502,501,502"), "%s", line0(h));
    ll_host_close(h);
}

Test(host_forward, a_layout_change_is_migrated_and_the_loop_plays_on)
{
    ll_host *h = open_looping(0);
    install("migrate");
    until_reloads(h, 1);
    run_frames(h, 25);
    cr_assert(status(h).looping, "%s", status(h).error);
    cr_assert(strstr(line0(h), "v6 values=601,602,601,602 migrated=1"), "%s", line0(h));
    ll_host_close(h);
}

Test(host_forward, a_function_too_small_to_forward_is_named_with_the_flags_that_fix_it)
{
    install("small");
    ll_error err;
    ll_host *h = ll_host_open(lib, &err, .headless = 1);
    cr_assert(h, "%s", err.msg);
    run_frames(h, 2);
    install("small");
    until_reloads(h, 1);
    cr_assert(strstr(status(h).error, "reloaded, but 1 function of earlier builds (behave_tiny) "
                                      "is too small to forward to the new code: old pointers to "
                                      "it run the old code (try: build with "
                                      "-fpatchable-function-entry=14)"),
              "%s", status(h).error);
    ll_host_close(h);
}
