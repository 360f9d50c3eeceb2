/* test_host_timeline.c - the host's timeline keys driven headless: alt+left
 * / alt+right / alt+home / alt+end / alt+g with typed digits, from presses
 * and from --keys; a seek shows the state a straight run reached; an
 * application key on a frame the timeline went to cuts the recording there
 * and records live input from it; the bar drawn under the picture. */
#include <criterion/criterion.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/host.h"

#define ALT(c) (LL_KEY_ALT | (c))

static char app_path[PATH_MAX];

static void find_app(void)
{
    char exe[PATH_MAX] = {0};
    cr_assert(readlink("/proc/self/exe", exe, sizeof exe - 1) > 0);
    snprintf(app_path, sizeof app_path, "%s/host_app.so", dirname(exe));
    cr_assert(access(app_path, R_OK) == 0, "%s is missing (make build-tests builds it)", app_path);
}

TestSuite(host_timeline, .init = find_app);

static ll_host_status status(const ll_host *h)
{
    ll_host_status s;
    ll_host_status_get(h, &s);
    return s;
}

static void run_frames(ll_host *h, int n)
{
    for (int i = 0; i < n; i++) ll_host_frame_run(h);
}

#define RECORDED 300

/* Records RECORDED frames into slot 1 (a key pressed now and then, so the
 * run is not only a counter), keeping hash[pos], the state after pos of
 * them; leaves the slot looping. */
static ll_host *record(uint64_t *hash)
{
    ll_error err = {0};
    ll_host *h = ll_host_open(app_path, &err, .headless = 1, .fps = 60);
    cr_assert(h, "%s", err.msg);
    run_frames(h, 4);
    ll_host_press(h, ALT('l'));
    hash[0] = status(h).hash;
    for (int f = 1; f <= RECORDED; f++) {
        if (f % 37 == 0) ll_host_press(h, 'a' + f % 26);
        ll_host_frame_run(h);
        hash[f] = status(h).hash;
    }
    cr_assert_eq(status(h).loop_len, RECORDED);
    /* hash[0] was read before the frame alt+l started recording in: the
     * recording's start is the state after that frame's predecessor. */
    ll_host_press(h, ALT('l'));
    return h;
}

static void expect_at(ll_host *h, const uint64_t *hash, uint64_t pos)
{
    ll_host_status s = status(h);
    cr_assert(s.looping && s.paused, "looping %d paused %d", s.looping, s.paused);
    cr_assert_eq(s.loop_pos, pos, "at %llu, not %llu", (unsigned long long)s.loop_pos,
                 (unsigned long long)pos);
    cr_assert_eq(s.hash, hash[pos], "the state at %llu is a straight run's",
                 (unsigned long long)pos);
}

Test(host_timeline, keys_scrub_to_the_recorded_states)
{
    uint64_t hash[RECORDED + 1];
    ll_host *h = record(hash);
    run_frames(h, 1); /* alt+l: looping from the start */
    ll_host_press(h, ALT(LL_KEY_END));
    run_frames(h, 1);
    expect_at(h, hash, RECORDED);
    ll_host_press(h, ALT(LL_KEY_LEFT));
    run_frames(h, 1);
    expect_at(h, hash, RECORDED - 60);
    ll_host_press(h, ALT(LL_KEY_LEFT));
    run_frames(h, 3); /* paused: it stays */
    expect_at(h, hash, RECORDED - 120);
    ll_host_press(h, ALT(LL_KEY_HOME));
    run_frames(h, 1);
    expect_at(h, hash, 0);
    ll_host_press(h, ALT(LL_KEY_LEFT)); /* before the start: the start */
    run_frames(h, 1);
    expect_at(h, hash, 0);
    ll_host_press(h, ALT(LL_KEY_RIGHT));
    run_frames(h, 1);
    expect_at(h, hash, 60);
    /* alt+g, digits, enter: the frame typed; the digits are the host's. */
    ll_host_press(h, ALT('g'));
    ll_host_press(h, '1');
    ll_host_press(h, '2');
    ll_host_press(h, '\b');
    ll_host_press(h, '7');
    run_frames(h, 2);
    char line[512];
    cr_assert(strstr(ll_host_overlay_format(h, line, sizeof line), "go to frame: 17_"), "%s", line);
    ll_host_press(h, '\n');
    run_frames(h, 1);
    expect_at(h, hash, 17);
    cr_assert(!strstr(ll_host_overlay_format(h, line, sizeof line), "go to frame"), "%s", line);
    /* alt+space plays on from there, as recorded. */
    ll_host_press(h, ALT(' '));
    run_frames(h, 10);
    cr_assert_eq(status(h).hash, hash[27]);
    cr_assert_eq(status(h).key_failures, 0);
    ll_host_close(h);
}

Test(host_timeline, go_to_errors_and_escape)
{
    uint64_t hash[RECORDED + 1];
    ll_host *h = record(hash);
    run_frames(h, 1);
    ll_host_press(h, ALT('g'));
    ll_host_press(h, '\n');
    run_frames(h, 2);
    cr_assert_str_eq(status(h).error, "no frame number typed (try: alt+g, the digits, then enter)");
    ll_host_press(h, ALT('g'));
    ll_host_press(h, '9');
    ll_host_press(h, LL_KEY_ESCAPE);
    run_frames(h, 2);
    cr_assert(!status(h).paused, "escape: nowhere to go");
    /* A frame past the end goes to the end. */
    ll_host_press(h, ALT('g'));
    ll_host_press(h, '9');
    ll_host_press(h, '9');
    ll_host_press(h, '9');
    ll_host_press(h, '\n');
    run_frames(h, 4);
    expect_at(h, hash, RECORDED);
    ll_host_close(h);
}

