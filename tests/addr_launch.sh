#!/usr/bin/env bash
# addr_launch.sh - the "Done when" test: the block `looplive addr --exec`
# recommends can be reserved with MAP_FIXED_NOREPLACE in 200 fresh launches
# of a PIE and of a non-PIE program, in the default layout, with
# `ulimit -s unlimited`, in the legacy layout (setarch -L) and without ASLR.
set -u
BUILD=${BUILD:-build}
L="$BUILD/looplive"
fails=0
for kind in pie nopie; do
    prog="$BUILD/tests/addr_reserve_$kind"
    flags=$("$L" addr --exec "$prog" --samples 5 --size 4G --format make) || {
        echo "FAIL: looplive addr --exec $prog"; fails=$((fails + 1)); continue; }
    base=$(sed -n 's/.*-DLOOPLIVE_BASE=\(0x[0-9a-f]*\)ULL.*/\1/p' <<<"$flags")
    size=$(sed -n 's/.*-DLOOPLIVE_SIZE=\([0-9]*\)ULL.*/\1/p' <<<"$flags")
    for layout in default unlimited legacy norandom; do
        case $layout in
        default) n=200; pre=() ;;
        unlimited) n=200; pre=() ;;
        legacy) n=100; pre=(setarch -L) ;;
        norandom) n=20; pre=(setarch -R) ;;
        esac
        ok=$(
            [ $layout = unlimited ] && ulimit -s unlimited
            ok=0
            for ((i = 0; i < n; i++)); do
                "${pre[@]}" "$prog" "$base" "$size" && ok=$((ok + 1))
            done
            echo $ok
        )
        if [ "$ok" != "$n" ]; then
            echo "FAIL: $kind $layout: $ok of $n launches reserved $base + $size"
            fails=$((fails + 1))
        else
            echo "ok: $kind $layout: $n of $n launches reserved $base + $size"
        fi
    done
done
echo "addr_launch: $fails failure(s)"
[ $fails = 0 ]
