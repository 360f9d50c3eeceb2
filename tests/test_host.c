/* test_host.c - the host driven headless: keys to loop controls, crash
 * rollback, screenshots, slots, errors; and the platform helpers. The test
 * application is build/tests/host_app.so (tests/host_app.c), found next to
 * this test's binary. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host/host.h"
#include "memory/memory.h"

#include <xxhash.h>

static char app_path[PATH_MAX];

/* The host's keys are Alt with a key. */
#define ALT(c) (LL_KEY_ALT | (c))

/* build/tests/test_host -> build/tests/host_app.so */
static const char *test_file(const char *name)
{
    static char path[PATH_MAX];
    char exe[PATH_MAX] = {0};
    cr_assert(readlink("/proc/self/exe", exe, sizeof exe - 1) > 0);
    snprintf(path, sizeof path, "%s/%s", dirname(exe), name);
    return path;
}

static void find_app(void)
{
    snprintf(app_path, sizeof app_path, "%s", test_file("host_app.so"));
    cr_assert(access(app_path, R_OK) == 0, "%s is missing (make build-tests builds it)", app_path);
}

TestSuite(host, .init = find_app);

static ll_host *open_app(void)
{
    ll_error err = {0};
    ll_host *h = ll_host_open(app_path, &err, .headless = 1);
    cr_assert(h, "%s", err.msg);
    return h;
}

static void run_frames(ll_host *h, int n)
{
    for (int i = 0; i < n; i++) ll_host_frame_run(h);
}

static ll_host_status status(const ll_host *h)
{
    ll_host_status s;
    ll_host_status_get(h, &s);
    return s;
}

/* The first line of the canvas: the test application writes
 * "one counter=N key=K seen=S" there. */
static const char *line0(const ll_host *h)
{
    static char text[256];
    const ll_canvas *c = ll_host_canvas_get(h);
    int n = c->width < 255 ? c->width : 255;
    memcpy(text, c->cells, (size_t)n);
    text[n] = 0;
    return text;
}

static unsigned long long counter(const ll_host *h)
{
    const char *p = strstr(line0(h), "counter=");
    cr_assert(p, "no counter in '%s'", line0(h));
    return strtoull(p + 8, NULL, 10);
}

/* --- running ------------------------------------------------------------ */

Test(host, frames_run_update_and_render)
{
    ll_host *h = open_app();
    run_frames(h, 5);
    cr_assert_eq(counter(h), 5);
    cr_assert_eq(status(h).frame, 5);
    cr_assert_eq(status(h).app_frame, 5);
    ll_host_close(h);
}

Test(host, application_keys_pass_host_keys_do_not)
{
    ll_host *h = open_app();
    ll_host_press(h, 'x');
    run_frames(h, 1);
    cr_assert(strstr(line0(h), "key=x seen=1"), "%s", line0(h));
    ll_host_press(h, ALT('l')); /* the host's: starts a recording */
    run_frames(h, 1);
    cr_assert(strstr(line0(h), "key=x seen=1"), "alt+l reached the application: %s", line0(h));
    cr_assert(status(h).recording);
    /* Without Alt, l is the application's (a game may move with s, fire
     * with space). */
    ll_host_press(h, 'l');
    run_frames(h, 1);
    cr_assert(strstr(line0(h), "key=l seen=2"), "l did not reach the application: %s", line0(h));
    ll_host_press(h, 's');
    run_frames(h, 1);
    cr_assert(strstr(line0(h), "key=s seen=3"), "s did not reach the application: %s", line0(h));
    cr_assert(status(h).recording, "l without Alt acted on the loop");
    ll_host_close(h);
}

Test(host, l_records_then_loops_then_stops)
{
    ll_host *h = open_app();
    run_frames(h, 3);
    ll_host_press(h, ALT('l'));
    run_frames(h, 30);
    ll_host_status s = status(h);
    cr_assert(s.recording && !s.looping);
    /* The frame l was pressed in is the first one recorded. */
    cr_assert_eq(s.loop_len, 30, "recorded %llu", (unsigned long long)s.loop_len);
    char line[512];
    cr_assert(strstr(ll_host_overlay_format(h, line, sizeof line), "REC 1 30"), "%s", line);
    ll_host_press(h, ALT('l'));
    run_frames(h, 1);
    s = status(h);
    cr_assert(s.looping && !s.recording);
    /* The counter starts again from where the recording started (3), and
     * stays inside the recorded range, pass after pass. */
    unsigned long long lo = 1000, hi = 0;
    for (int i = 0; i < 100; i++) {
        run_frames(h, 1);
        unsigned long long c = counter(h);
        lo = c < lo ? c : lo, hi = c > hi ? c : hi;
    }
    cr_assert(lo >= 3 && hi <= 33, "counter left the loop: %llu..%llu", lo, hi);
    cr_assert(strstr(ll_host_overlay_format(h, line, sizeof line), "LOOP 1 "), "%s", line);
    ll_host_press(h, ALT('l'));
    run_frames(h, 2);
    cr_assert(!status(h).looping && !status(h).recording);
    cr_assert(strstr(ll_host_overlay_format(h, line, sizeof line), "LIVE 1"), "%s", line);
    ll_host_close(h);
}

/* Every key event is a press: presses that arrive in one frame are not
 * merged, each reaches its frame in order (a terminal's ten `.` in a burst
 * step ten frames, five x are five). */
Test(host, presses_are_never_merged)
{
    ll_host *h = open_app();
    for (int i = 0; i < 5; i++) ll_host_press(h, 'x');
    run_frames(h, 10);
    cr_assert(strstr(line0(h), "key=x seen=5"), "five presses: %s", line0(h));
    ll_host_press(h, ALT(' '));
    run_frames(h, 1);
    unsigned long long before = counter(h);
    for (int i = 0; i < 10; i++) ll_host_press(h, ALT('.'));
    run_frames(h, 20);
    cr_assert_eq(counter(h), before + 10, "ten steps ran %llu frames", counter(h) - before);
    ll_host_close(h);
}

/* --keys FRAME:KEY:N holds the key down for N frames, pressed on the first. */
Test(host, scripted_keys_are_held_for_their_frames)
{
    ll_error err;
    ll_host *h = ll_host_open(app_path, &err, .headless = 1, .keys = "3:right:4");
    cr_assert(h, "%s", err.msg);
    ll_platform_input seen[10];
    for (int i = 0; i < 10; i++) {
        ll_host_frame_run(h);
        seen[i] = *ll_host_input_get(h);
    }
    for (int i = 0; i < 10; i++) {
        cr_assert_eq(seen[i].keys[LL_KEY_RIGHT], i >= 3 && i < 7, "frame %d", i);
        cr_assert_eq(seen[i].pressed[LL_KEY_RIGHT], i == 3, "frame %d", i);
    }
    ll_host_close(h);
}

