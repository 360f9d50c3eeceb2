#!/bin/bash
# check_layers.sh - the layering rule, run by `make lint`.
# The layers, left to right: base maps advise memory snapshot module loop
# host cli. A file under src/<layer>/ may include the public headers
# (include/), its own layer's headers and base's; a header of a layer to
# its right breaks the order, and one of another layer to its left is that
# layer's internal header (what it offers others is in include/).
# Usage: tools/check_layers.sh [SRC_DIR]   (default: src)
src=${1:-src}
order=(base maps advise memory snapshot module loop host cli)
rank() {
    local i
    for i in "${!order[@]}"; do [ "${order[$i]}" = "$1" ] && { echo "$i"; return; }; done
    echo -1
}
bad=0
for f in "$src"/*/*.[ch]; do
    layer=$(basename "$(dirname "$f")")
    me=$(rank "$layer")
    if [ "$me" = -1 ]; then
        echo "$f: layer check failed: src/$layer is not a layer (try: add it to tools/check_layers.sh)" >&2
        bad=1
        continue
    fi
    while IFS=: read -r line inc; do
        other=${inc%%/*}
        [ "$other" = "$inc" ] && continue # same folder or include/
        [ "$other" = "$layer" ] || [ "$other" = base ] && continue
        them=$(rank "$other")
        if [ "$them" = -1 ]; then
            continue # not a layer: a system or public header path
        elif [ "$them" -gt "$me" ]; then
            echo "$f:$line: layer check failed: $layer includes $inc of $other, a layer to its right (try: move the code or pass a callback)" >&2
        else
            echo "$f:$line: layer check failed: $layer includes $inc, an internal header of $other (try: make what it needs public in include/)" >&2
        fi
        bad=1
    done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" | sed 's/^\([0-9]*\):[^"]*"\([^"]*\)".*/\1:\2/')
done
exit $bad
