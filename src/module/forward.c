/* forward.c - every build stays mapped and forwards to the one in use.
 * Each function of an earlier build, static or exported, whose name the
 * target build defines once, gets a jump to the target's function written
 * over its entry; the bytes it replaced are kept, so the same pass can
 * point it elsewhere or put it back (the target's own entries always go
 * back to their original bytes). A code pointer kept anywhere (the block, a
 * snapshot, a saved file mapped back, the stack) then reaches the code in
 * use without being found and rewritten. The cost is one pass over every
 * function of every image per load, and two mprotect calls per image. */
#include "module/module.h"

#include <elf.h>
#include <string.h>
#include <sys/mman.h>

enum { JMP_REL32 = 5, JMP_ABS = 14 };

/* The C runtime's own functions of each image run at load and unload time
 * and keep per-image flags: never sent to another image. */
static int runtime_name(const char *name)
{
    static const char *const names[] = {"_init", "_fini", "frame_dummy", "register_tm_clones",
                                        "deregister_tm_clones"};
    if (!strncmp(name, "__", 2)) return 1;
    for (size_t i = 0; i < LL_ARRAY_COUNT(names); i++)
        if (!strcmp(name, names[i])) return 1;
    return 0;
}

static size_t jump_size(uint64_t from, uint64_t to)
{
    int64_t rel = (int64_t)(to - (from + JMP_REL32));
    return rel == (int32_t)rel ? JMP_REL32 : JMP_ABS;
}

/* jmp rel32, or jmp [rip+0] followed by the 8-byte address. */
static void encode_jump(uint64_t from, uint64_t to, uint8_t *out)
{
    if (jump_size(from, to) == JMP_REL32) {
        int32_t rel = (int32_t)(to - (from + JMP_REL32));
        out[0] = 0xe9;
        memcpy(out + 1, &rel, 4);
        return;
    }
    static const uint8_t ind[6] = {0xff, 0x25, 0, 0, 0, 0};
    memcpy(out, ind, sizeof ind);
    memcpy(out + 6, &to, 8);
}

static int text_prot(const module_image *img, int writable, ll_error *err, uint64_t target)
{
    for (int i = 0; i < img->range_count; i++) {
        const module_range *r = &img->ranges[i];
        if (!(r->flags & PF_X)) continue;
        int prot = writable ? PROT_READ | PROT_WRITE : PROT_READ | PROT_EXEC;
        if (mprotect((void *)(uintptr_t)r->start, r->end - r->start, prot) == 0) continue;
        int e = errno;
        if (e == EACCES || e == EPERM)
            return ll_fail(err, e,
                           "cannot forward version %llu to version %llu: the system refuses to "
                           "make its code writable (mprotect: %s), as an SELinux execmod or a "
                           "PaX-like W^X policy does (try: setsebool -P selinuxuser_execmod 1, "
                           "or run where that policy allows it)",
                           (unsigned long long)img->version, (unsigned long long)target,
                           strerror(e));
        return ll_fail(err, e, "cannot forward version %llu to version %llu: mprotect: %s",
                       (unsigned long long)img->version, (unsigned long long)target, strerror(e));
    }
    return 0;
}

static void report(ll_module *m, const module_image *img, const module_func *f, int reason)
{
    ll_module_info *info = &m->info;
    if (info->unforwarded_count < LL_MODULE_STALE_MAX) {
        ll_module_unforwarded *u = &info->unforwarded[info->unforwarded_count];
        u->version = img->version;
        u->reason = reason;
        u->size = f->size;
        snprintf(u->name, sizeof u->name, "%s", f->name);
    }
    info->unforwarded_count++;
}

/* Where f's entry should jump when target is in use: 0 for its own code. */
static uint64_t wanted(ll_module *m, const module_image *img, const module_func *f,
                       const module_image *target, size_t *j)
{
    if (!target || img == target || runtime_name(f->name)) return 0;
    while (*j < target->func_count && strcmp(target->funcs[*j].name, f->name) < 0) (*j)++;
    if (*j == target->func_count || strcmp(target->funcs[*j].name, f->name) != 0) {
        report(m, img, f, LL_FORWARD_MISSING);
        return 0;
    }
    uint64_t to = target->funcs[*j].addr;
    if (f->size < jump_size(f->addr, to)) {
        report(m, img, f, LL_FORWARD_TOO_SMALL);
        return 0;
    }
    return to;
}

static void patch(module_func *f, uint64_t to)
{
    uint8_t *entry = (uint8_t *)(uintptr_t)f->addr;
    if (!f->saved_len) {
        f->saved_len = (uint8_t)(f->size < JMP_ABS ? f->size : JMP_ABS);
        memcpy(f->saved, entry, f->saved_len);
    }
    if (to) {
        uint8_t jump[JMP_ABS];
        encode_jump(f->addr, to, jump);
        memcpy(entry, jump, jump_size(f->addr, to));
    } else {
        memcpy(entry, f->saved, f->saved_len);
    }
    f->fwd = to;
}

/* Both tables are sorted by name: one merge pass. */
static int forward_image(ll_module *m, module_image *img, const module_image *target, ll_error *err)
{
    int open = 0;
    size_t j = 0;
    uint64_t tv = target ? target->version : 0;
    for (size_t i = 0; i < img->func_count; i++) {
        module_func *f = &img->funcs[i];
        uint64_t to = wanted(m, img, f, target, &j);
        if (to) m->info.forwarded++;
        if (f->fwd == to) continue;
        if (!open && text_prot(img, 1, err, tv) != 0) return -1;
        open = 1;
        patch(f, to);
    }
    return open ? text_prot(img, 0, err, tv) : 0;
}

int module_forward(ll_module *m, const module_image *target, ll_error *err)
{
    uint64_t t0 = ll_now_ns();
    m->info.forwarded = 0;
    m->info.unforwarded_count = 0;
#if defined(__x86_64__)
    for (module_image *img = m->images; img; img = img->next)
        if (forward_image(m, img, target, err) != 0) return -1;
#else
    (void)target;
    (void)err;
    (void)forward_image;
#endif
    m->info.forward_ns = ll_now_ns() - t0;
    return 0;
}