Test(host, crash_in_update_is_rolled_back_and_named)
{
    ll_host *h = open_app();
    run_frames(h, 10);
    ll_host_press(h, 'c');
    run_frames(h, 1);
    ll_host_status s = status(h);
    cr_assert_eq(s.crashes, 1);
    cr_assert(strstr(s.error, "SIGSEGV"), "%s", s.error);
    char line[512];
    ll_host_overlay_format(h, line, sizeof line);
    cr_assert(strstr(line, "error: SIGSEGV at address 0x0 in host_app_crash+"), "%s", line);
    /* The crashing frame changed nothing; the frames after it run. */
    cr_assert_eq(counter(h), 10);
    run_frames(h, 5);
    cr_assert_eq(counter(h), 15);
    /* The fault's message goes after five seconds of frames that did not
     * fault; the status keeps it as the last error. */
    run_frames(h, 5 * 60 - 7);
    cr_assert(strstr(ll_host_overlay_format(h, line, sizeof line), "error: SIGSEGV"), "%s", line);
    run_frames(h, 2);
    cr_assert(strstr(ll_host_overlay_format(h, line, sizeof line), "\nalt+? keys "), "%s", line);
    cr_assert(strstr(status(h).error, "SIGSEGV"), "%s", status(h).error);
    ll_host_close(h);
}

Test(host, pause_step_and_speed)
{
    ll_host *h = open_app();
    run_frames(h, 4);
    ll_host_press(h, ALT(' '));
    run_frames(h, 10);
    cr_assert(status(h).paused);
    cr_assert_eq(counter(h), 4, "paused but counted %llu", counter(h));
    char line[512];
    cr_assert(strstr(ll_host_overlay_format(h, line, sizeof line), "PAUSED"), "%s", line);
    ll_host_press(h, ALT('.'));
    run_frames(h, 3);
    cr_assert_eq(counter(h), 5, "one step, counted %llu", counter(h));
    ll_host_press(h, ALT(' '));
    ll_host_press(h, ALT('-'));
    run_frames(h, 20);
    cr_assert_eq(counter(h), 15, "half speed over 20 frames: %llu", counter(h));
    cr_assert(strstr(ll_host_overlay_format(h, line, sizeof line), "x1/2"), "%s", line);
    ll_host_press(h, ALT('+'));
    run_frames(h, 1);
    ll_host_press(h, ALT('='));
    run_frames(h, 10);
    cr_assert(strstr(ll_host_overlay_format(h, line, sizeof line), "x2"), "%s", line);
    ll_host_close(h);
}

Test(host, b_jumps_back_one_second)
{
    ll_host *h = open_app();
    run_frames(h, 100);
    cr_assert_eq(counter(h), 100);
    ll_host_press(h, ALT('b'));
    run_frames(h, 1);
    /* Back 60 frames (one second at 60 fps), then this frame ran one. */
    cr_assert_eq(counter(h), 41, "after b: %llu", counter(h));
    ll_host_close(h);
}

Test(host, b_with_nothing_to_rewind_says_so)
{
    ll_host *h = open_app();
    ll_host_press(h, ALT('b'));
    run_frames(h, 1);
    cr_assert(strstr(status(h).error, "nothing to rewind"), "%s", status(h).error);
    ll_host_close(h);
}

Test(host, k_keeps_the_window_as_a_loop)
{
    ll_host *h = open_app();
    run_frames(h, 200);
    ll_host_press(h, ALT('k'));
    run_frames(h, 1);
    ll_host_status s = status(h);
    cr_assert(s.looping, "%s", s.error);
    cr_assert(s.loop_len >= 60, "kept %llu frames", (unsigned long long)s.loop_len);
    ll_host_close(h);
}

Test(host, digit_chooses_a_slot_and_plays_it)
{
    ll_host *h = open_app();
    ll_host_press(h, ALT('2'));
    run_frames(h, 1);
    cr_assert_eq(status(h).slot, 2);
    ll_host_press(h, ALT('l'));
    run_frames(h, 10);
    ll_host_press(h, ALT('l'));
    run_frames(h, 1);
    ll_host_press(h, ALT('l'));
    run_frames(h, 1);
    cr_assert(!status(h).looping);
    ll_host_press(h, ALT('1'));
    run_frames(h, 1);
    cr_assert(!status(h).looping, "slot 1 is empty and must not play");
    ll_host_press(h, ALT('2'));
    run_frames(h, 1);
    cr_assert(status(h).looping);
    cr_assert_eq(status(h).slot, 2);
    ll_host_close(h);
}

/* The slot the overlay shows is the one alt+l and alt+s act on: a digit
 * while recording, or naming an empty slot while looping, leaves it and
 * says why. */
Test(host, digit_while_recording_or_looping_keeps_the_slot)
{
    ll_host *h = open_app();
    ll_host_press(h, ALT('l'));
    run_frames(h, 5);
    ll_host_press(h, ALT('3'));
    run_frames(h, 1);
    cr_assert_eq(status(h).slot, 1);
    cr_assert(status(h).recording);
    cr_assert(strstr(status(h).error, "slot 3 not chosen: recording into slot 1 (try: alt+l"), "%s",
              status(h).error);
    ll_host_press(h, ALT('l'));
    run_frames(h, 1);
    ll_host_press(h, ALT('4'));
    run_frames(h, 1);
    cr_assert_eq(status(h).slot, 1);
    cr_assert(status(h).looping);
    cr_assert(strstr(status(h).error, "slot 4 not chosen: it is empty and slot 1 is looping"), "%s",
              status(h).error);
    char line[512];
    cr_assert(strstr(ll_host_overlay_format(h, line, sizeof line), "LOOP 1 "), "%s", line);
    ll_host_close(h);
}

Test(host, s_of_an_empty_slot_says_so)
{
    char dir[] = "/tmp/ll-host-slots-XXXXXX";
    cr_assert(mkdtemp(dir));
    ll_error err;
    ll_host *h = ll_host_open(app_path, &err, .headless = 1, .slot_dir = dir);
    cr_assert(h, "%s", err.msg);
    ll_host_press(h, ALT('s'));
    run_frames(h, 1);
    cr_assert(strstr(status(h).error, "slot 1 not saved: it holds no recording (try: alt+l"), "%s",
              status(h).error);
    ll_host_close(h);
    rmdir(dir);
}

Test(host, slot_directory_that_is_not_there_is_refused_at_start)
{
    ll_error err;
    cr_assert_null(ll_host_open(app_path, &err, .headless = 1, .slot_dir = "/nonexistent"));
    cr_assert_str_eq(err.msg, "--slots /nonexistent: No such file or directory (try: mkdir -p "
                              "/nonexistent)");
    cr_assert_null(ll_host_open(app_path, &err, .headless = 1, .slot_dir = "/dev/null"));
    cr_assert_str_eq(err.msg, "--slots /dev/null: not a directory (try: --slots DIR)");
    /* (procfs refuses writes to root too) */
    cr_assert_null(ll_host_open(app_path, &err, .headless = 1, .slot_dir = "/proc/1"));
    cr_assert(strstr(err.msg, "--slots /proc/1: cannot write there: "), "%s", err.msg);
}

