#!/bin/bash
# lib_quiet.sh - the library never prints: the objects of the layers below
# the host (whose terminal output is its job) call no printing function of
# the C library and, but for the fault layer's stdio lock probe, touch
# neither stdout nor stderr; what they have to say goes into an ll_error or
# through a callback the caller set (the arena full hook, the fault hooks).
# Output to a stream or file the caller passes (ll_block_describe, a
# snapshot file) is not printing and is allowed.
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

lower="base maps advise memory snapshot module loop"
objs=()
for l in $lower; do
    for c in src/$l/*.c; do
        o=$BUILD/obj/${c%.c}.o
        [ -f "$o" ] || { fail "$o is missing (run: make all)"; continue; }
        objs+=("$o")
    done
done
printing='printf|fprintf|vprintf|vfprintf|dprintf|vdprintf|puts|putchar|perror|psignal|psiginfo|err|errx|warn|warnx|verr|vwarn|error|error_at_line'
for o in "${objs[@]}"; do
    bad=$(nm "$o" | sed -n 's/^ *U \(__\)\{0,1\}\([a-z_]*\)\(_chk\)\{0,1\}$/\2/p' | grep -xE "$printing")
    [ -n "$bad" ] && fail "$o calls $(echo $bad)"
    if [ "$o" != "$BUILD/obj/src/base/fault.o" ] && nm "$o" | grep -qE ' U (stdout|stderr)$'; then
        fail "$o uses stdout or stderr"
    fi
done
# write(2) to the terminal: only the fault handler's last line (see fault.c).
hits=$(grep -nE 'write\((2|STDERR_FILENO|STDOUT_FILENO|1),' $(for l in $lower; do echo src/$l/*.c; done) |
    grep -v '^src/base/fault.c:')
[ -n "$hits" ] && fail "writes to the terminal: $hits"

echo "lib_quiet: ${#objs[@]} objects, $fails failure(s)"
[ "$fails" = 0 ]
