#!/bin/bash
# compat_feature_macros.sh - looplive_compat.h force-included into a file
# that asks for more of the C library with a feature macro at its top
# (#define _GNU_SOURCE, _POSIX_C_SOURCE with -std=c11), as classic C
# programs do: the header includes no system header before the file's own
# lines, so the file sees what it asked for (asprintf, fileno) and its
# malloc is still the block's.
set -u
CC=${CC:-cc}
WORK=$(mktemp -d /tmp/ll-compat-fm-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
fail() {
    echo "compat_feature_macros: FAIL: $*" >&2
    exit 1
}
cat >"$WORK/gnu.c" <<'C'
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int title(char **out) { return asprintf(out, "%s", "breakout"); }
void *cells(size_t n) { return malloc(n); }
C
cat >"$WORK/posix.c" <<'C'
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <time.h>
#include <looplive_app.h>
int fd_of(FILE *f) { return fileno(f); }
long now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return (long)t.tv_sec; }
ll_block *here(void) { return ll_app_block_get(); }
C
for std in gnu11 c11 c2x; do
    for f in gnu posix; do
        $CC -std=$std -Wall -Wextra -Werror -fPIC -Iinclude -include looplive_compat.h \
            -c "$WORK/$f.c" -o "$WORK/$f.o" 2>"$WORK/err" ||
            fail "$f.c with -std=$std: $(head -3 "$WORK/err")"
    done
done
nm "$WORK/gnu.o" | grep -q ' U ll_compat_malloc$' || fail "gnu.c's malloc is not the block's"
nm "$WORK/posix.o" | grep -q ' U ll_compat_clock_gettime$' ||
    fail "posix.c's clock_gettime is not the block's"
echo "compat_feature_macros: ok"
