#!/usr/bin/env bash
# text_snake.sh - examples/snake, a terminal game written for ncurses, as a
# user brings it under looplive: the game builds as it was written (with
# ncurses), its glue stays within 50 lines (the count the README gives),
# and with looplive_compat.h and the glue it runs headless and in a real
# terminal (tmux: colours, bold, line drawing, a loop recorded, an edit
# reloaded into it, quit with its message), records from a script, and
# passes replay --check and --determinism. And Ctrl keys typed in a
# terminal reach an application (tests/text_app.c).
set -euo pipefail
BUILD=${BUILD:-build}
ROOT=$(pwd)
LL=$ROOT/$BUILD/looplive
SNAKE=$ROOT/$BUILD/examples/snake.so
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
WORK=$(mktemp -d /tmp/ll-text-snake-XXXXXX)
SOCK=ll-text-snake-$$
FIRST=$SOCK
cleanup() {
    for sock in "$FIRST" "$FIRST-ctrl"; do tmux -L "$sock" kill-server 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
fail() {
    echo "text_snake: FAIL: $*" >&2
    exit 1
}

# --- the game as it was written: an ncurses program of its own ---
cc -Wall -Wextra -Werror -o "$WORK/snake" examples/snake/main.c examples/snake/snake.c \
    examples/snake/board.c examples/snake/screen.c -lncurses ||
    fail "the game does not build with ncurses as it was written"
grep -q 'looplive\|ll_' examples/snake/*.c examples/snake/*.h &&
    fail "the game's own files mention looplive: they should be the game as written"

# --- the glue: at most 50 lines, and the README says how many ---
glue=$(cat examples/snake/looplive/* | wc -l)
[ "$glue" -le 50 ] || fail "the glue has $glue lines, more than 50"
grep -q "glue is $glue lines" README.md || fail "README does not give the glue's $glue lines"

# --- headless: runs, draws, quits with its message ---
out=$("$LL" run "$SNAKE" --headless --frames 300 --keys 20:down,40:left,100:q \
    --screenshot-at 90 "$WORK/shot.txt")
grep -q '^snake: score 0, best 0$' <<<"$out" || fail "no quit message: $out"
grep -q '^frames 101,' <<<"$out" || fail "the run did not end at the quit key: $out"
grep -q '┌────' "$WORK/shot.txt" || fail "no line-drawing border: $(cat "$WORK/shot.txt")"
grep -q 'SNAKE  score 0' "$WORK/shot.txt" || fail "no status line: $(cat "$WORK/shot.txt")"
grep -q '@ooo' "$WORK/shot.txt" || fail "no worm heading left: $(cat "$WORK/shot.txt")"

# Its minimum canvas, refused below it.
if err=$("$LL" run "$SNAKE" --headless --frames 5 --canvas 30x10 2>&1); then
    fail "a 30x10 canvas was accepted"
fi
grep -q 'needs a canvas of at least 42x20 cells, this one is 30x10 (try: --canvas 42x20)' <<<"$err" ||
    fail "wrong refusal: $err"

# The game keeps its state in globals: a replay in another process and a
# reload need them kept with the block (LL_NOT_STATE marks the library
# that does). Without that, what needs them is skipped, and says so.
if ! grep -q LL_NOT_STATE include/looplive_app.h; then
    echo "text_snake: SKIPPED the replays, the reload and the loop: this library does not keep an application's globals as state"
    GLOBALS=0
else
    GLOBALS=1
fi

# --- a recording from a script: --check and --determinism ---
if [ "$GLOBALS" = 1 ]; then
printf '10\n1 s\n40\n1 a\n30\n1 w\n20\n1 p\n10\n1 p\n60\n' >"$WORK/play.script"
"$LL" replay --module "$SNAKE" --script "$WORK/play.script" --output "$WORK/play.llrec" -q ||
    fail "no recording from the script"
"$LL" replay --module "$SNAKE" --recording "$WORK/play.llrec" --hashes "$WORK/play.hashes" ||
    fail "no hashes"
out=$("$LL" replay --module "$SNAKE" --recording "$WORK/play.llrec" --check "$WORK/play.hashes") ||
    fail "replay --check: $out"
grep -q 'frames match' <<<"$out" || fail "replay --check said: $out"
out=$("$LL" replay --module "$SNAKE" --recording "$WORK/play.llrec" --determinism 2>&1) ||
    fail "replay --determinism: $out"
# A script that quits ends where the game asked.
printf '10\n1 q\n50\n' >"$WORK/quit.script"
err=$("$LL" replay --module "$SNAKE" --script "$WORK/quit.script" --output "$WORK/quit.llrec" 2>&1 >/dev/null)
grep -q 'the application quit: snake: score 0, best 0' <<<"$err" || fail "replay did not quit: $err"
fi

# --- a real terminal: colours, a loop, an edit reloaded into it, quit ---
command -v tmux >/dev/null || fail "tmux is missing (make test installs it)"
mkdir -p "$WORK/src"
cp -r examples/snake/. "$WORK/src/"
FLAGS=$(make -s --no-print-directory -f - print-cflags BUILD="$BUILD" <<'MAKE'
include Makefile
print-cflags:
	@echo $(ALL_CFLAGS) $(LL_PATCHABLE) $(LDFLAGS)
MAKE
)
cat >"$WORK/build.sh" <<EOF
cd $WORK/src && cc $FLAGS -I$ROOT/include -Ilooplive -include looplive_compat.h -shared \
  -o $WORK/snake.so.tmp snake.c board.c screen.c looplive/glue.c && mv $WORK/snake.so.tmp $WORK/snake.so
EOF
sh "$WORK/build.sh" || fail "the copy does not build"
pane() { tmux -L "$SOCK" capture-pane -p -t t; }
. tests/lib/tmux.sh
tmux -L "$SOCK" new-session -d -s t -x 100 -y 30 \
    "$LL run $WORK/snake.so --watch $WORK/src --build 'sh $WORK/build.sh'; echo EXIT=\$?; sleep 30"
wait_for ' fps \| frame [0-9]+ \| LIVE 1 ' 10 || fail "no status line"
wait_for 'SNAKE  score 0' 5 || fail "no game on the screen"
esc=$(tmux -L "$SOCK" capture-pane -p -e -t t)
grep -q $'\e\\[1m\e\\[30m\e\\[43m SNAKE' <<<"$esc" || fail "no bold black on yellow title: $(head -2 <<<"$esc" | cat -v)"
grep -q $'\e\\[36m\e\\[40m┌' <<<"$esc" || fail "no cyan border on black: $(sed -n 3p <<<"$esc" | cat -v)"
if [ "$GLOBALS" = 1 ]; then
tmux -L "$SOCK" send-keys -t t M-l
wait_for '\| REC 1 [0-9]+ ' 5 || fail "alt+l did not start recording"
tmux -L "$SOCK" send-keys -t t Down
sleep 1
tmux -L "$SOCK" send-keys -t t M-l
wait_for '\| LOOP 1 [0-9]+/[0-9]+ ' 5 || fail "alt+l again did not start the loop"
sed -i "s/(s == head ? '@' : 'o')/(s == head ? '@' : '#')/" "$WORK/src/screen.c"
grep -q "'#')" "$WORK/src/screen.c" || fail "could not edit the worm's body"
wait_for '\| reloads 1( |$)' 30 || fail "no reload after the edit"
wait_for '\| LOOP 1 [0-9]+/[0-9]+ ' 2 || fail "the loop stopped at the reload"
wait_for '@###|#@|###' 3 || fail "the loop does not draw the edited worm"
tmux -L "$SOCK" send-keys -t t M-l
wait_for '\| LIVE 1 ' 5 || fail "alt+l did not stop the loop"
fi
tmux -L "$SOCK" send-keys -t t q
wait_for 'EXIT=0' 5 || fail "q did not end the run"
pane | grep -q '^snake: score [0-9]*, best [0-9]*$' || fail "no quit message after the terminal came back"
tmux -L "$SOCK" kill-server 2>/dev/null || true
SOCK=$FIRST-ctrl

# --- Ctrl keys reach an application in a terminal (they were dropped) ---
tmux -L "$SOCK" new-session -d -s t -x 80 -y 24 \
    "$LL run $ROOT/$BUILD/tests/text_app.so; echo EXIT=\$?; sleep 30"
wait_for 'keys 0' 10 || fail "text_app did not start"
tmux -L "$SOCK" send-keys -t t C-a x C-e
wait_for 'keys 3' 5 || fail "ctrl+a, x, ctrl+e did not make 3 typed keys"
tmux -L "$SOCK" send-keys -t t q
wait_for 'EXIT=0' 5 || fail "q did not end text_app's run"
pane | grep -q '^bye after 4 keys$' || fail "no quit message from text_app"
echo "text_snake: ok (glue $glue lines)"
