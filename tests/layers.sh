#!/bin/bash
# layers.sh - tools/check_layers.sh (run by `make lint`) passes on the tree
# and fails, naming the file and the rule, on a planted include of a layer
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

echo "layers: $fails failure(s)"
[ "$fails" = 0 ]
