/* test_loop_input.c - key names and scripted keys: one vocabulary for
 * `run --keys`, `replay --script` and the docs, and the same frames from
 * the same description in either syntax. */
#include <criterion/criterion.h>
#include <string.h>

#include "looplive.h"

static int parse(const char *name)
{
    return ll_key_parse(name, strlen(name));
}

Test(loop_input, key_names)
{
    cr_assert_eq(parse("a"), 'a');
    cr_assert_eq(parse("."), '.');
    cr_assert_eq(parse("+"), '+');
    cr_assert_eq(parse("space"), ' ');
    cr_assert_eq(parse("enter"), '\n');
    cr_assert_eq(parse("tab"), '\t');
    cr_assert_eq(parse("backspace"), '\b');
    cr_assert_eq(parse("escape"), LL_KEY_ESCAPE);
    cr_assert_eq(parse("esc"), LL_KEY_ESCAPE);
    cr_assert_eq(parse("left"), LL_KEY_LEFT);
    cr_assert_eq(parse("right"), LL_KEY_RIGHT);
    cr_assert_eq(parse("up"), LL_KEY_UP);
    cr_assert_eq(parse("down"), LL_KEY_DOWN);
    cr_assert_eq(parse("pagedown"), LL_KEY_PAGE_DOWN);
    cr_assert_eq(parse("delete"), LL_KEY_DELETE);
    cr_assert_eq(parse("f1"), LL_KEY_F1);
    cr_assert_eq(parse("f12"), LL_KEY_F12);
    cr_assert_eq(parse("comma"), ',');
    cr_assert_eq(parse("colon"), ':');
    cr_assert_eq(parse("hash"), '#');
    cr_assert_eq(parse("alt+l"), LL_KEY_ALT | 'l');
    cr_assert_eq(parse("alt++"), LL_KEY_ALT | '+');
    cr_assert_eq(parse("alt+space"), LL_KEY_ALT | ' ');
    cr_assert_eq(parse("up down"), -1);
    cr_assert_eq(parse("f13"), -1);
    cr_assert_eq(parse("f0"), -1);
    cr_assert_eq(parse("lq"), -1);
    cr_assert_eq(parse(""), -1);
    cr_assert_eq(parse("alt+"), -1);
    cr_assert_eq(ll_key_parse("upx", 2), LL_KEY_UP);
}

static ll_platform_input at(const ll_keys *k, uint64_t frame)
{
    ll_platform_input in;
    memset(&in, 0xaa, sizeof in);
    ll_keys_input_get(k, frame, &in);
    return in;
}

Test(loop_input, key_names_round_trip)
{
    char buf[32];
    for (int k = 0; k < 8 * 256; k++) {
        if ((k & LL_KEY_CTRL) && (k & 0xff) >= 'A' && (k & 0xff) <= 'Z') continue; /* ctrl+a */
        ll_key_format(k, buf, sizeof buf);
        int back = parse(buf);
        if (back >= 0) cr_assert_eq(back, k, "%s: %d, not %d", buf, back, k);
    }
    cr_assert_str_eq(ll_key_format(LL_KEY_ALT | ' ', buf, sizeof buf), "alt+space");
    cr_assert_str_eq(ll_key_format(LL_KEY_F1 + 4, buf, sizeof buf), "f5");
    cr_assert_str_eq(ll_key_format('q', buf, sizeof buf), "q");
    cr_assert_str_eq(ll_key_format(1, buf, sizeof buf), "0x01");
    cr_assert_str_eq(ll_key_format(LL_KEY_CTRL | 'a', buf, sizeof buf), "ctrl+a");
    cr_assert_str_eq(
        ll_key_format(LL_KEY_ALT | LL_KEY_CTRL | LL_KEY_SHIFT | LL_KEY_LEFT, buf, sizeof buf),
        "alt+ctrl+shift+left");
}

Test(loop_input, modifiers_and_their_index)
{
    cr_assert_eq(parse("ctrl+a"), LL_KEY_CTRL | 'a');
    cr_assert_eq(parse("ctrl+A"), LL_KEY_CTRL | 'a', "one key whatever the case");
    cr_assert_eq(parse("shift+f3"), LL_KEY_SHIFT | (LL_KEY_F1 + 2));
    cr_assert_eq(parse("ctrl+alt+right"), LL_KEY_CTRL | LL_KEY_ALT | LL_KEY_RIGHT);
    cr_assert_eq(parse("ctrl+ctrl+a"), -1, "a modifier once");
    cr_assert_eq(parse("ctrl+"), -1);
    cr_assert_eq(ll_key_index_get(LL_KEY_CTRL | 'a'), 1, "ctrl+a is its control code");
    cr_assert_eq(ll_key_index_get(LL_KEY_CTRL | 'Z'), 26);
    cr_assert_eq(ll_key_index_get(LL_KEY_CTRL | LL_KEY_LEFT), LL_KEY_LEFT);
    cr_assert_eq(ll_key_index_get(LL_KEY_SHIFT | LL_KEY_UP), LL_KEY_UP);
    cr_assert_eq(ll_key_index_get(LL_KEY_ALT | 'l'), -1);
    cr_assert_eq(ll_key_index_get('q'), 'q');
}