/* A whole ll_error message fits the status: a long path and its hint. */
Test(host, status_error_holds_a_whole_message)
{
    char shot[600];
    snprintf(shot, sizeof shot, "/nonexistent/%0500d/shot.txt", 0);
    ll_error err;
    ll_host *h = ll_host_open(app_path, &err, .headless = 1, .shots = {{1, shot}});
    cr_assert(h, "%s", err.msg);
    run_frames(h, 1);
    cr_assert(strstr(status(h).error, shot), "cut: %s", status(h).error);
    cr_assert(strstr(status(h).error, "No such file or directory"), "%s", status(h).error);
    ll_host_close(h);
}

/* Without the overlay the canvas takes the status lines' rows too. */
Test(host, no_overlay_gives_the_canvas_every_row)
{
    ll_error err;
    ll_host *h = ll_host_open(app_path, &err, .headless = 1, .no_overlay = 1);
    cr_assert(h, "%s", err.msg);
    cr_assert_eq(ll_host_canvas_get(h)->height, 24);
    ll_host_close(h);
    h = ll_host_open(app_path, &err, .headless = 1);
    cr_assert(h, "%s", err.msg);
    cr_assert_eq(ll_host_canvas_get(h)->height, 24 - HOST_STATUS_LINES);
    ll_host_close(h);
}

Test(host, audio_headless_on_the_sdl_platform_runs)
{
    ll_error err;
    ll_host *h = ll_host_open(app_path, &err, .headless = 1, .platform = "sdl", .audio = 1,
                              .width = 32, .height = 8);
    cr_assert(h, "%s", err.msg);
    run_frames(h, 3);
    cr_assert_eq(status(h).error[0], 0, "%s", status(h).error);
    ll_host_close(h);
}

Test(host, s_without_a_slot_directory_says_so)
{
    ll_host *h = open_app();
    ll_host_press(h, ALT('s'));
    run_frames(h, 1);
    cr_assert(strstr(status(h).error, "no slot directory to save into (try: --slots DIR)"), "%s",
              status(h).error);
    ll_host_close(h);
}

/* A headless host on a slot directory at a fixed base (a recording loads
 * only at the address it was made at: later hosts use the same one, picked
 * now, since the advisor may have none under a sanitizer), which records
 * 20 frames into slot 3 and saves them. */
