/* input.c - key names and scripted key presses: the one description of
 * input that `looplive run --keys`, `looplive replay --script` and the docs
 * share, so that the same words give the same frames everywhere. */
#include "loop/loop.h"
#include "base/base.h"

#include <stdlib.h>
#include <string.h>

/* The names of the keys that are not one printable character, and of the
 * characters that the --keys and script syntaxes use themselves. */
static const struct {
    const char *name;
    int key;
} key_names[] = {
    {"space", ' '},
    {"enter", '\n'},
    {"tab", '\t'},
    {"backspace", '\b'},
    {"escape", LL_KEY_ESCAPE},
    {"esc", LL_KEY_ESCAPE},
    {"left", LL_KEY_LEFT},
    {"right", LL_KEY_RIGHT},
    {"up", LL_KEY_UP},
    {"down", LL_KEY_DOWN},
    {"home", LL_KEY_HOME},
    {"end", LL_KEY_END},
    {"pageup", LL_KEY_PAGE_UP},
    {"pagedown", LL_KEY_PAGE_DOWN},
    {"insert", LL_KEY_INSERT},
    {"delete", LL_KEY_DELETE},
    {"comma", ','},
    {"colon", ':'},
    {"hash", '#'},
};

static const struct {
    const char *name;
    int flag;
} key_modifiers[] = {{"alt+", LL_KEY_ALT}, {"ctrl+", LL_KEY_CTRL}, {"shift+", LL_KEY_SHIFT}};

/* Ctrl+letter is one key whatever the case (a terminal sends one byte). */
static int key_normal(int key)
{
    int k = key & 0xff;
    if ((key & LL_KEY_CTRL) && k >= 'A' && k <= 'Z') key += 'a' - 'A';
    return key;
}

int ll_key_parse(const char *name, size_t len)
{
    int alt = 0;
    for (size_t i = 0; i < LL_ARRAY_COUNT(key_modifiers); i++) {
        size_t n = strlen(key_modifiers[i].name);
        if (len > n && !strncmp(name, key_modifiers[i].name, n) && !(alt & key_modifiers[i].flag))
            alt |= key_modifiers[i].flag, name += n, len -= n, i = (size_t)-1;
    }
    if (len == 1 && (unsigned char)name[0] > 32 && (unsigned char)name[0] < 127)
        return key_normal(alt | (unsigned char)name[0]);
    for (size_t i = 0; i < LL_ARRAY_COUNT(key_names); i++)
        if (strlen(key_names[i].name) == len && !strncmp(name, key_names[i].name, len))
            return alt | key_names[i].key;
    /* f1 .. f12 */
    if ((len == 2 || len == 3) && name[0] == 'f' && name[1] >= '1' && name[1] <= '9') {
        int n = len == 2 ? name[1] - '0' : (name[1] - '0') * 10 + name[2] - '0';
        if (n >= 1 && n <= 12 && (len == 2 || (name[2] >= '0' && name[2] <= '9')))
            return alt | (LL_KEY_F1 + n - 1);
    }
    return -1;
}

const char *ll_key_format(int key, char *buf, size_t cap)
{
    char alt[32] = "";
    for (size_t i = 0; i < LL_ARRAY_COUNT(key_modifiers); i++)
        if (key & key_modifiers[i].flag) strcat(alt, key_modifiers[i].name);
    int k = key & 0xff;
    const char *name = NULL;
    for (size_t i = 0; i < LL_ARRAY_COUNT(key_names) && !name; i++)
        if (key_names[i].key == k) name = key_names[i].name;
    if (name)
        snprintf(buf, cap, "%s%s", alt, name);
    else if (k >= LL_KEY_F1 && k <= LL_KEY_F12)
        snprintf(buf, cap, "%sf%d", alt, k - LL_KEY_F1 + 1);
    else if (k > 32 && k < 127)
        snprintf(buf, cap, "%s%c", alt, k);
    else
        snprintf(buf, cap, "%s0x%02x", alt, k);
    return buf;
}

static int keys_add(ll_keys *keys, uint64_t frame, uint64_t hold, int key, ll_error *err)
{
    if (keys->count == keys->cap) {
        size_t cap = keys->cap ? keys->cap * 2 : 16;
        ll_key_event *e = realloc(keys->events, cap * sizeof *e);
        if (!e) return loop_fail(err, ENOMEM, "out of memory for %zu key presses", cap);
        keys->events = e, keys->cap = cap;
    }
    keys->events[keys->count++] = (ll_key_event){.frame = frame, .hold = hold, .key = key};
    return 0;
}

