/* test_loop_layout.c - layout_version is honoured: a build whose state
 * layout differs from the state's never runs on it. It migrates the state
 * through its migrate entry (again whenever an older state comes back: a
 * rewind, a loop's wrap), or is refused with both versions named, or the
 * state starts over (ll_loop_reinit, .reinit_on_layout). */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "loop/helpers.h"
#include "loop/loop.h"

static ll_block block;
static ll_loop *loop;
static ll_error err;
static int migrations, refuse_migrate;
static uint64_t migrated_from;

/* Layout 8 keeps the counter at offset 16 instead of 0. */
static void update_v8(ll_block *b, const void *input, uint64_t frame, double dt)
{
    (void)dt;
    const app_input *in = input;
    *(uint64_t *)(b->base + 16) += (uint64_t)(int64_t)in->add;
    b->base[4096 + frame % 64] = (uint8_t)(frame + 1);
}

static int migrate_v8(ll_block *b, uint64_t from)
{
    migrations++;
    migrated_from = from;
    if (refuse_migrate) {
        b->base[16] = 0xee; /* damage first: the loop must put it back */
        return -1;
    }
    memcpy(b->base + 16, b->base, 8);
    memset(b->base, 0, 8);
    return 0;
}

static int init_v8(ll_block *b)
{
    *(uint64_t *)(b->base + 16) = 1000;
    return 0;
}

static const ll_app app_v7 = TEST_APP(app_update_v1);
static ll_app app_v8, app_v8_migrates;

static void setup_with(int reinit)
{
    migrations = refuse_migrate = 0;
    memset(&block, 0, sizeof block);
    cr_assert_eq(ll_block_reserve(&block, &err, .size = 1 << 20), 0, "%s", err.msg);
    app_v8 = app_v7;
    app_v8.layout_version = 8;
    app_v8.update = update_v8;
    app_v8.init = init_v8;
    app_v8_migrates = app_v8;
    app_v8_migrates.migrate = migrate_v8;
    loop = ll_loop_create(&block, &err, .app = &app_v7, .fps = 60, .reinit_on_layout = reinit);
    cr_assert(loop, "%s", err.msg);
}

static void setup(void)
{
    setup_with(0);
}

static void teardown(void)
{
    ll_loop_destroy(loop);
    ll_snap_end(&block);
    ll_block_release(&block);
}

TestSuite(layout, .init = setup, .fini = teardown);

static void frames(int n, int add)
{
    ll_platform_input p = {.mouse_x = add};
    for (int i = 0; i < n; i++) cr_assert_eq(ll_loop_frame_run(loop, &p, &err), 1, "%s", err.msg);
}

#define AT(off) (*(uint64_t *)(block.base + (off)))

Test(layout, another_layout_is_refused_with_both_versions_and_the_way_out)
{
    frames(5, 3);
    uint64_t hash = ll_loop_hash_get(loop);
    ll_loop_app_set(loop, &app_v8);
    ll_platform_input p = {.mouse_x = 1};
    cr_assert_eq(ll_loop_frame_run(loop, &p, &err), -1);
    cr_assert(strstr(err.msg, "refusing to run test with state layout version 8 on a state of "
                              "layout version 7: the state structs changed (try: give its ll_app "
                              "a migrate function, start the state over (ll_loop_reinit; the "
                              "host's re-init key or --reinit), or build layout 7 again)"),
              "%s", err.msg);
    cr_assert_eq(ll_loop_hash_get(loop), hash, "the state was not touched");
    cr_assert_eq(AT(0), 15);
    ll_loop_app_set(loop, &app_v7);
    frames(1, 1);
    cr_assert_eq(AT(0), 16, "the old layout's build runs on");
}

Test(layout, migrate_converts_the_state_once)
{
    frames(5, 3);
    ll_loop_app_set(loop, &app_v8_migrates);
    frames(3, 1);
    cr_assert_eq(migrations, 1);
    cr_assert_eq(migrated_from, 7);
    cr_assert_eq(AT(16), 18);
    cr_assert_eq(AT(0), 0);
    cr_assert_eq(ll_loop_status_get(loop).layout, 8);
}

Test(layout, rewind_past_a_migration_migrates_again)
{
    frames(5, 3);
    ll_loop_app_set(loop, &app_v8_migrates);
    frames(3, 1);
    cr_assert_eq(ll_loop_rewind(loop, 5, &err), 0, "%s", err.msg);
    cr_assert_eq(ll_loop_status_get(loop).layout, 7, "the state before is of layout 7");
    frames(1, 1);
    cr_assert_eq(migrations, 2);
    cr_assert_eq(AT(16), 10); /* 3 frames of 3, migrated, then 1 */
}

