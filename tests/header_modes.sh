#!/usr/bin/env bash
# header_modes.sh - every public header compiles as C11 -pedantic, C23, C++17
# and C++20 with gcc/g++ and clang/clang++ (-Wall -Wextra -Werror), alone;
# and tests/compat/params.c, which calls every params macro with and without
# options, compiles and runs in each of those modes, and so do the
# complete examples atop looplive_app.h, looplive_host.h and looplive_addr.h.
set -euo pipefail
BUILD=${BUILD:-build}
WORK=$(mktemp -d /tmp/ll-header-modes-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
fail() {
    echo "header_modes: FAIL: $*" >&2
    exit 1
}
LIBS="$BUILD/liblooplive.a -lxxhash -lspng -ldl -lpthread -lm"
# The modes mix gcc and clang, whose sanitizer runtimes differ: with a
# sanitizer build of the library (make test-asan) nothing here could link.
. tests/lib/san.sh
if [ -n "$SAN_FLAGS" ]; then
    echo "header_modes: skipped in a sanitizer build (make test runs it)"
    exit 0
fi
# An application author reads one short header.
lines=$(wc -l <include/looplive_app.h)
[ "$lines" -lt 300 ] || fail "include/looplive_app.h has $lines lines, not under 300"
modes=("gcc -x c -std=c11 -pedantic" "clang -x c -std=c11 -pedantic" "gcc -x c -std=c2x"
    "clang -x c -std=c2x" "g++ -x c++ -std=c++17" "clang++ -x c++ -std=c++17"
    "g++ -x c++ -std=c++20" "clang++ -x c++ -std=c++20")
n=0
for mode in "${modes[@]}"; do
    for h in include/*.h; do
        printf '#include "%s"\nint main(void) { return 0; }\n' "$(basename "$h")" >"$WORK/one.c"
        # shellcheck disable=SC2086
        $mode -Wall -Wextra -Werror -Iinclude -c "$WORK/one.c" -o "$WORK/one.o" 2>"$WORK/log" ||
            fail "$h does not compile with $mode: $(head -3 "$WORK/log")"
    done
    # shellcheck disable=SC2086
    $mode -Wall -Wextra -Werror -Iinclude tests/compat/params.c -x none $LIBS -o "$WORK/params" \
        2>"$WORK/log" || fail "tests/compat/params.c does not compile with $mode: $(head -3 "$WORK/log")"
    out=$("$WORK/params") || fail "tests/compat/params.c built with $mode fails: $out"
    [ "$out" = ok ] || fail "tests/compat/params.c built with $mode printed '$out'"
    # The examples atop the headers: the application as a library, the
    # host's and the address-space analysis's as programs that run.
    for h in app host addr; do
        awk -v inc="#include <looplive_$h.h>" 'index($0, inc) { on = 1 }
            on && /^ \*     / { print substr($0, 8); next }
            on && /^ \*$/ { print ""; next }
            on { exit }' "include/looplive_$h.h" >"$WORK/ex_$h.c"
        grep -q "looplive_$h" "$WORK/ex_$h.c" || fail "no example atop include/looplive_$h.h"
        if [ "$h" = app ]; then
            # shellcheck disable=SC2086
            $mode -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers \
                -Iinclude -shared -fPIC "$WORK/ex_$h.c" -o "$WORK/ex_$h.so" 2>"$WORK/log" ||
                fail "the example atop looplive_$h.h does not build with $mode: $(head -3 "$WORK/log")"
        else
            # shellcheck disable=SC2086
            $mode -Wall -Wextra -Werror -Iinclude "$WORK/ex_$h.c" -x none $LIBS -o "$WORK/ex_$h" \
                2>"$WORK/log" ||
                fail "the example atop looplive_$h.h does not build with $mode: $(head -3 "$WORK/log")"
            "$WORK/ex_$h" >"$WORK/log" 2>&1 ||
                fail "the example atop looplive_$h.h built with $mode fails: $(head -3 "$WORK/log")"
        fi
    done
    n=$((n + 1))
done
echo "header_modes: ok ($n modes, $(ls include/*.h | wc -l) headers)"
