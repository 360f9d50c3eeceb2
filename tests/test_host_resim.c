/* test_host_resim.c - the host after a reload: the current slot and the
 * slot directory's recordings re-simulated in the background with the
 * previous and the new build, the first changed frame on the overlay
 * ("changed from frame 210", "no frame changed"), "slot 3: ..." for the
 * slot files, alt+j to jump there, and a crash in the background reported
 * while the frames go on. Builds are the loop tests' (tests/loop/app.c),
 * swapped by renaming them into place. */
#include <criterion/criterion.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/host.h"
#include "looplive.h"

#define ALT(c) (LL_KEY_ALT | (c)) /* the host's keys */

static char dir[64], lib[128];

static void install(const char *variant)
{
    char exe[PATH_MAX] = {0}, cmd[2 * PATH_MAX + 400];
    cr_assert(readlink("/proc/self/exe", exe, sizeof exe - 1) > 0);
    snprintf(cmd, sizeof cmd, "cp %s/loop/%s.so %s/.next.so && mv %s/.next.so %s", dirname(exe),
             variant, dir, dir, lib);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/ll-host-resim-XXXXXX");
    cr_assert(mkdtemp(dir));
    snprintf(lib, sizeof lib, "%s/app.so", dir);
    install("app_v1");
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(host_resim, .init = setup, .fini = teardown);

static ll_host_status status(const ll_host *h)
{
    ll_host_status s;
    ll_host_status_get(h, &s);
    return s;
}

static const char *overlay(const ll_host *h)
{
    static char text[1024];
    return ll_host_overlay_format(h, text, sizeof text);
}

static void run_frames(ll_host *h, int n)
{
    for (int i = 0; i < n; i++) ll_host_frame_run(h);
}

static void press(ll_host *h, int key)
{
    ll_host_press(h, key);
    run_frames(h, 1);
}

/* Runs frames until text shows on the overlay, or 10 s pass. */
static void until_overlay(ll_host *h, const char *text)
{
    for (int i = 0; i < 2000 && !strstr(overlay(h), text); i++) {
        ll_host_frame_run(h);
        usleep(5000);
    }
    cr_assert(strstr(overlay(h), text), "no '%s' in: %s", text, overlay(h));
}

/* A host with `frames` recorded into slot `slot` from frame 5 on, looping. */
static ll_host *open_looping(int slot, int frames)
{
    ll_error err;
    ll_host *h = ll_host_open(lib, &err, .headless = 1, .slot_dir = dir);
    cr_assert(h, "%s", err.msg);
    if (slot != 1) press(h, ALT('0' + slot));
    run_frames(h, 5 - (slot != 1));
    press(h, ALT('l'));
    run_frames(h, frames - 1);
    press(h, ALT('l'));
    cr_assert(status(h).looping);
    cr_assert_eq(status(h).loop_len, (uint64_t)frames);
    return h;
}

static void reload(ll_host *h, const char *variant)
{
    uint64_t want = status(h).reloads + 1;
    install(variant);
    for (int i = 0; i < 2000 && status(h).reloads < want; i++) {
        ll_host_frame_run(h);
        usleep(5000);
    }
    cr_assert_eq(status(h).reloads, want, "no reload: %s", status(h).error);
}

Test(host_resim, a_reload_names_the_first_changed_frame_and_alt_j_jumps_there)
{
    ll_host *h = open_looping(1, 300);
    reload(h, "app_change210");
    until_overlay(h, "| changed from frame 210");
    /* The bar colours each frame: the same up to frame 209, changed from 210. */
    run_frames(h, 16);
    host_bar bar = host_bar_now(h);
    cr_assert_eq(bar.frames, 300);
    cr_assert_eq(bar.mark_count, 300);
    cr_assert_eq(bar.first_changed, 205);
    for (uint64_t i = 0; i < 300; i++)
        cr_assert_eq(bar.marks[i], i < 205 ? HOST_MARK_SAME : HOST_MARK_CHANGED, "frame %llu",
                     (unsigned long long)(5 + i));
    press(h, ALT('j'));
    ll_host_status s = status(h);
    cr_assert(s.looping && s.paused, "%s", overlay(h));
    cr_assert_eq(s.loop_pos, 206, "%s", overlay(h)); /* frames 5..210 ran */
    cr_assert_eq(s.app_frame, 211, "%s", overlay(h));
    ll_host_close(h);
}

Test(host_resim, a_reload_with_no_effect_says_so)
{
    ll_host *h = open_looping(1, 300);
    reload(h, "app_no_effect");
    until_overlay(h, "| no frame changed");
    press(h, ALT('j'));
    cr_assert(strstr(status(h).error, "no changed frame to jump to: no frame changed in slot 1"),
              "%s", status(h).error);
    ll_host_close(h);
}

Test(host_resim, alt_j_before_any_reload_says_why)
{
    ll_host *h = open_looping(1, 30);
    press(h, ALT('j'));
    cr_assert(strstr(status(h).error, "no changed frame to jump to: slot 1 was not re-simulated"),
              "%s", status(h).error);
    ll_host_close(h);
}

Test(host_resim, every_slot_file_is_reported)
{
    ll_host *h = open_looping(3, 300);
    press(h, ALT('s'));
    char path[128];
    snprintf(path, sizeof path, "%s/slot3.llrec", dir);
    cr_assert(access(path, R_OK) == 0, "%s", status(h).error);
    reload(h, "app_change210");
    for (int i = 0; i < 2000 && !strstr(status(h).message, "slot 3:"); i++) {
        ll_host_frame_run(h);
        usleep(5000);
    }
    cr_assert(strstr(status(h).message, "slot 3: changed from frame 210"), "'%s' '%s'",
              status(h).message, status(h).error);
    ll_host_close(h);
}

/* Saves a recording of another application (tests/host_app.c) as slot N
 * of the slot directory: one the re-simulation cannot play. */
static void save_foreign_slot(int slot)
{
    char exe[PATH_MAX] = {0}, other[PATH_MAX + 16];
    cr_assert(readlink("/proc/self/exe", exe, sizeof exe - 1) > 0);
    snprintf(other, sizeof other, "%s/host_app.so", dirname(exe));
    ll_error err;
    ll_host *h = ll_host_open(other, &err, .headless = 1, .slot_dir = dir);
    cr_assert(h, "%s", err.msg);
    press(h, ALT('0' + slot));
    press(h, ALT('l'));
    run_frames(h, 20);
    press(h, ALT('l'));
    press(h, ALT('s'));
    cr_assert_str_eq(status(h).error, "");
    ll_host_close(h);
}

/* A slot file whose re-simulation fails: its error shows, and the line of
 * every slot file's result still comes (after the error's five seconds: it
 * was dropped when both came in the same frame). */
Test(host_resim, a_slot_file_that_fails_last_still_gives_the_others_results)
{
    save_foreign_slot(4);
    ll_host *h = open_looping(3, 300);
    press(h, ALT('s'));
    reload(h, "app_change210");
    usleep(500000); /* both over by the next frame: their news come in one poll */
    for (int i = 0; i < 4000 && !strstr(status(h).message, "slot 3:"); i++) {
        ll_host_frame_run(h);
        usleep(2000);
    }
    cr_assert(strstr(status(h).message, "slot 3: changed from frame 210; slot 4: re-simulation "
                                        "failed"),
              "'%s' '%s'", status(h).message, status(h).error);
    until_overlay(h, "slot 3: changed from frame 210"); /* once the error's time is over */
    ll_host_close(h);
}

Test(host_resim, a_crash_in_the_background_is_reported_and_the_frames_go_on)
{
    ll_host *h = open_looping(1, 120);
    press(h, ALT('l')); /* live again: the foreground never reaches frame 60 */
    reload(h, "app_crash_at60");
    until_overlay(h, "| re-simulation failed");
    ll_host_status s = status(h);
    cr_assert(strstr(s.error, "re-simulation of slot 1 with the current build (version 2) "
                              "crashed at frame 60: SIGSEGV at address 0x"),
              "%s", s.error);
    cr_assert_eq(s.crashes, 0, "the foreground crashed");
    uint64_t frame = s.frame;
    run_frames(h, 10);
    cr_assert_eq(status(h).frame, frame + 10);
    cr_assert_eq(status(h).reloads, 1);
    press(h, ALT('j'));
    cr_assert(strstr(status(h).error, "no changed frame to jump to: the re-simulation failed "
                                      "before one in slot 1"),
              "%s", status(h).error);
    ll_host_close(h);
}

static const char *line0(const ll_host *h)
{
    static char text[81];
    const ll_canvas *c = ll_host_canvas_get(h);
    int n = c->width < 80 ? c->width : 80;
    memcpy(text, c->cells, (size_t)n);
    text[n] = 0;
    return text;
}

Test(host_resim, alt_o_shows_the_previous_and_the_current_build_at_the_same_frame)
{
    ll_host *h = open_looping(1, 300);
    reload(h, "app_change210");
    until_overlay(h, "| changed from frame 210");
    press(h, ALT('j')); /* paused on frame 210: the new build's counter is 1 there */
    cr_assert(strstr(line0(h), "counter=1 "), "%s", line0(h));
    press(h, ALT('o'));
    until_overlay(h, "previous build (version 1) at frame 210: differs in block+0x0:1 "
                     "(1 range, 1 byte)");
    cr_assert(strstr(line0(h), "counter=0 "), "the old build's picture: %s", line0(h));
    cr_assert(status(h).paused);
    press(h, ALT('o'));
    cr_assert(strstr(overlay(h), "current build (version 2) at frame 210: differs in block"), "%s",
              overlay(h));
    cr_assert(strstr(line0(h), "counter=1 "), "the new build's picture: %s", line0(h));
    press(h, ALT('o'));
    cr_assert(strstr(line0(h), "counter=0 "), "%s", line0(h));
    /* The loop moves on: its own picture again. */
    press(h, ALT(' '));
    run_frames(h, 2);
    cr_assert_null(strstr(overlay(h), "build (version"), "%s", overlay(h));
    cr_assert(strstr(line0(h), "counter=4 "), "%s", line0(h)); /* frames 211..213 */
    ll_host_close(h);
}

/* The bytes that differ in an arena are named from the arena's start, as
 * ARENA+OFFSET:LENGTH (they were offsets from the block's base after the
 * arena's name, which read as offsets into the arena). */
Test(host_resim, alt_o_names_bytes_from_their_arenas_start)
{
    install("app_arenas");
    ll_host *h = open_looping(1, 300);
    reload(h, "app_arenas_change210");
    until_overlay(h, "| changed from frame 210");
    press(h, ALT('j'));
    press(h, ALT('o'));
    until_overlay(h, "previous build (version 1) at frame 210: differs in counters+0x0:1 "
                     "(1 range, 1 byte)");
    ll_host_close(h);
}

Test(host_resim, alt_o_without_a_loop_or_a_previous_build_says_why)
{
    ll_host *h = open_looping(1, 30);
    press(h, ALT('o'));
    cr_assert(strstr(status(h).error, "no previous build to compare with (try: change the code"),
              "%s", status(h).error);
    press(h, ALT('l')); /* live */
    press(h, ALT('o'));
    cr_assert(strstr(status(h).error, "nothing to compare: the builds are compared at a frame of "
                                      "a looping slot"),
              "%s", status(h).error);
    ll_host_close(h);
}

/* The new build faults in the foreground too: the foreground's report
 * keeps the line (the background's would hide it), and a build rolled back
 * takes its comparison with it. */
Test(host_resim, a_fault_in_the_foreground_keeps_the_line)
{
    ll_host *h = open_looping(1, 120); /* the loop plays frames 5..124 */
    reload(h, "app_crash_from60");
    for (int i = 0; i < 2000 && status(h).crashes == 0; i++) {
        ll_host_frame_run(h);
        usleep(1000);
    }
    cr_assert_eq(status(h).crashes, 1, "%s", overlay(h));
    for (int i = 0; i < 100; i++) {
        ll_host_frame_run(h);
        usleep(5000); /* the background's crash comes in meanwhile */
    }
    ll_host_status s = status(h);
    cr_assert(strstr(s.error, "in app_update+0x"), "%s", s.error);
    cr_assert(strstr(s.error, "called through 'app.so' version 2"), "%s", s.error);
    if (strstr(s.error, "rolled back to version 1")) {
        cr_assert_null(strstr(overlay(h), "re-simulat"), "%s", overlay(h));
        press(h, ALT('j'));
        cr_assert(strstr(status(h).error, "slot 1 was not re-simulated"), "%s", status(h).error);
    }
    ll_host_close(h);
}