static ll_host *host_saving_slot3(const char *dir, void **base)
{
    *base = mmap(NULL, 4 << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert(*base != MAP_FAILED);
    munmap(*base, 4 << 20);
    ll_error err;
    ll_host *h = ll_host_open(app_path, &err, .headless = 1, .slot_dir = dir, .base = *base);
    cr_assert(h, "%s", err.msg);
    ll_host_press(h, ALT('3'));
    run_frames(h, 1);
    ll_host_press(h, ALT('l'));
    run_frames(h, 20);
    ll_host_press(h, ALT('s'));
    run_frames(h, 1);
    cr_assert_eq(status(h).error[0], 0, "%s", status(h).error);
    return h;
}

Test(host, s_saves_a_slot_that_a_later_host_plays)
{
    char dir[] = "/tmp/ll-host-slots-XXXXXX", file[PATH_MAX];
    cr_assert(mkdtemp(dir));
    void *base;
    ll_error err;
    ll_host *h = host_saving_slot3(dir, &base);
    snprintf(file, sizeof file, "%s/slot3.llrec", dir);
    /* The save is confirmed, with the path, in the overlay. */
    char want[PATH_MAX + 64], line[1024];
    snprintf(want, sizeof want, "saved slot 3 to %s (", file);
    cr_assert(strstr(status(h).message, want), "%s", status(h).message);
    cr_assert(strstr(ll_host_overlay_format(h, line, sizeof line), want), "%s", line);
    cr_assert(access(file, R_OK) == 0, "%s not written", file);
    ll_host_close(h);

    h = ll_host_open(app_path, &err, .headless = 1, .slot_dir = dir, .base = base);
    cr_assert(h, "%s", err.msg);
    ll_host_press(h, ALT('3'));
    run_frames(h, 1);
    cr_assert(status(h).looping, "slot 3 did not load: %s", status(h).error);
    cr_assert(status(h).loop_len >= 19);
    ll_host_close(h);
    unlink(file);
    rmdir(dir);
}

/* A slot file whose start state brings an arena table counting 250 arenas
 * in a table of 64, its checksum recomputed: the host refuses it and goes
 * on (it once crashed drawing the help panel). */
static void craft_slot_table(const char *file)
{
    int fd = open(file, O_RDWR);
    cr_assert_geq(fd, 0);
    struct stat st;
    cr_assert_eq(fstat(fd, &st), 0);
    uint8_t *data = malloc((size_t)st.st_size);
    cr_assert_eq(pread(fd, data, (size_t)st.st_size, 0), st.st_size);
    uint64_t first;
    memcpy(&first, data + 128, 8);
    cr_assert_eq(first, 0, "the slot's first page is page 0");
    memory_header h = {.magic = MEMORY_MAGIC, .version = MEMORY_VERSION, .arena_count = 250};
    h.header_size = 3 * 4096;
    memcpy(&h.base, data + 40, 8); /* the recording's block base and size */
    memcpy(&h.size, data + 48, 8);
    h.next = h.size;
    memcpy(data + 136, &h, offsetof(memory_header, arenas));
    memset(data + 16, 0, 8);
    uint64_t sum = XXH3_64bits(data, (size_t)st.st_size);
    memcpy(data + 16, &sum, 8);
    cr_assert_eq(pwrite(fd, data, (size_t)st.st_size, 0), st.st_size);
    close(fd);
    free(data);
}

Test(host, a_crafted_slot_file_is_refused_not_followed)
{
    char dir[] = "/tmp/ll-host-slots-XXXXXX", file[PATH_MAX];
    cr_assert(mkdtemp(dir));
    void *base;
    ll_error err;
    ll_host_close(host_saving_slot3(dir, &base));
    snprintf(file, sizeof file, "%s/slot3.llrec", dir);
    craft_slot_table(file);

    ll_host *h = ll_host_open(app_path, &err, .headless = 1, .slot_dir = dir, .base = base);
    cr_assert(h, "%s", err.msg);
    ll_host_press(h, ALT('3'));
    run_frames(h, 1);
    cr_assert(!status(h).looping, "the crafted slot was played");
    cr_assert(strstr(status(h).error, "more arenas than the table holds"), "%s", status(h).error);
    ll_host_press(h, ALT('?'));
    run_frames(h, 2);
    ll_host_close(h);
    unlink(file);
    rmdir(dir);
}

Test(host, question_mark_shows_the_keys)
{
    ll_host *h = open_app();
    ll_host_press(h, ALT('?'));
    run_frames(h, 1);
    const ll_canvas *c = ll_host_canvas_get(h);
    char *all = strndup(c->cells, (size_t)c->width * (size_t)c->height);
    cr_assert(strstr(all, "record / loop / stop"), "help not drawn");
    cr_assert(strstr(all, "block 0x"), "the block is not described: %s", all);
    free(all);
    ll_host_press(h, ALT('?'));
    run_frames(h, 1);
    all = strndup(c->cells, (size_t)c->width * (size_t)c->height);
    cr_assert(!strstr(all, "record / loop / stop"), "help not hidden");
    free(all);
    ll_host_close(h);
}

Test(host, q_quits_and_frames_limit)
{
    ll_host *h = open_app();
    cr_assert_eq(ll_host_frame_run(h), 1);
    ll_host_press(h, ALT('q'));
    cr_assert_eq(ll_host_frame_run(h), 0);
    ll_host_close(h);
    ll_error err;
    h = ll_host_open(app_path, &err, .headless = 1, .frames = 7);
    cr_assert(h, "%s", err.msg);
    cr_assert_eq(ll_host_run(h, &err), 0);
    cr_assert_eq(status(h).frame, 7);
    ll_host_close(h);
}

Test(host, scripted_keys)
{
    ll_error err;
    ll_host *h =
        ll_host_open(app_path, &err, .headless = 1, .keys = "2:x,5:alt+l,15:alt+l", .frames = 20);
    cr_assert(h, "%s", err.msg);
    ll_host_run(h, &err);
    cr_assert(strstr(line0(h), "key=x"), "%s", line0(h));
    cr_assert(status(h).looping);
    cr_assert_eq(status(h).loop_len, 10);
    ll_host_close(h);
}

Test(host, screenshots_of_cells_and_pixels)
{
    char cells[] = "/tmp/ll-host-shot-XXXXXX";
    int fd = mkstemp(cells);
    close(fd);
    ll_error err;
    ll_host *h = ll_host_open(app_path, &err, .headless = 1, .shots = {{3, cells}});
    cr_assert(h, "%s", err.msg);
    run_frames(h, 5);
    ll_host_close(h);
    char text[256] = {0};
    FILE *f = fopen(cells, "r");
    cr_assert(f && fgets(text, sizeof text, f));
    fclose(f);
    cr_assert(!strncmp(text, "one counter=3 ", 14), "%s", text);

    h = ll_host_open(app_path, &err, .headless = 1, .platform = "sdl", .width = 32, .height = 8,
                     .shots = {{4, cells}});
    cr_assert(h, "%s", err.msg);
    run_frames(h, 6);
    ll_host_close(h);
    /* A P6 header, then a bar 4 pixels long in the application's colour. */
    f = fopen(cells, "rb");
    unsigned char buf[16 + 32 * 8 * 3];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    cr_assert(!memcmp(buf, "P6\n32 8\n255\n", 12));
    cr_assert_eq(n, 12 + 32 * 8 * 3);
    const unsigned char *px = buf + 12;
    cr_assert(px[0] == 0x20 && px[1] == 0x40 && px[2] == 0xc0, "first pixel not the bar");
    cr_assert(px[3 * 3] == 0x20 && px[4 * 3] == 0 && px[4 * 3 + 2] == 0, "bar is not 4 long");
    unlink(cells);
}

Test(host, screenshot_to_a_bad_path_shows_the_error)
{
    ll_error err;
    ll_host *h =
        ll_host_open(app_path, &err, .headless = 1, .shots = {{1, "/nonexistent/dir/shot.txt"}});
    cr_assert(h, "%s", err.msg);
    run_frames(h, 1);
    cr_assert(strstr(status(h).error, "cannot write screenshot /nonexistent/dir/shot.txt"), "%s",
              status(h).error);
    ll_host_close(h);
}

/* --- open errors -------------------------------------------------------- */

Test(host, open_errors)
{
    ll_error err;
    cr_assert_null(ll_host_open("/nonexistent/app.so", &err, .headless = 1));
    cr_assert(strstr(err.msg, "cannot load /nonexistent/app.so"), "%s", err.msg);

    /* liblooplive.so itself exports no looplive_app. */
    char lib[PATH_MAX];
    char *dir = strdup(app_path);
    snprintf(lib, sizeof lib, "%s/../liblooplive.so", dirname(dir));
    free(dir);
    cr_assert_null(ll_host_open(lib, &err, .headless = 1));
    cr_assert(strstr(err.msg, "has no looplive_app()"), "%s", err.msg);

    cr_assert_null(ll_host_open(test_file("host_app_v99.so"), &err, .headless = 1));
    cr_assert(strstr(err.msg, "looplive_app() returned another version (this host speaks API "
                              "versions 1 to 2)"),
              "%s", err.msg);

    cr_assert_null(ll_host_open(app_path, &err, .headless = 1, .size = 64 << 10));
    cr_assert(strstr(err.msg, "host_app's init refused the block (it returned -1)"), "%s", err.msg);

    cr_assert_null(ll_host_open(app_path, &err, .headless = 1, .audio = 1));
    cr_assert(strstr(err.msg, "--audio needs a platform with sound (try: --platform sdl)"), "%s",
              err.msg);

    cr_assert_null(ll_host_open(app_path, &err, .headless = 1, .platform = "vga"));
    cr_assert(strstr(err.msg, "unknown platform 'vga' (try: --platform terminal or sdl)"), "%s",
              err.msg);

    cr_assert_null(ll_host_open(app_path, &err, .headless = 1, .keys = "x"));
    cr_assert(strstr(err.msg, "expected FRAME:KEY or FRAME:KEY:FRAMES at 'x'"), "%s", err.msg);
    cr_assert_null(ll_host_open(app_path, &err, .headless = 1, .keys = "5:a,2:b"));
    cr_assert(strstr(err.msg, "frames must not go down"), "%s", err.msg);

    cr_assert_null(ll_host_open(app_path, &err, .headless = 1, .build_cmd = "make"));
    cr_assert(strstr(err.msg, "--build needs --watch DIR"), "%s", err.msg);
    cr_assert_null(ll_host_open(app_path, &err, .headless = 1, .watch_dir = "/nonexistent"));
    cr_assert(strstr(err.msg, "cannot watch /nonexistent: not a directory"), "%s", err.msg);
    cr_assert_null(ll_host_open(app_path, &err, .headless = 1, .watch_dir = "/tmp"));
    cr_assert(strstr(err.msg, "--watch /tmp needs a build command"), "%s", err.msg);
}

Test(host, block_size_and_addresses)
{
    ll_error err;
    ll_host *h = ll_host_open(app_path, &err, .headless = 1, .size = 8 << 20, .os_base = 1);
    cr_assert(h, "%s", err.msg);
    run_frames(h, 2);
    cr_assert_eq(counter(h), 2);
    ll_host_close(h);
    /* A base with something in the way: the memory layer's error. */
    int here = 0;
    void *taken = (void *)((uintptr_t)&here & ~(uintptr_t)4095);
    cr_assert_null(ll_host_open(app_path, &err, .headless = 1, .base = taken));
    cr_assert(strstr(err.msg, "is in the way"), "%s", err.msg);
}

Test(host, terminal_without_a_terminal_says_so)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0), dup2(null, 1);
        ll_error err = {0};
        ll_host *h = ll_host_open(app_path, &err, .platform = "terminal");
        ssize_t w = write(fds[1], err.msg, strlen(err.msg) + 1);
        _exit(h == NULL && w > 0 ? 0 : 1);
    }
    int st;
    waitpid(pid, &st, 0);
    char msg[1024] = {0};
    cr_assert(read(fds[0], msg, sizeof msg - 1) > 0);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "opened without a terminal");
    cr_assert(strstr(msg, "the terminal platform needs a terminal on stdin and stdout"), "%s", msg);
}

