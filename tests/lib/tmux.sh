# tmux.sh - sourced by the terminal tests: waiting on what a tmux pane shows.
# The caller defines pane() (capture-pane of its own server and window).

# Waits up to $2 seconds (default 10) for the pane to match the regex $1.
wait_for() {
    local deadline=$((SECONDS + ${2:-10}))
    while ((SECONDS < deadline)); do
        if pane | grep -Eq -- "$1"; then return 0; fi
        sleep 0.1
    done
    return 1
}
