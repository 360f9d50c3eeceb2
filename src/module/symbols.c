/* symbols.c - the function table of a loaded image, read from the private
 * copy's .symtab and .dynsym (static functions too), and its build-id.
 * Only names that mean the same thing in another build are kept: a compiler
 * clone (foo.isra.0, foo.part.1, foo.cold: any name with a '.') may take
 * its arguments differently in each build, and a name defined twice (two
 * static functions in two files) says nothing about which one is meant. */
#include "module/module.h"

#include <elf.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct elf_file {
    const uint8_t *data;
    uint64_t size;
    const Elf64_Shdr *sh;
    uint16_t shnum;
} elf_file;

static const void *elf_at(const elf_file *f, uint64_t off, uint64_t len)
{
    if (off > f->size || len > f->size - off) return NULL;
    return f->data + off;
}

static int keep_name(const char *name)
{
    return name[0] && !strchr(name, '.');
}

static int cmp_func(const void *a, const void *b)
{
    const module_func *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c) return c;
    return (x->addr > y->addr) - (x->addr < y->addr);
}

/* Counts, then copies, the functions of one symbol table section. names is
 * the image's copy of that table's string section. */
static size_t read_table(const elf_file *f, const Elf64_Shdr *sh, const char *names,
                         uint64_t names_size, uint64_t base, module_func *out)
{
    const Elf64_Sym *syms = elf_at(f, sh->sh_offset, sh->sh_size);
    if (!syms || sh->sh_entsize != sizeof *syms) return 0;
    size_t n = 0;
    for (uint64_t i = 0; i < sh->sh_size / sizeof *syms; i++) {
        const Elf64_Sym *s = &syms[i];
        if (ELF64_ST_TYPE(s->st_info) != STT_FUNC || s->st_shndx == SHN_UNDEF || !s->st_value ||
            s->st_name >= names_size || !memchr(names + s->st_name, 0, names_size - s->st_name))
            continue;
        if (!keep_name(names + s->st_name)) continue;
        if (out)
            out[n] = (module_func){
                .name = names + s->st_name, .addr = base + s->st_value, .size = s->st_size};
        n++;
    }
    return n;
}

static int cmp_addr(const void *a, const void *b)
{
    const module_func *x = a, *y = b;
    if (x->addr != y->addr) return (x->addr > y->addr) - (x->addr < y->addr);
    return strcmp(x->name, y->name);
}

/* Sorts by name and keeps each name once; a name at two addresses goes.
 * Of two names at one address (aliases) only the first stays: patching one
 * entry twice would keep a jump as the "original" bytes. */
static size_t unique_names(module_func *fn, size_t n)
{
    qsort(fn, n, sizeof *fn, cmp_func);
    size_t kept = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1, distinct = 1;
        for (; j < n && !strcmp(fn[j].name, fn[i].name); j++)
            distinct += fn[j].addr != fn[j - 1].addr;
        if (distinct == 1) fn[kept++] = fn[i];
        i = j;
    }
    qsort(fn, kept, sizeof *fn, cmp_addr);
    size_t once = 0;
    for (size_t i = 0; i < kept; i++)
        if (!once || fn[i].addr != fn[once - 1].addr) fn[once++] = fn[i];
    qsort(fn, once, sizeof *fn, cmp_func);
    return once;
}

static int cmp_index_addr(const void *a, const void *b, void *ctx)
{
    const module_func *fn = ctx;
    uint64_t x = fn[*(const uint32_t *)a].addr, y = fn[*(const uint32_t *)b].addr;
    return (x > y) - (x < y);
}

/* The functions in address order, for module_func_at. */
static int index_by_addr(module_image *img)
{
    img->by_addr = malloc((img->func_count ? img->func_count : 1) * sizeof *img->by_addr);
    if (!img->by_addr) return -1;
    for (size_t i = 0; i < img->func_count; i++) img->by_addr[i] = (uint32_t)i;
    qsort_r(img->by_addr, img->func_count, sizeof *img->by_addr, cmp_index_addr, img->funcs);
    return 0;
}

