/* lines.c - names the code at an address: the function from the symbol
 * tables and the source file and line from DWARF, read through elfutils'
 * libdwfl. libdw is loaded with dlopen at the first call, as SDL is, so
 * that liblooplive links against nothing more and a program that never
 * asks never loads it; without it (or without -g) the answer is the
 * function and offset alone, with the reason. */
#include "module/module.h"

#include <dlfcn.h>
#include <elfutils/libdwfl.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define DW_LIB "libdw.so.1"

static struct dw_api {
    int tried, ok;
    char why[96];
    __typeof__(dwfl_begin) *begin;
    __typeof__(dwfl_end) *end;
    __typeof__(dwfl_report_begin) *report_begin;
    __typeof__(dwfl_report_elf) *report_elf;
    __typeof__(dwfl_report_end) *report_end;
    __typeof__(dwfl_addrmodule) *addrmodule;
    __typeof__(dwfl_module_addrinfo) *addrinfo;
    __typeof__(dwfl_module_getsrc) *getsrc;
    __typeof__(dwfl_lineinfo) *lineinfo;
    __typeof__(dwfl_standard_find_debuginfo) *find_debuginfo;
} dw;
static pthread_mutex_t dw_lock = PTHREAD_MUTEX_INITIALIZER;

#define DW_SYM(field, name)                                                                        \
    (*(void **)&dw.field = dlsym(h, name), dw.field != NULL || (missing = name, 0))

static void dw_load(void)
{
    dw.tried = 1;
    void *h = dlopen(DW_LIB, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(dw.why, sizeof dw.why, "no %s to read DWARF (try: apt-get install libdw1)",
                 DW_LIB);
        return;
    }
    const char *missing = NULL;
    if (DW_SYM(begin, "dwfl_begin") && DW_SYM(end, "dwfl_end") &&
        DW_SYM(report_begin, "dwfl_report_begin") && DW_SYM(report_elf, "dwfl_report_elf") &&
        DW_SYM(report_end, "dwfl_report_end") && DW_SYM(addrmodule, "dwfl_addrmodule") &&
        DW_SYM(addrinfo, "dwfl_module_addrinfo") && DW_SYM(getsrc, "dwfl_module_getsrc") &&
        DW_SYM(lineinfo, "dwfl_lineinfo") &&
        DW_SYM(find_debuginfo, "dwfl_standard_find_debuginfo")) {
        dw.ok = 1;
        return;
    }
    snprintf(dw.why, sizeof dw.why, "%s lacks %s (try: a newer libdw1)", DW_LIB, missing);
}

/* The object's file name as the user knows it: a module's private copy is
 * named by the library it was copied from. */
static void object_name(const ll_module *module, const char *file, char *out, size_t cap)
{
    size_t n = module ? strlen(module->copy_dir) : 0;
    if (n && !strncmp(file, module->copy_dir, n) && file[n] == '/') file = module->path;
    size_t len = strlen(file);
    if (len >= cap) file += len - (cap - 1); /* keep the end: the file name */
    memcpy(out, file, strlen(file) + 1);
}

/* Function, offset, file and line through libdwfl over the one object. */
static void dw_lookup(const Dl_info *info, uint64_t addr, ll_code_line *out)
{
    static const Dwfl_Callbacks callbacks = {.find_debuginfo = NULL};
    Dwfl_Callbacks cb = callbacks;
    cb.find_debuginfo = dw.find_debuginfo;
    Dwfl *d = dw.begin(&cb);
    if (!d) return;
    dw.report_begin(d);
    Dwfl_Module *m =
        dw.report_elf(d, "code", info->dli_fname, -1, (GElf_Addr)(uintptr_t)info->dli_fbase, false);
    dw.report_end(d, NULL, NULL);
    if (m && dw.addrmodule(d, addr) == m) {
        GElf_Off off = 0;
        GElf_Sym sym;
        const char *name = dw.addrinfo(m, addr, &off, &sym, NULL, NULL, NULL);
        if (name) {
            snprintf(out->function, sizeof out->function, "%s", name);
            out->offset = off;
        }
        Dwfl_Line *line = dw.getsrc(m, addr);
        int lineno = 0;
        const char *file = line ? dw.lineinfo(line, NULL, &lineno, NULL, NULL, NULL) : NULL;
        if (file && lineno > 0) {
            snprintf(out->file, sizeof out->file, "%s", file);
            out->line = lineno;
        }
    }
    dw.end(d);
}

int ll_module_line_find(const ll_module *module, uint64_t addr, ll_code_line *out, ll_error *err)
{
    memset(out, 0, sizeof *out);
    Dl_info info;
    struct link_map *map = NULL;
    if (!dladdr1((void *)(uintptr_t)addr, &info, (void **)&map, RTLD_DL_LINKMAP) || !info.dli_fname)
        return ll_fail(err, ENOENT, "0x%llx is in no loaded object (try: an address of code)",
                       (unsigned long long)addr);
    /* The program itself: dladdr gives argv[0], which a program may change
     * and which need not be a path. */
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (map && !map->l_name[0] && n > 0) exe[n] = 0, info.dli_fname = exe;
    object_name(module, info.dli_fname, out->object, sizeof out->object);
    pthread_mutex_lock(&dw_lock);
    if (!dw.tried) dw_load();
    if (dw.ok) dw_lookup(&info, addr, out);
    pthread_mutex_unlock(&dw_lock);
    uint64_t start;
    uint64_t off = addr - (uint64_t)(uintptr_t)info.dli_fbase;
    if (!out->function[0] &&
        module_symbol_at(info.dli_fname, off, out->function, sizeof out->function, &start))
        out->offset = off - start;
    if (!out->line)
        snprintf(out->no_line, sizeof out->no_line, "%s",
                 !dw.ok ? dw.why : "no DWARF line for it (try: build it with -g)");
    return 0;
}