Test(host, sdl_without_a_display_or_library_says_so)
{
    ll_error err;
    unsetenv("DISPLAY");
    unsetenv("WAYLAND_DISPLAY");
    setenv("SDL_VIDEODRIVER", "x11", 1);
    cr_assert_null(ll_host_open(app_path, &err, .platform = "sdl"));
    cr_assert(strstr(err.msg, "cannot start SDL video"), "%s", err.msg);
    setenv("LOOPLIVE_SDL_LIB", "libSDL2-missing.so.9", 1);
    cr_assert_null(ll_host_open(app_path, &err, .platform = "sdl"));
    cr_assert(strstr(err.msg, "cannot load libSDL2-missing.so.9"), "%s", err.msg);
    cr_assert(strstr(err.msg, "(try: apt-get install libsdl2-2.0-0)"), "%s", err.msg);
}

Test(host, keys_help_and_close_null)
{
    const char *help = ll_host_keys_help_get();
    const char *keys[] = {"alt+l ", "alt+1-9", "alt+space", "alt+. ", "alt+- ", "alt++ ",
                          "alt+b ", "alt+k ",  "alt+s ",    "alt+? ", "alt+q "};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        cr_assert(strstr(help, keys[i]), "help lacks '%s'", keys[i]);
    ll_host_close(NULL);
}

/* --- rebuild and reload --------------------------------------------------- */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert(f, "%s", path);
    fputs(text, f);
    fclose(f);
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "r");
    cr_assert(f, "%s", path);
    static char buf[16384];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

/* Runs frames until cond(h) holds or 10 s pass. */
static int frames_until(ll_host *h, int (*cond)(const ll_host *))
{
    for (int i = 0; i < 2000; i++) {
        ll_host_frame_run(h);
        if (cond(h)) return 1;
        usleep(5000);
    }
    return 0;
}

/* Reloaded, and the build that made it seen to finish (the library can be
 * renamed into place, and loaded, a frame before the build exits). */
static int reloaded(const ll_host *h)
{
    return status(h).reloads >= 1 && status(h).builds >= 1;
}

static int build_failed(const ll_host *h)
{
    return strstr(status(h).error, "build failed") != NULL;
}

static int crashed_after_reload(const ll_host *h)
{
    return status(h).crashes >= 1;
}

static int reloaded_twice(const ll_host *h)
{
    return status(h).reloads >= 2;
}

/* All while a recorded loop plays: a changed build is reloaded into it, a
 * build that faults in update is rolled back (the loop goes on with the
 * last good code), a build that does not compile shows its error. */
Test(host, watch_rebuilds_and_reloads_into_the_loop)
{
    char dir[] = "/tmp/ll-host-watch-XXXXXX", src[PATH_MAX], lib[PATH_MAX], cmd[6 * PATH_MAX];
    cr_assert(mkdtemp(dir));
    char root[PATH_MAX];
    cr_assert(getcwd(root, sizeof root));
    snprintf(src, sizeof src, "%s/app.c", dir);
    snprintf(lib, sizeof lib, "%s/app.so", dir);
    /* The test application's source, with its word in the source. */
    char *text = strdup(read_all("tests/host_app.c"));
    write_file(src, text);
    snprintf(cmd, sizeof cmd,
             "cc -std=gnu11 -shared -fPIC -I%s/include -o %s.tmp %s && mv %s.tmp %s", root, lib,
             src, lib, lib);
    cr_assert_eq(system(cmd), 0, "%s", cmd);

    ll_error err;
    ll_host *h = ll_host_open(lib, &err, .headless = 1, .watch_dir = dir, .build_cmd = cmd);
    cr_assert(h, "%s", err.msg);
    run_frames(h, 3);
    cr_assert(!strncmp(line0(h), "one ", 4), "%s", line0(h));
    ll_host_press(h, ALT('l'));
    run_frames(h, 10);
    ll_host_press(h, ALT('l'));
    run_frames(h, 1);
    cr_assert(status(h).looping);

    char *two = strdup(text);
    char *w = strstr(two, "\"one\"");
    memcpy(w, "\"two\"", 5);
    write_file(src, two);
    cr_assert(frames_until(h, reloaded), "no reload: %s", status(h).error);
    run_frames(h, 1);
    cr_assert(!strncmp(line0(h), "two ", 4), "%s", line0(h));
    cr_assert_geq(status(h).builds, 1);
    char line[512];
    cr_assert(strstr(ll_host_overlay_format(h, line, sizeof line), "reloads 1"), "%s", line);
    cr_assert(status(h).looping, "the reload stopped the loop");

    /* A build that faults on every frame: rolled back, named, looping on. */
    char *bad = malloc(strlen(two) + 64);
    sprintf(bad, "#define APP_CRASH_ALWAYS 1\n%s", two);
    write_file(src, bad);
    cr_assert(frames_until(h, crashed_after_reload), "no crash after the reload: %s",
              status(h).error);
    cr_assert(strstr(status(h).error, "SIGSEGV"), "%s", status(h).error);
    cr_assert(strstr(ll_host_overlay_format(h, line, sizeof line), "in host_app_crash+"), "%s",
              line);
    /* The overlay says where the code went back to, and the build that
     * faulted is no reload. */
    cr_assert(strstr(line, "(app.so version 3); rolled back to version 2"), "%s", line);
    cr_assert(strstr(line, "| reloads 1\n") || strstr(line, "| reloads 1 |"), "%s", line);
    uint64_t crashes = status(h).crashes, pos = status(h).loop_pos;
    run_frames(h, 5);
    cr_assert(status(h).looping, "the crash stopped the loop");
    cr_assert_eq(status(h).crashes, crashes, "the rolled-back code crashed again");
    cr_assert_neq(status(h).loop_pos, pos, "the loop does not advance");
    cr_assert(!strncmp(line0(h), "two ", 4), "not the last good code: %s", line0(h));

    /* A build error shows, and the old code keeps running. */
    write_file(src, "this is not C;\n");
    cr_assert(frames_until(h, build_failed), "no build error: %s", status(h).error);
    cr_assert(strstr(status(h).error, "error"), "%s", status(h).error);
    pos = status(h).loop_pos;
    run_frames(h, 3);
    cr_assert(!strncmp(line0(h), "two ", 4), "%s", line0(h));
    cr_assert(status(h).looping && status(h).loop_pos != pos, "the loop stopped");
    /* A build error stays while it holds (past the seconds a fault's message
     * shows) and goes with the next good build. */
    run_frames(h, 6 * 60);
    cr_assert(
        strstr(ll_host_overlay_format(h, line, sizeof line), "error: build failed (exit 1): "),
        "%s", line);
    cr_assert(strstr(line, "app.c:1:1: error: "), "%s", line);
    /* A fault meanwhile shows for its five seconds, then the build error,
     * which still holds, is back. */
    ll_host_press(h, ALT('l'));
    run_frames(h, 1);
    cr_assert_not(status(h).looping);
    ll_host_press(h, 'c');
    run_frames(h, 1);
    cr_assert(strstr(ll_host_overlay_format(h, line, sizeof line), "error: SIGSEGV"), "%s", line);
    run_frames(h, 5 * 60);
    cr_assert(
        strstr(ll_host_overlay_format(h, line, sizeof line), "error: build failed (exit 1): "),
        "%s", line);
    write_file(src, two);
    cr_assert(frames_until(h, reloaded_twice), "no reload after the fix: %s", status(h).error);
    ll_host_overlay_format(h, line, sizeof line);
    cr_assert_not(strstr(line, "error: "), "%s", line);
    ll_host_close(h);
    unlink(src), unlink(lib), rmdir(dir);
    free(text), free(two), free(bad);
}

