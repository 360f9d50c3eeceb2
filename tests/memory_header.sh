#!/bin/bash
# memory_header.sh - a program built on its own against the header from
# `looplive addr --format c` reserves its block at LOOPLIVE_BASE, on every
# run, and says what is in the way when something is.
set -u
BUILD=${BUILD:-build}
dir=$BUILD/tests/memory
prog=$dir/reserve_from_header
header=$dir/looplive_base.h
fail() { echo "memory_header.sh: $*" >&2; exit 1; }

if [ ! -x "$prog" ]; then
    [ -f "$dir/addr.err" ] && fail "looplive addr could not write the header: $(cat "$dir/addr.err")"
    fail "$prog is missing (run: make build-tests)"
fi
base=$(sed -n 's/^#define LOOPLIVE_BASE \(0x[0-9a-fA-F]*\).*/\1/p' "$header")
size=$(sed -n 's/^#define LOOPLIVE_SIZE \([0-9xa-fA-F]*\).*/\1/p' "$header")
[ -n "$base" ] && [ -n "$size" ] || fail "no LOOPLIVE_BASE/LOOPLIVE_SIZE in $header"
base=$(printf '0x%x' "$base")
size=$((size))

for run in 1 2 3; do
    out=$("$prog") || fail "run $run failed: $out"
    first=$(echo "$out" | head -n 1)
    case "$first" in
    "reserved $size bytes at $base, counter 42 at "*) ;;
    *) fail "run $run: expected 'reserved $size bytes at $base, counter 42 ...', got: $first" ;;
    esac
    echo "$out" | grep -q "^  permanent  *0x" || fail "run $run: no permanent arena in: $out"
done

err=$("$prog" --collide 2>&1) && fail "reserving over a mapping succeeded"
want="is in the way (try: looplive addr --size 256M)"
case "$err" in
"looplive: cannot reserve 256 MiB at $base: 0x"*" r--p $want") ;;
*) fail "collision message: $err" ;;
esac
echo "memory_header.sh: block reserved at $base from the generated header, 3 runs; collision named"