Test(host_timeline, an_empty_slot_says_so)
{
    ll_error err = {0};
    ll_host *h = ll_host_open(app_path, &err, .headless = 1);
    cr_assert(h, "%s", err.msg);
    ll_host_press(h, ALT(LL_KEY_LEFT));
    run_frames(h, 1);
    cr_assert_str_eq(status(h).error, "slot 1 holds no recording to move in (try: alt+l to "
                                      "record, alt+l again to loop it)");
    cr_assert_eq(status(h).key_failures, 1);
    ll_host_close(h);
}

/* alt+g with nothing to go to says so at once, instead of asking for a
 * number "0 to 0" and taking the digits typed after it from the
 * application. */
Test(host_timeline, go_to_in_an_empty_slot_says_so_at_once)
{
    ll_error err = {0};
    ll_host *h = ll_host_open(app_path, &err, .headless = 1);
    cr_assert(h, "%s", err.msg);
    ll_host_press(h, ALT('g'));
    run_frames(h, 1);
    cr_assert_str_eq(status(h).error, "slot 1 holds no recording to move in (try: alt+l to "
                                      "record, alt+l again to loop it)");
    cr_assert_eq(status(h).key_failures, 1);
    ll_host_press(h, '\n'); /* the application's: no prompt is open */
    run_frames(h, 1);
    cr_assert_eq(status(h).key_failures, 1);
    ll_host_close(h);
}

/* Parked on a frame, an application key records over the rest. */
Test(host_timeline, a_key_on_a_frame_cuts_and_records_live)
{
    uint64_t hash[RECORDED + 1];
    ll_host *h = record(hash);
    run_frames(h, 1);
    ll_host_press(h, ALT(LL_KEY_HOME));
    ll_host_press(h, ALT(LL_KEY_RIGHT));
    run_frames(h, 2);
    expect_at(h, hash, 60);
    ll_host_press(h, 'z');
    run_frames(h, 1);
    ll_host_status s = status(h);
    cr_assert(s.recording && !s.paused, "recording %d paused %d", s.recording, s.paused);
    cr_assert_eq(s.loop_len, 61, "cut at 60, the key's frame recorded: %llu",
                 (unsigned long long)s.loop_len);
    cr_assert(strstr(s.message, "slot 1 cut at frame 60: recording your input from here"), "%s",
              s.message);
    run_frames(h, 19);
    uint64_t end = status(h).hash;
    cr_assert_eq(status(h).loop_len, 80);
    /* Loop it: the first 60 frames as before, then the new ones. */
    ll_host_press(h, ALT('l'));
    run_frames(h, 1);
    ll_host_press(h, ALT(LL_KEY_LEFT));
    run_frames(h, 1);
    cr_assert_eq(status(h).loop_pos, 0, "one frame played, a second back: the start");
    ll_host_press(h, ALT(LL_KEY_END));
    run_frames(h, 1);
    cr_assert_eq(status(h).loop_pos, 80);
    cr_assert_eq(status(h).hash, end, "the end of the new recording");
    ll_host_press(h, ALT('g'));
    ll_host_press(h, '3');
    ll_host_press(h, '0');
    ll_host_press(h, '\n');
    run_frames(h, 3);
    cr_assert_eq(status(h).hash, hash[30], "before the cut: the old recording");
    ll_host_close(h);
}

/* The same through --keys, as a user scripts it headless: record, loop,
 * scrub back and forth, go to frame 42, take over with a key. */
Test(host_timeline, scripted_keys_scrub_and_cut)
{
    ll_error err = {0};
    ll_host *h = ll_host_open(app_path, &err, .headless = 1, .frames = 260,
                              .keys = "1:alt+l,151:alt+l,160:alt+end,161:alt+left,162:alt+home,"
                                      "163:alt+right,170:alt+g,171:4,172:2,173:enter,200:q");
    cr_assert(h, "%s", err.msg);
    run_frames(h, 174);
    ll_host_status s = status(h);
    cr_assert(s.looping && s.paused);
    cr_assert_eq(s.loop_len, 150);
    cr_assert_eq(s.loop_pos, 42);
    run_frames(h, 30); /* parked until frame 200's q */
    s = status(h);
    cr_assert(s.recording, "q took over");
    cr_assert_eq(s.loop_len, 42 + 4, "cut at 42, frames 200 to 203 recorded: %llu",
                 (unsigned long long)s.loop_len);
    cr_assert_eq(ll_host_run(h, &err), 0, "%s", err.msg);
    cr_assert_eq(status(h).loop_len, 42 + 60);
    cr_assert_eq(status(h).key_failures, 0);
    ll_host_close(h);
}

Test(host_timeline, keys_are_listed)
{
    const char *help = ll_host_keys_help_get();
    cr_assert(strstr(help, "alt+left right") && strstr(help, "alt+home end") &&
                  strstr(help, "alt+g"),
              "%s", help);
}

/* Marks set for a slot colour the bar the platforms draw. */
Test(host_timeline, marks_for_a_slot)
{
    uint64_t hash[RECORDED + 1];
    ll_host *h = record(hash);
    uint8_t marks[RECORDED];
    memset(marks, HOST_MARK_SAME, sizeof marks);
    marks[210] = HOST_MARK_CHANGED;
    cr_assert_eq(host_bar_marks_set(h, 1, marks, RECORDED, 210), 0);
    cr_assert_eq(host_bar_marks_set(h, 10, marks, RECORDED, 210), -1);
    cr_assert_eq(host_bar_marks_set(h, 1, NULL, 0, 0), 0, "cleared");
    ll_host_close(h);
}