/* --- platform helpers ----------------------------------------------------- */

Test(host_term, parse_keys)
{
    int keys[32];
    const unsigned char in[] = "a\x1b[A\x1b[B\x1bOC\x1b[D\r \x1b[1;5Cz\x1bl\x1b.\x1b[1;3D\t\x7f"
                               "\x1b[5~\x1b[3~\x1bOP\x1b[24~\x1b[H\x1b";
    int n = host_term_parse_keys(in, sizeof in - 1, keys, 32);
    int want[] = {'a',           LL_KEY_UP,    LL_KEY_DOWN,
                  LL_KEY_RIGHT,  LL_KEY_LEFT,  '\n',
                  ' ',           LL_KEY_RIGHT, 'z',
                  ALT('l'),      ALT('.'),     ALT(LL_KEY_LEFT),
                  '\t',          '\b',         LL_KEY_PAGE_UP,
                  LL_KEY_DELETE, LL_KEY_F1,    LL_KEY_F12,
                  LL_KEY_HOME,   LL_KEY_ESCAPE};
    cr_assert_eq(n, (int)(sizeof want / sizeof want[0]), "got %d keys", n);
    for (int i = 0; i < n; i++) cr_assert_eq(keys[i], want[i], "key %d: %d", i, keys[i]);
    cr_assert_eq(host_term_parse_keys(in, sizeof in - 1, keys, 2), 2);
}

Test(host_term, render_cells_colours_and_status)
{
    char cells[] = "ab\x01"
                   "cd ";
    uint8_t colors[] = {0, 1, 1, 9, 9, 0};
    ll_canvas c = {.width = 3, .height = 2, .cells = cells, .colors = colors};
    char out[512];
    size_t n = host_term_render(&c, "status\nerror: x", NULL, 3, 4, out, sizeof out);
    out[n] = 0;
    cr_assert(strstr(out, "\x1b[1;1H\x1b[39ma\x1b[31mb "), "%s", out);
    cr_assert(strstr(out, "\x1b[2;1H\x1b[91mcd\x1b[39m "), "%s", out);
    cr_assert(strstr(out, "\x1b[3;1H\x1b[0;7msta\x1b[K\x1b[0m"), "status not cut to 3: %s", out);
    cr_assert(strstr(out, "\x1b[4;1H\x1b[0;93merr\x1b[K\x1b[0m"), "no second line: %s", out);
    /* A terminal made smaller: the top left of the canvas, the status under it. */
    n = host_term_render(&c, "status\nerror: x", NULL, 2, 3, out, sizeof out);
    out[n] = 0;
    cr_assert(strstr(out, "\x1b[1;1H\x1b[39ma\x1b[31mb\x1b[2;1H\x1b[0;7mst"), "%s", out);
    cr_assert(!strstr(out, "cd"), "row 2 drawn in a 3-row terminal: %s", out);
    cr_assert(strstr(out, "\x1b[3;1H\x1b[0;93mer\x1b[K"), "second line not cut to 2: %s", out);
    n = host_term_render(&c, "status\nerror: x", NULL, 2, 1, out, sizeof out);
    out[n] = 0;
    cr_assert(!strstr(out, "er"), "no room for the second line in 1 row: %s", out);
    /* Too small a buffer: what fits, never past it. */
    cr_assert_leq(host_term_render(&c, "status", NULL, 3, 4, out, 10), 10);
}

/* g, j, p, q and y reach below the baseline, their bowls at x-height:
 * they do not read as 9 (whose top is at the cap height). */
Test(host_font, descenders_below_the_baseline)
{
    for (const char *c = "gjpqy"; *c; c++) {
        uint32_t px[6 * 9] = {0};
        char text[2] = {*c, 0};
        host_font_draw(px, 6, 9, 0, 0, text, 1);
        int row7 = 0, row0 = 0;
        for (int x = 0; x < 5; x++) row7 |= (int)px[7 * 6 + x], row0 |= (int)px[x];
        cr_assert(row7, "'%c' has no descender", *c);
        if (*c != 'j') cr_assert(!row0, "'%c' starts at the top like a digit", *c);
    }
    uint32_t nine[6 * 9] = {0}, g[6 * 9] = {0};
    host_font_draw(nine, 6, 9, 0, 0, "9", 1);
    host_font_draw(g, 6, 9, 0, 0, "g", 1);
    cr_assert(memcmp(nine, g, sizeof g) != 0);
}

Test(host_font, draws_glyphs_clipped)
{
    uint32_t px[12 * 9] = {0};
    host_font_draw(px, 12, 9, 0, 1, "I-", 0xffffffff);
    /* 'I' row 0 is .###. ; '-' row 3 is ##### starting at x = 6. */
    cr_assert_eq(px[1 * 12 + 0], 0);
    cr_assert_eq(px[1 * 12 + 1], 0xffffffff);
    cr_assert_eq(px[4 * 12 + 6], 0xffffffff);
    cr_assert_eq(px[4 * 12 + 11], 0, "the last column is clipped off the 5-wide glyph");
    host_font_draw(px, 12, 9, -3, 7, "W\x7f", 0xff00ff00); /* clipped, no crash */
}

