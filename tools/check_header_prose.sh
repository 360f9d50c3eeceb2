#!/bin/bash
# check_header_prose.sh - run by `make lint`: the public headers state costs
# as a cost model ("in proportion to the written pages"), never as a time
# measured on one machine ("30 ns per page on a 2-core VM"), which goes
# stale; measured figures live in docs/PERFORMANCE.md and `make bench`.
# Usage: tools/check_header_prose.sh [HEADER...]   (default: include/*.h)
[ $# -gt 0 ] || set -- include/*.h
hits=$(grep -nHE '[0-9][0-9.,]* ?(ns|us|µs|ms|s)( |\b|$)|[0-9]-core|\bVM\b|[0-9] ?[MG]iB/s' "$@" |
    grep -vE '^[^:]*:[0-9]*:\s*#\s*define')
if [ -n "$hits" ]; then
    echo "$hits" | sed -E 's/^([^:]*:[0-9]*):[[:space:]]*(.*)$/\1: header check failed: a time measured on one machine in "\2" (try: state the cost model and point to docs\/PERFORMANCE.md)/' >&2
    exit 1
fi
