/* proc_self.h - what the tests read of this process in /proc. */
#ifndef LL_TEST_PROC_SELF_H
#define LL_TEST_PROC_SELF_H

#include <stdio.h>
#include <string.h>

/* Whether a line of /proc/self/maps contains needle. */
static inline int maps_mention(const char *needle)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[4096];
    int found = 0;
    while (f && fgets(line, sizeof line, f)) found |= strstr(line, needle) != NULL;
    if (f) fclose(f);
    return found;
}

#endif