static void read_build_id(const elf_file *f, module_image *img)
{
    for (uint16_t i = 0; i < f->shnum; i++) {
        if (f->sh[i].sh_type != SHT_NOTE) continue;
        const uint8_t *p = elf_at(f, f->sh[i].sh_offset, f->sh[i].sh_size);
        uint64_t left = p ? f->sh[i].sh_size : 0;
        while (left >= sizeof(Elf64_Nhdr)) {
            const Elf64_Nhdr *nh = (const Elf64_Nhdr *)p;
            uint64_t name = ll_align_up(nh->n_namesz, 4), desc = ll_align_up(nh->n_descsz, 4);
            if (sizeof *nh + name + desc > left) break;
            if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
                !memcmp(p + sizeof *nh, "GNU", 4) && nh->n_descsz <= sizeof img->build_id) {
                memcpy(img->build_id, p + sizeof *nh + name, nh->n_descsz);
                img->build_id_len = (uint8_t)nh->n_descsz;
                return;
            }
            p += sizeof *nh + name + desc;
            left -= sizeof *nh + name + desc;
        }
    }
}

/* Copies every string section a symbol table names into one buffer, so the
 * table outlives the file (the copy is removed once loaded). */
static int read_functions(const elf_file *f, module_image *img, uint64_t base)
{
    uint64_t total = 0;
    for (uint16_t i = 0; i < f->shnum; i++)
        if ((f->sh[i].sh_type == SHT_SYMTAB || f->sh[i].sh_type == SHT_DYNSYM) &&
            f->sh[i].sh_link < f->shnum)
            total += f->sh[f->sh[i].sh_link].sh_size;
    img->strings = malloc(total ? total : 1);
    if (!img->strings) return -1;
    size_t count = 0, used = 0;
    for (int pass = 0; pass < 2; pass++) {
        used = 0;
        for (uint16_t i = 0; i < f->shnum; i++) {
            const Elf64_Shdr *sh = &f->sh[i];
            if ((sh->sh_type != SHT_SYMTAB && sh->sh_type != SHT_DYNSYM) || sh->sh_link >= f->shnum)
                continue;
            const Elf64_Shdr *str = &f->sh[sh->sh_link];
            const char *src = elf_at(f, str->sh_offset, str->sh_size);
            if (!src) continue;
            if (pass) memcpy(img->strings + used, src, str->sh_size);
            size_t got = read_table(f, sh, pass ? img->strings + used : src, str->sh_size, base,
                                    pass ? img->funcs + count : NULL);
            count += got;
            used += str->sh_size;
        }
        if (pass == 0) {
            img->funcs = calloc(count ? count : 1, sizeof *img->funcs);
            if (!img->funcs) return -1;
            count = 0;
        }
    }
    img->func_count = unique_names(img->funcs, count);
    return index_by_addr(img);
}

int module_symbols_read(module_image *img, uint64_t base, ll_error *err)
{
    int fd = open(img->copy_path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        int e = errno;
        if (fd >= 0) close(fd);
        return ll_fail(err, e, "cannot read the symbols of '%s': %s", img->copy_path, strerror(e));
    }
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return ll_fail(err, errno, "cannot read the symbols of '%s': %s", img->copy_path,
                       strerror(errno));
    elf_file f = {.data = map, .size = (uint64_t)st.st_size};
    const Elf64_Ehdr *eh = elf_at(&f, 0, sizeof *eh);
    int rc = 0;
    if (eh && eh->e_shentsize == sizeof(Elf64_Shdr) &&
        (f.sh = elf_at(&f, eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr)))) {
        f.shnum = eh->e_shnum;
        read_build_id(&f, img);
        if (read_functions(&f, img, base) != 0 ||
            module_globals_read(img, f.data, f.size, base) != 0)
            rc = ll_fail(err, ENOMEM, "out of memory reading the symbols of '%s'", img->copy_path);
    }
    munmap(map, (size_t)st.st_size);
    return rc;
}

const module_func *module_func_find(const module_image *img, const char *name)
{
    size_t lo = 0, hi = img->func_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(img->funcs[mid].name, name);
        if (c == 0) return &img->funcs[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const module_func *module_func_at(const module_image *img, uint64_t addr)
{
    size_t lo = 0, hi = img->func_count; /* the last function starting at or below addr */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (img->funcs[img->by_addr[mid]].addr <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (!lo) return NULL;
    const module_func *f = &img->funcs[img->by_addr[lo - 1]];
    return addr - f->addr < f->size ? f : NULL;
}