Test(host_write, ppm_and_cells_errors)
{
    ll_error err;
    uint32_t px[2] = {0xff102030, 0xffa0b0c0};
    cr_assert_eq(host_write_ppm("/nonexistent/x.ppm", px, 2, 1, &err), -1);
    cr_assert(strstr(err.msg, "cannot write screenshot /nonexistent/x.ppm"), "%s", err.msg);
    char path[] = "/tmp/ll-ppm-XXXXXX";
    close(mkstemp(path));
    cr_assert_eq(host_write_ppm(path, px, 2, 1, &err), 0);
    unsigned char buf[64];
    FILE *f = fopen(path, "rb");
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    cr_assert_eq(n, 11 + 6);
    cr_assert(!memcmp(buf, "P6\n2 1\n255\n\x10\x20\x30\xa0\xb0\xc0", n));
    ll_canvas c = {.width = 2, .height = 1, .cells = "a\x02"};
    cr_assert_eq(host_write_cells("/nonexistent/x.txt", &c, &err), -1);
    cr_assert(strstr(err.msg, "cannot write screenshot /nonexistent/x.txt"), "%s", err.msg);
    cr_assert_eq(host_write_cells(path, &c, &err), 0);
    cr_assert_str_eq(read_all(path), "a \n");
    unlink(path);
}

static int builder_wait(host_builder *b, ll_error *err)
{
    for (int i = 0; i < 1000; i++) {
        int r = host_builder_poll(b, err);
        if (r) return r;
        usleep(10000);
    }
    return 0;
}

/* A fresh directory watched by a builder that runs cmd_fmt (a printf
 * format; %s, if there, is the directory). */
typedef struct build_dir {
    char dir[32];
    host_builder *b;
} build_dir;

static void build_dir_open(build_dir *d, const char *cmd_fmt)
{
    snprintf(d->dir, sizeof d->dir, "/tmp/ll-build-XXXXXX");
    cr_assert(mkdtemp(d->dir));
    char cmd[512];
    snprintf(cmd, sizeof cmd, cmd_fmt, d->dir);
    ll_error err;
    d->b = host_builder_open(d->dir, cmd, &err);
    cr_assert(d->b, "%s", err.msg);
}

static void build_dir_write(const build_dir *d, const char *name, const char *text)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", d->dir, name);
    write_file(path, text);
}

static const char *build_dir_log(const build_dir *d)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/log", d->dir);
    return read_all(path);
}

static void build_dir_close(build_dir *d)
{
    host_builder_close(d->b);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", d->dir);
    cr_assert_eq(system(cmd), 0);
}

Test(host_build, builds_on_source_change_only)
{
    build_dir d;
    build_dir_open(&d, "echo built >> %s/log");
    ll_error err;
    build_dir_write(&d, "notes.txt", "not a source file\n");
    usleep(200000);
    cr_assert_eq(host_builder_poll(d.b, &err), 0);
    cr_assert(!host_builder_busy(d.b), "a .txt file started a build");
    build_dir_write(&d, "a.c", "int x;\n");
    cr_assert_eq(builder_wait(d.b, &err), 1, "%s", err.msg);
    cr_assert_str_eq(build_dir_log(&d), "built\n");
    build_dir_close(&d);
}

Test(host_build, the_command_gets_the_flags_that_let_builds_forward)
{
    build_dir d;
    build_dir_open(&d, "echo \"$LOOPLIVE_CFLAGS\" >> %s/log");
    ll_error err;
    build_dir_write(&d, "a.c", "int x;\n");
    cr_assert_eq(builder_wait(d.b, &err), 1, "%s", err.msg);
    cr_assert_str_eq(build_dir_log(&d), "-fpatchable-function-entry=14\n");
    cr_assert_null(getenv("LOOPLIVE_CFLAGS"), "the host's own environment is left alone");
    build_dir_close(&d);
}

Test(host_build, failure_names_the_first_error_line)
{
    build_dir d;
    build_dir_open(&d, "echo 'make: entering'; echo 'a.c:3:1: error: expected ;' >&2; exit 2");
    ll_error err;
    build_dir_write(&d, "a.h", "x\n");
    cr_assert_eq(builder_wait(d.b, &err), -1);
    char want[512];
    snprintf(want, sizeof want,
             "build failed (exit 2): a.c:3:1: error: expected ; (try: fix it and save, the whole "
             "output is in %s)",
             host_builder_log(d.b));
    cr_assert_str_eq(err.msg, want);
    build_dir_close(&d);
}

/* make echoes the compiler's command, and it holds -Werror: the compiler's
 * own first error is what counts, and the whole output is in the log. */
Test(host_build, failure_skips_the_echoed_command_and_keeps_the_log)
{
    build_dir d;
    build_dir_open(&d, "echo 'cc -Wall -Werror -c a.c -o a.o'; "
                       "echo 'a.c: In function f:'; "
                       "echo 'a.c:7:12: error: expected ; before } token' >&2; "
                       "echo 'a.c:9:1: error: second' >&2; "
                       "echo 'make: *** [Makefile:3: a.o] Error 1'; exit 2");
    ll_error err;
    build_dir_write(&d, "a.c", "x\n");
    cr_assert_eq(builder_wait(d.b, &err), -1);
    cr_assert(strstr(err.msg, "build failed (exit 2): a.c:7:12: error: expected ; before } token "),
              "%s", err.msg);
    const char *log = host_builder_log(d.b);
    cr_assert(!strncmp(log, "/proc/", 6), "%s", log);
    const char *text = read_all(log);
    cr_assert(strstr(text, "cc -Wall -Werror -c a.c -o a.o\n"), "%s", text);
    cr_assert(strstr(text, "a.c:9:1: error: second\n"), "%s", text);
    cr_assert(strstr(text, "Error 1\n"), "%s", text);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s", log);
    build_dir_close(&d);
    cr_assert_neq(access(path, F_OK), 0, "the log outlives the builder");
}

/* A linker error has no "error:" line of its own; a script's own message is
 * its last line. */
Test(host_build, failure_of_a_link_or_a_script)
{
    build_dir d;
    build_dir_open(&d, "echo 'cc -Werror -o app a.o'; "
                       "echo \"/usr/bin/ld: a.o: in function main:\"; "
                       "echo \"a.c:(.text+0x5): undefined reference to f\"; "
                       "echo 'collect2: error: ld returned 1 exit status'; exit 1");
    ll_error err;
    build_dir_write(&d, "a.c", "x\n");
    cr_assert_eq(builder_wait(d.b, &err), -1);
    cr_assert(strstr(err.msg, "build failed (exit 1): a.c:(.text+0x5): undefined reference to f "),
              "%s", err.msg);
    build_dir_close(&d);
    build_dir_open(&d, "echo step one; echo 'nothing to build from here'; exit 3");
    build_dir_write(&d, "a.c", "x\n");
    cr_assert_eq(builder_wait(d.b, &err), -1);
    cr_assert(strstr(err.msg, "build failed (exit 3): nothing to build from here "), "%s", err.msg);
    build_dir_close(&d);
    build_dir_open(&d, "exit 4");
    build_dir_write(&d, "a.c", "x\n");
    cr_assert_eq(builder_wait(d.b, &err), -1);
    cr_assert(strstr(err.msg, "build failed (exit 4): no output (try: fix it and save, "), "%s",
              err.msg);
    build_dir_close(&d);
}

