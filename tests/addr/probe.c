/* probe.c - prints its own /proc/self/maps and exits: the tests launch it
 * in every layout (default, ulimit -s unlimited, setarch -L / -R) and
 * check the ASLR model against what the kernel did. */
#include <stdio.h>

int main(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) return 1;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) fwrite(buf, 1, n, stdout);
    fclose(f);
    return 0;
}