Test(loop_input, scripted_presses_are_typed_in_order)
{
    ll_keys k = {0};
    ll_error err;
    uint64_t frame = 0;
    cr_assert_eq(ll_keys_parse_line(&k, "2 x ctrl+c left", &frame, &err), 0, "%s", err.msg);
    ll_platform_input in = at(&k, 0);
    cr_assert_eq(in.typed_count, 3);
    cr_assert(in.typed[0] == 'x' && in.typed[1] == (LL_KEY_CTRL | 'c') &&
              in.typed[2] == LL_KEY_LEFT);
    cr_assert(in.pressed[3] && in.keys[3] && !in.pressed['c']);
    in = at(&k, 1);
    cr_assert_eq(in.typed_count, 0, "held, not typed again");
    cr_assert(in.keys['x']);
    ll_keys_free(&k);
}

Test(loop_input, keys_are_held_for_their_frames)
{
    ll_keys k = {0};
    ll_error err;
    cr_assert_eq(ll_keys_parse(&k, "2:right:3,2:up,4:alt+l,6:x", &err), 0, "%s", err.msg);
    cr_assert_eq(k.count, 4);
    for (uint64_t f = 0; f < 8; f++) {
        ll_platform_input in = at(&k, f);
        cr_assert_eq(in.keys[LL_KEY_RIGHT], f >= 2 && f < 5, "frame %llu", (unsigned long long)f);
        cr_assert_eq(in.pressed[LL_KEY_RIGHT], f == 2);
        cr_assert_eq(in.keys[LL_KEY_UP], f == 2);
        cr_assert_eq(in.pressed['x'], f == 6);
        cr_assert_eq(in.keys['l'] | in.pressed['l'], 0, "a host key reached the application");
        cr_assert_eq(in.mouse_x, (int32_t)0xaaaaaaaa, "other fields are kept");
    }
    ll_keys_free(&k);
    cr_assert_eq(k.count, 0);
}

/* The same description in both syntaxes gives the same frames. */
Test(loop_input, keys_and_script_lines_agree)
{
    const char *script[] = {"# walk right, jump, wait\n",
                            "10\n",
                            "30 right\n",
                            "1 right space  # jump\n",
                            "\n",
                            "5\n",
                            "2 left a\n"};
    ll_keys s = {0}, k = {0};
    ll_error err;
    uint64_t frame = 0;
    for (size_t i = 0; i < sizeof script / sizeof script[0]; i++)
        cr_assert_eq(ll_keys_parse_line(&s, script[i], &frame, &err), 0, "%s", err.msg);
    cr_assert_eq(frame, 48);
    cr_assert_eq(ll_keys_parse(&k, "10:right:30,40:right,40:space,46:left:2,46:a:2", &err), 0, "%s",
                 err.msg);
    for (uint64_t f = 0; f < 50; f++) {
        ll_platform_input a = at(&s, f), b = at(&k, f);
        cr_assert(!memcmp(a.keys, b.keys, sizeof a.keys), "keys differ at %llu",
                  (unsigned long long)f);
        cr_assert(!memcmp(a.pressed, b.pressed, sizeof a.pressed), "presses differ at %llu",
                  (unsigned long long)f);
    }
    ll_keys_free(&s), ll_keys_free(&k);
}

Test(loop_input, errors)
{
    ll_keys k = {0};
    ll_error err;
    cr_assert_eq(ll_keys_parse(&k, "x", &err), -1);
    cr_assert_str_eq(err.msg, "--keys 'x': expected FRAME:KEY or FRAME:KEY:FRAMES at 'x' (try: "
                              "--keys 10:alt+l,20:right:30,70:alt+l)");
    cr_assert_eq(ll_keys_parse(&k, "10:up:0", &err), -1);
    cr_assert(strstr(err.msg, "expected FRAME:KEY or FRAME:KEY:FRAMES at '10:up:0'"), "%s",
              err.msg);
    cr_assert_eq(ll_keys_parse(&k, "10:lq", &err), -1);
    cr_assert(strstr(err.msg, "--keys '10:lq': no key is named 'lq' (try: one character, or "
                              "space, enter, tab,"),
              "%s", err.msg);
    cr_assert_eq(ll_keys_parse(&k, "5:a,2:b", &err), -1);
    cr_assert_str_eq(err.msg, "--keys '5:a,2:b': frames must not go down (at 2)");
    ll_keys_free(&k);
    uint64_t frame = 0;
    cr_assert_eq(ll_keys_parse_line(&k, "right 30\n", &frame, &err), -1);
    cr_assert_str_eq(err.msg, "'right' is not a frame count from 1 (try: a line COUNT [KEY...], "
                              "e.g. 30 right)");
    cr_assert_eq(ll_keys_parse_line(&k, "3 sideways\n", &frame, &err), -1);
    cr_assert(strstr(err.msg, "'sideways' is not a key name (try: one character, or space"), "%s",
              err.msg);
    cr_assert_eq(ll_keys_parse_line(&k, "3 x alt+l\n", &frame, &err), -1);
    cr_assert(strstr(err.msg, "'alt+l' is a host key: a script feeds the application only"), "%s",
              err.msg);
    cr_assert_eq(k.count, 0, "a refused line added keys");
    cr_assert_eq(frame, 0);
    ll_keys_free(&k);
}