Test(host_build, the_log_needs_a_temporary_directory)
{
    ll_error err;
    setenv("TMPDIR", "/nonexistent", 1);
    cr_assert_null(host_builder_open("tests/data", "make", &err));
    cr_assert_str_eq(err.msg, "cannot create the build log in /nonexistent: No such file or "
                              "directory (try: TMPDIR=DIR with room)");
}

Test(host_build, open_errors)
{
    ll_error err;
    cr_assert_null(host_builder_open("/nonexistent", "make", &err));
    cr_assert(strstr(err.msg, "cannot watch /nonexistent: not a directory"), "%s", err.msg);
    cr_assert_null(host_builder_open("/tmp", "", &err));
    cr_assert(strstr(err.msg, "--watch /tmp needs a build command (try: --build \"make\")"), "%s",
              err.msg);
    cr_assert_eq(host_builder_busy(NULL), 0);
    host_builder_close(NULL);
}

Test(host_build, a_build_killed_by_a_signal_says_which)
{
    build_dir d;
    build_dir_open(&d, "echo 'cc: fatal error: out of memory'; kill -9 $$");
    ll_error err;
    build_dir_write(&d, "a.c", "int x;\n");
    cr_assert_eq(builder_wait(d.b, &err), -1);
    cr_assert(strstr(err.msg, "build killed by signal 9: cc: fatal error: out of memory (try: "),
              "%s", err.msg);
    build_dir_close(&d);
}

Test(host_build, a_directory_made_while_watching_is_watched_too)
{
    build_dir d;
    build_dir_open(&d, "echo built >>%s/log");
    ll_error err;
    char sub[64];
    snprintf(sub, sizeof sub, "%s/sub", d.dir);
    cr_assert_eq(mkdir(sub, 0700), 0);
    cr_assert_eq(builder_wait(d.b, &err), 1, "a new directory starts a build: %s", err.msg);
    build_dir_write(&d, "sub/a.c", "int x;\n");
    cr_assert_eq(builder_wait(d.b, &err), 1, "a source in the new directory started no build");
    cr_assert_str_eq(build_dir_log(&d), "built\nbuilt\n");
    build_dir_close(&d);
}

/* The timeline bar: played '=', ahead '-', the position '|', a column with
 * a changed frame '#', the first changed frame '!'; colours by mark. */
Test(host_bar, cells_show_position_and_marks)
{
    char cells[10];
    uint8_t colors[10];
    host_bar bar = {.frames = 100, .pos = 50, .first_changed = UINT64_MAX};
    host_bar_cells(&bar, 10, cells, colors);
    cr_assert(!memcmp(cells, "=====|----", 10), "%.10s", cells);
    cr_assert_eq(colors[5], 15, "the position is bright white");
    cr_assert_eq(colors[0], 7, "played without marks is grey");
    cr_assert_eq(colors[9], 8, "ahead without marks is dark grey");
    uint8_t marks[100];
    memset(marks, HOST_MARK_SAME, sizeof marks);
    marks[72] = HOST_MARK_CHANGED;
    marks[95] = HOST_MARK_CHANGED;
    bar.marks = marks;
    bar.mark_count = 100;
    bar.first_changed = 72;
    host_bar_cells(&bar, 10, cells, colors);
    cr_assert(!memcmp(cells, "=====|-!-#", 10), "%.10s", cells);
    cr_assert_eq(colors[0], 2, "unchanged frames are green");
    cr_assert_eq(colors[9], 1, "changed frames are red");
    cr_assert_eq(colors[7], 9, "the first change stands out");
    /* Marks known for part of the recording: the rest has none. */
    bar.mark_count = 30;
    bar.first_changed = UINT64_MAX;
    host_bar_cells(&bar, 10, cells, colors);
    cr_assert_eq(colors[2], 2);
    cr_assert_eq(colors[4], 7, "frames without marks are grey");
    /* An empty recording draws an empty bar; more columns than frames. */
    bar = (host_bar){.frames = 0};
    host_bar_cells(&bar, 10, cells, colors);
    cr_assert(!memcmp(cells, "          ", 10));
    bar = (host_bar){.frames = 3, .pos = 3, .first_changed = UINT64_MAX};
    host_bar_cells(&bar, 6, cells, colors);
    cr_assert(!memcmp(cells, "=====|", 6), "%.6s", cells);
}

Test(host_bar, pixels_and_clicks)
{
    uint32_t px[20 * 9];
    host_bar bar = {.frames = 200, .pos = 100, .first_changed = 150};
    uint8_t marks[200] = {0};
    marks[150] = HOST_MARK_CHANGED;
    bar.marks = marks;
    bar.mark_count = 200;
    host_bar_pixels(&bar, px, 20, 9);
    cr_assert_eq(px[4 * 20 + 10], 0xffffffffu, "the position is a white line");
    cr_assert_eq(px[4 * 20 + 2], 0xff8a8a8au, "played, no mark");
    cr_assert_eq(px[4 * 20 + 18], 0xff3a3a3au, "ahead, no mark");
    cr_assert_eq(px[4 * 20 + 15], 0xff702020u, "ahead, changed");
    cr_assert_eq(px[1 * 20 + 15], 0xffffd040u, "the first change's notch");
    cr_assert_eq(px[0], 0xff181818u, "the border row");
    /* A click: the left edge is the start, the right edge the end. */
    cr_assert_eq(host_bar_frame_at(&bar, 0, 21), 0);
    cr_assert_eq(host_bar_frame_at(&bar, 10, 21), 100);
    cr_assert_eq(host_bar_frame_at(&bar, 20, 21), 200);
    cr_assert_eq(host_bar_frame_at(&bar, 99, 21), 200);
    cr_assert_eq(host_bar_frame_at(&bar, -3, 21), 0);
}

/* The terminal draws the bar under the canvas, the status under it. */
Test(host_bar, terminal_row_under_the_canvas)
{
    char cells[] = "abcd";
    ll_canvas c = {.width = 2, .height = 2, .cells = cells};
    host_bar bar = {.frames = 4, .pos = 2, .first_changed = UINT64_MAX};
    char out[1024];
    size_t n = host_term_render(&c, "status\nhint", &bar, 4, 5, out, sizeof out);
    out[n] = 0;
    cr_assert(strstr(out, "\x1b[3;1H\x1b[0m\x1b[37m==\x1b[97m|\x1b[90m-"), "%s", out);
    cr_assert(strstr(out, "\x1b[4;1H\x1b[0;7mstat"), "%s", out);
    cr_assert(strstr(out, "\x1b[5;1H\x1b[0;93mhint"), "%s", out);
}