/* A decimal number of at most 18 digits that fills [s, end). */
static int parse_count(const char *s, const char *end, uint64_t *out)
{
    if (s == end || end - s > 18) return -1;
    uint64_t v = 0;
    for (; s < end; s++) {
        if (*s < '0' || *s > '9') return -1;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return 0;
}

/* One --keys item, FRAME:KEY or FRAME:KEY:N, in [s, end). */
static int keys_item(ll_keys *keys, const char *text, const char *s, const char *end, ll_error *err)
{
    const char *colon = memchr(s, ':', (size_t)(end - s));
    const char *second = colon ? memchr(colon + 1, ':', (size_t)(end - colon - 1)) : NULL;
    const char *key_end = second ? second : end;
    uint64_t frame = 0, hold = 1;
    if (!colon || parse_count(s, colon, &frame) != 0 ||
        (second && (parse_count(second + 1, end, &hold) != 0 || !hold)))
        return loop_fail(err, EINVAL,
                         "--keys '%s': expected FRAME:KEY or FRAME:KEY:FRAMES at '%.*s' (try: "
                         "--keys 10:alt+l,20:right:30,70:alt+l)",
                         text, (int)(end - s), s);
    int key = ll_key_parse(colon + 1, (size_t)(key_end - colon - 1));
    if (key < 0)
        return loop_fail(err, EINVAL,
                         "--keys '%s': no key is named '%.*s' (try: one character, or space, "
                         "enter, tab, backspace, escape, left, right, up, down, home, end, "
                         "pageup, pagedown, insert, delete, f1-f12, comma, colon, hash; "
                         "ctrl+KEY, shift+KEY; alt+KEY for the host's keys)",
                         text, (int)(key_end - colon - 1), colon + 1);
    if (keys->count && frame < keys->events[keys->count - 1].frame)
        return loop_fail(err, EINVAL, "--keys '%s': frames must not go down (at %llu)", text,
                         (unsigned long long)frame);
    return keys_add(keys, frame, hold, key, err);
}

int ll_keys_parse(ll_keys *keys, const char *text, ll_error *err)
{
    for (const char *s = text; *s;) {
        const char *end = s + strcspn(s, ",");
        if (keys_item(keys, text, s, end, err) != 0) return -1;
        s = *end ? end + 1 : end;
    }
    return 0;
}

int ll_keys_parse_line(ll_keys *keys, const char *line, uint64_t *frame, ll_error *err)
{
    const char *s = line, *stop = line + strcspn(line, "#\r\n");
    uint64_t count = 0;
    int first = 1;
    size_t added = keys->count;
    while (s < stop) {
        s += strspn(s, " \t");
        if (s >= stop) break;
        const char *end = s + strcspn(s, " \t#\r\n");
        if (end > stop) end = stop;
        if (first) {
            if (parse_count(s, end, &count) != 0 || !count)
                return loop_fail(err, EINVAL,
                                 "'%.*s' is not a frame count from 1 (try: a line COUNT [KEY...], "
                                 "e.g. 30 right)",
                                 (int)(end - s), s);
            first = 0;
        } else {
            int key = ll_key_parse(s, (size_t)(end - s));
            if (key < 0 || (key & LL_KEY_ALT)) {
                keys->count = added;
                return loop_fail(err, EINVAL,
                                 "'%.*s' %s (try: one character, or space, enter, tab, "
                                 "backspace, escape, left, right, up, down, home, end, pageup, "
                                 "pagedown, insert, delete, f1-f12, comma, colon, hash; "
                                 "ctrl+KEY, shift+KEY)",
                                 (int)(end - s), s,
                                 key < 0 ? "is not a key name"
                                         : "is a host key: a script feeds the application only");
            }
            if (keys_add(keys, *frame, count, key, err) != 0) return -1;
        }
        s = end;
    }
    *frame += count;
    return 0;
}

int ll_key_index_get(int key)
{
    int k = key & 0xff;
    if (key & LL_KEY_ALT) return -1;
    if ((key & LL_KEY_CTRL) && ((k >= 'a' && k <= 'z') || (k >= 'A' && k <= 'Z'))) return k & 0x1f;
    return k;
}

void ll_keys_input_get(const ll_keys *keys, uint64_t frame, ll_platform_input *in)
{
    memset(in->keys, 0, sizeof in->keys);
    memset(in->pressed, 0, sizeof in->pressed);
    in->typed_count = 0;
    for (size_t i = 0; i < keys->count && keys->events[i].frame <= frame; i++) {
        const ll_key_event *e = &keys->events[i];
        int index = ll_key_index_get(e->key);
        if (index < 0 || frame - e->frame >= e->hold) continue;
        in->keys[index] = 1;
        if (e->frame != frame) continue;
        in->pressed[index] = 1;
        if (in->typed_count < LL_ARRAY_COUNT(in->typed))
            in->typed[in->typed_count++] = (uint16_t)e->key;
    }
}

void ll_keys_free(ll_keys *keys)
{
    free(keys->events);
    *keys = (ll_keys){0};
}
