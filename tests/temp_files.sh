#!/usr/bin/env bash
# temp_files.sh - what looplive puts in the temporary directory is gone
# afterwards: the module's folders of copies (also those of a child that
# died from a signal in test_module_protect) and the build log of
# `looplive run --watch --build` (which never has a name there).
set -u
BUILD=${BUILD:-build}
fails=0
fail() { echo "temp_files: FAIL: $*"; fails=$((fails + 1)); }

LOG=$(mktemp /tmp/ll-temp-files-XXXXXX.log)
TMPDIR=$(mktemp -d /tmp/ll-temp-files-XXXXXX)
export TMPDIR
trap 'rm -rf "$TMPDIR" "$LOG"' EXIT
left() { ls -A "$TMPDIR" | grep -v '^src$' | grep -v '^criterion'; }

"$BUILD/tests/test_module_protect" --jobs 2 >"$LOG" 2>&1 || fail "test_module_protect failed: $(tail -3 "$LOG")"
[ -z "$(left)" ] || fail "test_module_protect left: $(left | tr '\n' ' ')"

mkdir "$TMPDIR/src"
"$BUILD/looplive" run "$BUILD/tests/host_app.so" --headless --frames 30 --watch "$TMPDIR/src" \
    --build "echo building" >/dev/null 2>&1 || fail "run --watch --build failed"
[ -z "$(left)" ] || fail "run --watch --build left: $(left | tr '\n' ' ')"

echo "temp_files: $fails failed"
[ $fails = 0 ]
