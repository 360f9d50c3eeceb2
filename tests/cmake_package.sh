#!/bin/bash
# cmake_package.sh - `make install` into a temporary prefix gives a CMake
# package: examples/cmake finds it with find_package(looplive), builds its
# application (a shared library) and its host against looplive::headers and
# looplive::looplive, and the host runs the application headless.
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Under make test-asan the installed library needs the sanitizer runtime
# that only gcc's own link brings; packaging is what this checks, and the
# plain make test does.
. tests/lib/san.sh
if [ -n "$SAN_FLAGS" ]; then
    echo "cmake_package: skipped in a sanitizer build (make test runs it)"
    exit 0
fi
command -v cmake >/dev/null || { echo "FAIL: cmake is missing (run: make deps-test)"; exit 1; }
if ! make --no-print-directory -s install BUILD="$BUILD" PREFIX="$tmp/prefix" >"$tmp/install.log" 2>&1; then
    fail "make install: $(tail -5 "$tmp/install.log")"
fi
for f in looplive-config.cmake looplive-config-version.cmake; do
    [ -f "$tmp/prefix/lib/cmake/looplive/$f" ] || fail "lib/cmake/looplive/$f is not installed"
done

# The prefix moves: the package finds itself from where it lies.
mv "$tmp/prefix" "$tmp/moved"
if ! cmake -S examples/cmake -B "$tmp/b" -DCMAKE_PREFIX_PATH="$tmp/moved" \
    -DCMAKE_C_FLAGS="-Wall -Wextra -Werror" >"$tmp/cmake.log" 2>&1; then
    fail "cmake configure: $(tail -5 "$tmp/cmake.log")"
elif ! cmake --build "$tmp/b" >"$tmp/build.log" 2>&1; then
    fail "cmake build: $(tail -10 "$tmp/build.log")"
else
    [ -f "$tmp/b/game.so" ] || fail "the application game.so was not built"
    out=$(cd "$tmp/b" && ./mygame-host ./game.so --headless 30 2>&1)
    [ "$out" = "frames 30" ] || fail "the host ran: '$out', not 'frames 30'"
fi

# A version the package cannot answer is refused.
mkdir -p "$tmp/v"
cat >"$tmp/v/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.16)
project(v C)
find_package(looplive 1.0 REQUIRED)
CM
if cmake -S "$tmp/v" -B "$tmp/vb" -DCMAKE_PREFIX_PATH="$tmp/moved" >"$tmp/v.log" 2>&1; then
    fail "find_package(looplive 1.0) accepted version 0.1"
fi

echo "cmake_package: $fails failure(s)"
[ "$fails" = 0 ]
