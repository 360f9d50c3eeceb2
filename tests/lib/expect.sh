# expect.sh - sourced by the command tests: `expect STATUS TEXT CMD...` runs
# CMD and counts a failure in $fails unless it exits STATUS and prints TEXT
# on stdout or stderr. Needs $T, a scratch directory.
expect() {
    local want=$1 text=$2; shift 2
    "$@" >"$T/out" 2>"$T/err"
    local got=$?
    if [ "$got" != "$want" ] || ! grep -qF -- "$text" "$T/out" "$T/err"; then
        echo "FAIL: $* -> exit $got (want $want), wanted: $text"
        sed 's/^/  out: /' "$T/out" | head -5; sed 's/^/  err: /' "$T/err" | head -5
        fails=$((fails + 1))
    fi
}
