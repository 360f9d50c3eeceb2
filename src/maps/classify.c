/* classify.c - sort regions into the application, library, stack and
 * kernel chunks. Both orders occur (libraries above the executable in the
 * default layout, below it in the legacy and unlimited-stack layouts), so
 * nothing here depends on where a region lies, only on what it is. */
#include "maps/maps.h"
#include "base/base.h"

#include <string.h>

const char *ll_chunk_name_get(ll_chunk chunk)
{
    static const char *names[] = {"none", "app", "lib", "stack", "kernel"};
    return (unsigned)chunk < LL_ARRAY_COUNT(names) ? names[chunk] : "none";
}

static int is_shared_object(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    for (const char *s = strstr(base, ".so"); s; s = strstr(s + 1, ".so"))
        if (s[3] == 0 || s[3] == '.' || s[3] == ' ') return 1;
    return !strncmp(base, "ld-", 3);
}

/* Without /proc/PID/exe: the first executable file mapping that is not a
 * shared object; else the file mapping nearest below [heap]. */
static const char *guess_exe(const ll_maps *m)
{
    for (size_t i = 0; i < m->count; i++) {
        const ll_region *r = &m->regions[i];
        if (r->path[0] == '/' && r->perms[2] == 'x' && !is_shared_object(r->path)) return r->path;
    }
    const char *below = NULL;
    for (size_t i = 0; i < m->count; i++) {
        const ll_region *r = &m->regions[i];
        if (!strcmp(r->path, "[heap]")) return below;
        if (r->path[0] == '/') below = r->path;
    }
    return NULL;
}

static ll_chunk classify_one(const ll_region *r, const ll_region *prev, const char *exe)
{
    const char *p = r->path;
    if (exe && p[0] == '/' && !strcmp(p, exe)) return LL_CHUNK_APP;
    if (p[0] == '[') {
        if (!strcmp(p, "[heap]")) return LL_CHUNK_APP;
        if (!strcmp(p, "[stack]")) return LL_CHUNK_STACK;
        /* [stack:TID] (thread stacks, old kernels) and [anon:NAME] are mmaps. */
        if (!strncmp(p, "[stack:", 7) || !strncmp(p, "[anon:", 6) ||
            !strncmp(p, "[anon_shmem:", 12))
            return LL_CHUNK_LIB;
        return LL_CHUNK_KERNEL;
    }
    /* The executable's .bss tail beyond its file: anonymous, right after it. */
    if (!p[0] && prev && prev->chunk == LL_CHUNK_APP && prev->end == r->start &&
        strcmp(prev->path, "[heap]") != 0)
        return LL_CHUNK_APP;
    return LL_CHUNK_LIB;
}

void ll_maps_classify(ll_maps *maps, const char *exe)
{
    if (exe && exe != maps->exe) {
        const char *own = maps_strdup(maps, exe, strlen(exe));
        if (own) maps->exe = own;
    }
    if (!maps->exe) maps->exe = guess_exe(maps);
    for (size_t i = 0; i < maps->count; i++)
        maps->regions[i].chunk =
            classify_one(&maps->regions[i], i ? &maps->regions[i - 1] : NULL, maps->exe);
}

/* The top of the stack lies just under the user address space's end: its
 * width is the bit length of that address. */
unsigned ll_maps_va_bits_get(const ll_maps *maps)
{
    uint64_t top = 0;
    for (size_t i = 0; i < maps->count; i++) {
        const ll_region *r = &maps->regions[i];
        if (r->chunk == LL_CHUNK_STACK || (r->chunk != LL_CHUNK_KERNEL && r->end < (1ull << 57)))
            if (r->end > top) top = r->end;
    }
    unsigned bits = 32;
    while (bits < 56 && (1ull << bits) < top) bits++;
    return bits < 39 ? 47 : bits;
}
