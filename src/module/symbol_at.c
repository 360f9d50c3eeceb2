/* symbol_at.c - the function that holds an address in a loaded image, from
 * the file's .symtab (static functions included), else .dynsym. Reads the
 * file through mmap and allocates nothing, so that it also serves after a
 * fault inside the C library, when malloc may never return. Every offset
 * read from the file is checked against its size: the file is the private
 * copy that was loaded, but it is still input. */
#include "module/module.h"

#include <elf.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct elf_view {
    const uint8_t *bytes;
    uint64_t size;
} elf_view;

static int inside(const elf_view *v, uint64_t off, uint64_t len)
{
    return off <= v->size && len <= v->size - off;
}

/* Looks off up in the symbol table sh (linked to its string table). */
static int search_table(const elf_view *v, const Elf64_Shdr *shdrs, uint16_t count,
                        const Elf64_Shdr *sh, uint64_t off, char *name, size_t cap, uint64_t *start)
{
    if (sh->sh_entsize != sizeof(Elf64_Sym) || sh->sh_offset % 8 ||
        !inside(v, sh->sh_offset, sh->sh_size) || sh->sh_link >= count)
        return 0;
    const Elf64_Shdr *str = &shdrs[sh->sh_link];
    if (!inside(v, str->sh_offset, str->sh_size)) return 0;
    const Elf64_Sym *syms = (const Elf64_Sym *)(v->bytes + sh->sh_offset);
    for (uint64_t i = 0; i < sh->sh_size / sizeof *syms; i++) {
        const Elf64_Sym *s = &syms[i];
        if (ELF64_ST_TYPE(s->st_info) != STT_FUNC || s->st_shndx == SHN_UNDEF) continue;
        if (off < s->st_value || off - s->st_value >= s->st_size) continue;
        if (s->st_name >= str->sh_size) continue;
        const char *text = (const char *)v->bytes + str->sh_offset + s->st_name;
        size_t n = strnlen(text, str->sh_size - s->st_name);
        if (!n || n == str->sh_size - s->st_name) continue; /* empty or unterminated */
        if (n >= cap) n = cap - 1;
        memcpy(name, text, n);
        name[n] = 0;
        *start = s->st_value;
        return 1;
    }
    return 0;
}

static int search(const elf_view *v, uint64_t off, char *name, size_t cap, uint64_t *start)
{
    if (v->size < sizeof(Elf64_Ehdr) || memcmp(v->bytes, ELFMAG, SELFMAG) != 0 ||
        v->bytes[EI_CLASS] != ELFCLASS64)
        return 0;
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)v->bytes;
    if (eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shoff % 8 ||
        !inside(v, eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr)))
        return 0;
    const Elf64_Shdr *shdrs = (const Elf64_Shdr *)(v->bytes + eh->e_shoff);
    /* .symtab first: it has the static functions; .dynsym when stripped. */
    for (int pass = 0; pass < 2; pass++)
        for (uint16_t i = 0; i < eh->e_shnum; i++)
            if (shdrs[i].sh_type == (pass == 0 ? SHT_SYMTAB : SHT_DYNSYM) &&
                search_table(v, shdrs, eh->e_shnum, &shdrs[i], off, name, cap, start))
                return 1;
    return 0;
}

int module_symbol_at(const char *path, uint64_t off, char *name, size_t cap, uint64_t *start)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    struct stat st;
    void *map = MAP_FAILED;
    if (fstat(fd, &st) == 0 && st.st_size > 0)
        map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) return 0;
    elf_view v = {map, (uint64_t)st.st_size};
    int found = cap > 0 && search(&v, off, name, cap, start);
    munmap(map, (size_t)st.st_size);
    return found;
}
