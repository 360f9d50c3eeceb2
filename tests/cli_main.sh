#!/usr/bin/env bash
# cli_main.sh - `looplive` itself: the command list, --help, --version and a
# command it does not know (exit 2, the message says what to try).
set -u
BUILD=${BUILD:-build}
L="$BUILD/looplive"
fails=0
fail() { echo "cli_main: FAIL: $*"; fails=$((fails + 1)); }

# expect STATUS STREAM TEXT ARGS...: STREAM is out or err.
expect() {
    local want=$1 stream=$2 text=$3
    shift 3
    local out err got
    out=$("$L" "$@" 2>/tmp/cli_main_err.$$)
    got=$?
    err=$(cat /tmp/cli_main_err.$$)
    rm -f /tmp/cli_main_err.$$
    [ "$got" = "$want" ] || fail "looplive $*: exit $got, want $want: $err"
    local where=$out
    [ "$stream" = err ] && where=$err
    case "$where" in *"$text"*) ;; *) fail "looplive $*: no '$text' on std$stream: $where" ;; esac
}

expect 2 err "usage: looplive COMMAND [OPTIONS]"
for c in addr run replay; do
    expect 2 err "  $c " # the list names every command
    expect 0 out "usage: looplive $c" "$c" --help
done
expect 0 out "'looplive COMMAND --help' describes a command" --help
expect 0 out "usage: looplive COMMAND" -h
expect 0 out "usage: looplive COMMAND" help
expect 0 out "looplive 0." --version
expect 0 out "looplive 0." -V
expect 2 err "looplive: unknown command 'frobnicate' (try: looplive --help)" frobnicate

echo "cli_main: $fails failure(s)"
[ $fails = 0 ]