Test(layout, a_looping_slot_of_the_old_layout_is_migrated_at_each_wrap)
{
    cr_assert_eq(ll_loop_record(loop, 0, &err), 0, "%s", err.msg);
    frames(4, 2);
    cr_assert_eq(ll_loop_play(loop, 0, &err), 0, "%s", err.msg);
    ll_loop_app_set(loop, &app_v8_migrates);
    frames(12, 0);
    cr_assert_eq(ll_loop_status_get(loop).mode, LL_LOOP_PLAYING, "the slot plays on");
    cr_assert_geq(ll_loop_status_get(loop).loops, 2);
    cr_assert_eq(migrations, 3, "once per pass");
    cr_assert_eq(AT(16), 8);
}

Test(layout, a_refusing_migrate_leaves_the_state)
{
    frames(5, 3);
    uint64_t hash = ll_loop_hash_get(loop);
    refuse_migrate = 1;
    ll_loop_app_set(loop, &app_v8_migrates);
    cr_assert_eq(ll_loop_frame_run(loop, NULL, &err), -1);
    cr_assert(strstr(err.msg, "test's migrate refused to convert the state from layout version 7 "
                              "to 8: the state is unchanged"),
              "%s", err.msg);
    cr_assert_eq(ll_loop_hash_get(loop), hash);
    cr_assert_eq(block_full_hash(&block), hash);
    cr_assert_eq(AT(0), 15);
}

Test(layout, reinit_starts_the_state_over_with_the_new_code)
{
    frames(5, 3);
    ll_loop_app_set(loop, &app_v8);
    cr_assert_eq(ll_loop_frame_run(loop, NULL, &err), -1);
    cr_assert_eq(ll_loop_reinit(loop, &err), 0, "%s", err.msg);
    cr_assert_eq(AT(0), 0, "the old state is gone");
    cr_assert_eq(AT(16), 1000, "init of the build in use ran");
    ll_loop_status st = ll_loop_status_get(loop);
    cr_assert_eq(st.layout, 8);
    cr_assert_eq(st.frame, 0);
    cr_assert_eq(st.rewind_frames, 0);
    cr_assert_eq(ll_loop_hash_get(loop), block_full_hash(&block));
    frames(2, 1);
    cr_assert_eq(AT(16), 1002);
}

Test(layout, reinit_without_init_is_refused)
{
    cr_assert_eq(ll_loop_reinit(loop, &err), -1);
    cr_assert(strstr(err.msg, "test has no init to start the state over with"), "%s", err.msg);
}

Test(layout, reinit_on_layout_starts_over_by_itself)
{
    teardown(); /* the suite's loop, for one with .reinit_on_layout */
    setup_with(1);
    frames(5, 3);
    ll_loop_app_set(loop, &app_v8);
    frames(1, 1);
    cr_assert_eq(AT(16), 1001);
    cr_assert_eq(ll_loop_status_get(loop).reinits, 1);
}

static int init_refuses(ll_block *b)
{
    b->base[0] = 0x77; /* written first: the loop must put it back */
    return -1;
}

Test(layout, reinit_refused_by_init_leaves_the_state)
{
    frames(5, 3);
    ll_app refusing = app_v8;
    refusing.init = init_refuses;
    ll_loop_app_set(loop, &refusing);
    cr_assert_eq(ll_loop_reinit(loop, &err), -1);
    cr_assert(
        strstr(err.msg, "test's init refused the block (it returned -1): the state is unchanged"),
        "%s", err.msg);
    cr_assert_eq(AT(0), 15);
    cr_assert_eq(ll_loop_hash_get(loop), block_full_hash(&block));
}

/* ll_app_init_run, the one way the loop, the host and replay start a state:
 * without a module init runs directly; its refusal is named with the value
 * it returned; an application without init is accepted as it is. */
Test(layout, app_init_run_accepts_refuses_and_skips)
{
    ll_app app = app_v8;
    cr_assert_eq(ll_app_init_run(NULL, &app, &block, NULL, &err), 0, "%s", err.msg);
    cr_assert_eq(*(uint64_t *)(block.base + 16), 1000);

    app.init = init_refuses;
    cr_assert_eq(ll_app_init_run(NULL, &app, &block, NULL, &err), -1);
    cr_assert_eq(err.code, EINVAL);
    cr_assert_str_eq(err.msg, "test's init refused the block (it returned -1)");
    cr_assert_eq(block.base[0], 0x77, "the block holds what init wrote");

    app.init = NULL;
    block.base[0] = 0;
    cr_assert_eq(ll_app_init_run(NULL, &app, &block, NULL, &err), 0);
    cr_assert_eq(block.base[0], 0);
}
