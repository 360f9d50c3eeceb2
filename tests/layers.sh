#!/bin/bash
# layers.sh - tools/check_layers.sh and tools/check_header_prose.sh (run by
# `make lint`) pass on the tree; check_layers.sh fails, naming the file and the rule, on a planted include of a layer
# to the right and on one of another layer's internal header.
cd "$(dirname "$0")/.." || exit 1
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

tools/check_layers.sh src 2>"$tmp/err" || fail "the tree breaks the layering: $(cat "$tmp/err")"

plant() { # layer file, include, expected words
    rm -rf "$tmp/src" && cp -r src "$tmp/src"
    echo "#include \"$2\"" >>"$tmp/src/$1"
    if tools/check_layers.sh "$tmp/src" 2>"$tmp/err"; then
        fail "$1 including $2 passed the check"
    elif ! grep -q "$tmp/src/$1:[0-9]*: layer check failed: .*$3" "$tmp/err"; then
        fail "$1 including $2: no '$3' in: $(cat "$tmp/err")"
    fi
}
plant memory/arena.c host/host.h "a layer to its right"
plant memory/memory.h snapshot/snapshot.h "a layer to its right"
plant cli/addr.c advise/advise.h "an internal header of advise"
plant snapshot/snap.c maps/maps.h "an internal header of maps"

# The public headers carry no time measured on one machine.
tools/check_header_prose.sh 2>"$tmp/err" || fail "a measured time in a header: $(cat "$tmp/err")"
printf '/* it costs about 30 ns per resident\n * page on a 2-core VM */\n' >"$tmp/h.h"
if tools/check_header_prose.sh "$tmp/h.h" 2>"$tmp/err"; then
    fail "a header saying 30 ns passed the prose check"
elif ! grep -q "h.h:1: header check failed: a time measured on one machine" "$tmp/err"; then
    fail "the prose check: no line 1 in: $(cat "$tmp/err")"
fi

echo "layers: $fails failure(s)"
[ "$fails" = 0 ]
