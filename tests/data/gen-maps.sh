#!/bin/bash
# gen-maps.sh - regenerates the sample address spaces in tests/data/maps/:
# for each process below, its /proc/PID/maps (the .maps file) and the
# `pmap -x` listing of the same process at the same moment (the .pmap file,
# the oracle for mapping counts and total size). Paths are neutralised: the
# scratch folder the samples run in becomes /srv/game, and the script stops
# if any path under a home, /root, /tmp or /work is left.
#
#   bash tests/data/gen-maps.sh            (from the repository root)
#
# Processes: pie-threads, nopie-threads and static are tests/data/sample.c
# built three ways (the static one needs libc6-dev's libc.a), each with 6
# threads; bash and python3 are the system's
# interpreters. The tests read addresses from the files themselves, so new
# samples need no change to them (tests/data/maps/README.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v pmap >/dev/null || { echo "gen-maps: pmap is missing (try: apt-get install procps)" >&2; exit 1; }
out=tests/data/maps
CC=${CC:-cc}
PYTHON=/usr/bin/python3
[ -x "$PYTHON" ] || PYTHON=$(command -v python3)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
game=$tmp/game
mkdir -p "$game"
neutral=/srv/game

$CC -std=gnu11 -O2 -pthread -fPIE -pie -o "$game/many_pie" tests/data/sample.c
$CC -std=gnu11 -O2 -pthread -fno-pie -no-pie -o "$game/many_nopie" tests/data/sample.c
$CC -std=gnu11 -O2 -pthread -fno-pie -static -o "$game/many_static" tests/data/sample.c

# sample NAME CMD...: starts CMD in $game with its stdin held open, waits for
# it to print "ready", captures maps and pmap until two reads of maps agree
# around the pmap, then closes its stdin.
sample() {
    local name=$1; shift
    rm -f "$tmp/in" && mkfifo "$tmp/in"
    (cd "$game" && exec "$@" <"$tmp/in" >"$tmp/ready") &
    local pid=$!
    exec 3>"$tmp/in"
    for _ in $(seq 100); do grep -q ready "$tmp/ready" && break; sleep 0.05; done
    grep -q ready "$tmp/ready" || { echo "gen-maps: $name did not start" >&2; exit 1; }
    for _ in 1 2 3 4 5; do
        cat "/proc/$pid/maps" >"$tmp/a"
        pmap -x "$pid" >"$tmp/p"
        cat "/proc/$pid/maps" >"$tmp/b"
        cmp -s "$tmp/a" "$tmp/b" && break
    done
    exec 3>&-
    wait "$pid" || true
    sed "s|$game|$neutral|g" "$tmp/a" >"$out/$name.maps"
    sed "1s|^[0-9]*:.*|$pid:   $name|; s|$game|$neutral|g" "$tmp/p" >"$out/$name.pmap"
}

sample pie-threads "$game/many_pie" 6
sample nopie-threads "$game/many_nopie" 6
sample static "$game/many_static" 6
sample bash bash --norc --noprofile -c 'echo ready; read -r _'
sample python3 "$PYTHON" -I -c 'import ctypes, decimal, hashlib, json, select, socket, sqlite3, ssl, sys, zlib; print("ready", flush=True); sys.stdin.read()'

if grep -nE '(/home/|/root|/tmp/|/work/|/Users/)' "$out"/*.maps "$out"/*.pmap; then
    echo "gen-maps: a machine-specific path is left in the samples above" >&2
    exit 1
fi
echo "gen-maps: wrote $(ls "$out"/*.maps "$out"/*.pmap | wc -l) files to $out"
