/* base.c - errors, sizes, page size. */
#include "base.h"

#include <ctype.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

int ll_fail(ll_error *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}

uint64_t ll_page_size_get(void)
{
    static uint64_t page;
    if (!page) page = (uint64_t)sysconf(_SC_PAGESIZE);
    return page;
}

uint64_t ll_now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static int suffix_shift(const char *s, unsigned *shift)
{
    static const struct {
        const char *name;
        unsigned shift;
    } units[] = {
        {"", 0},    {"b", 0},    {"k", 10}, {"kb", 10}, {"kib", 10}, {"m", 20},
        {"mb", 20}, {"mib", 20}, {"g", 30}, {"gb", 30}, {"gib", 30}, {"t", 40},
        {"tb", 40}, {"tib", 40}, {"p", 50}, {"pb", 50}, {"pib", 50},
    };
    for (size_t i = 0; i < LL_ARRAY_COUNT(units); i++) {
        if (strcasecmp(s, units[i].name) == 0) {
            *shift = units[i].shift;
            return 0;
        }
    }
    return -1;
}

int ll_size_parse(const char *text, uint64_t *out, ll_error *err)
{
    const char *p = text ? text : "";
    int hex = p[0] == '0' && (p[1] == 'x' || p[1] == 'X');
    if (hex) p += 2;
    uint64_t v = 0;
    int digits = 0;
    for (; hex ? isxdigit((unsigned char)*p) : isdigit((unsigned char)*p); p++, digits++) {
        unsigned d = isdigit((unsigned char)*p) ? (unsigned)(*p - '0')
                                                : (unsigned)(tolower((unsigned char)*p) - 'a' + 10);
        unsigned base = hex ? 16 : 10;
        if (v > (UINT64_MAX - d) / base)
            return ll_fail(err, ERANGE, "size '%s' is too large (the largest is 16 EiB - 1)", text);
        v = v * base + d;
    }
    if (!digits)
        return ll_fail(err, EINVAL, "size '%s' has no digits (try: 64M, 1G, 0x40000000)",
                       text ? text : "");
    unsigned shift;
    if (suffix_shift(p, &shift) != 0)
        return ll_fail(err, EINVAL, "size '%s' has an unknown suffix '%s' (use K, M, G, T or P)",
                       text, p);
    if (shift && v > (UINT64_MAX >> shift))
        return ll_fail(err, ERANGE, "size '%s' is too large (the largest is 16 EiB - 1)", text);
    *out = v << shift;
    return 0;
}

char *ll_size_format(uint64_t bytes, char *buf, size_t cap)
{
    static const char *names[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    unsigned u = 0;
    while (u + 1 < LL_ARRAY_COUNT(names) && bytes >= (1ull << (10 * (u + 1)))) u++;
    uint64_t whole = bytes >> (10 * u);
    uint64_t rest = bytes - (whole << (10 * u));
    if (rest == 0 || u == 0) {
        snprintf(buf, cap, "%llu %s", (unsigned long long)whole, names[u]);
    } else {
        double v = (double)bytes / (double)(1ull << (10 * u));
        snprintf(buf, cap, "%.*f %s", v < 10 ? 2 : 1, v, names[u]);
    }
    return buf;
}
