/* sample.c - the process tests/data/gen-maps.sh samples: N threads asleep,
 * a named anonymous mapping, a mapped file whose name has a space, a mapped
 * file that was deleted and a PROT_NONE page, the shapes the maps parser
 * and the address advice must read. Prints "ready" once all are in place
 * and waits for its standard input to close. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#ifndef PR_SET_VMA
#define PR_SET_VMA           0x53564d41
#define PR_SET_VMA_ANON_NAME 0
#endif

static void *sleeper(void *arg)
{
    (void)arg;
    for (;;) pause();
    return NULL;
}

static void *map_file(const char *path, size_t size, int unlink_after)
{
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || ftruncate(fd, (off_t)size) != 0) return NULL;
    void *p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (unlink_after) unlink(path);
    return p == MAP_FAILED ? NULL : p;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 0;
    for (int i = 0; i < threads; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, sleeper, NULL) != 0) return 1;
    }
    size_t size = 1 << 20;
    char *state = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (state == MAP_FAILED) return 1;
    state[0] = 1;
    prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)state, size, "game state");
    if (mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED) return 1;
    if (!map_file("with space.bin", 8192, 0) || !map_file("gone.bin", 4096, 1)) return 1;
    printf("ready\n");
    fflush(stdout);
    char c;
    while (read(0, &c, 1) > 0) {
    }
    return 0;
}
