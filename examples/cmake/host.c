/* host.c - the host of the CMake example: runs the application library on
 * the terminal, or with --headless N for N frames without I/O (CI), then
 * prints the frame count and the block's hash. */
#include <looplive_host.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    const char *lib = argc > 1 ? argv[1] : "./game.so";
    uint64_t frames = argc > 3 && !strcmp(argv[2], "--headless") ? strtoull(argv[3], NULL, 10) : 0;
    ll_error err;
    ll_host *host = ll_host_open(lib, &err, .headless = frames > 0, .frames = frames);
    if (!host || ll_host_run(host, &err) != 0) {
        fprintf(stderr, "mygame-host: %s\n", err.msg);
        ll_host_close(host);
        return 1;
    }
    ll_host_status st;
    ll_host_status_get(host, &st);
    printf("frames %llu\n", (unsigned long long)st.frame);
    ll_host_close(host);
    return 0;
}
