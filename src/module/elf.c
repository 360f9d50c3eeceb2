/* elf.c - refuse a library that is not a complete ELF shared object.
 * A build caught half-written usually has its header but not its section
 * header table (which the linker writes last) nor all of its segments, so
 * every table and every loaded segment must lie inside the file. */
#include "module/module.h"

#include <elf.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__x86_64__)
#define MODULE_MACHINE      EM_X86_64
#define MODULE_MACHINE_NAME "x86_64"
#elif defined(__aarch64__)
#define MODULE_MACHINE      EM_AARCH64
#define MODULE_MACHINE_NAME "aarch64"
#elif defined(__riscv)
#define MODULE_MACHINE      EM_RISCV
#define MODULE_MACHINE_NAME "riscv64"
#else /* unknown here: let dlopen judge the machine */
#define MODULE_MACHINE      EM_NONE
#define MODULE_MACHINE_NAME "this machine"
#endif

static int truncated(ll_error *err, const char *path, const char *what, uint64_t end, uint64_t size)
{
    return ll_fail(err, EAGAIN,
                   "'%s' is incomplete: its %s end at byte %llu but the file has %llu "
                   "(still being written? the next complete build will load)",
                   path, what, (unsigned long long)end, (unsigned long long)size);
}

static int check_header(const Elf64_Ehdr *eh, const char *path, ll_error *err)
{
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
        return ll_fail(err, ENOEXEC,
                       "'%s' is not an ELF file (it starts with %02x %02x %02x %02x; "
                       "build it with cc -shared)",
                       path, eh->e_ident[0], eh->e_ident[1], eh->e_ident[2], eh->e_ident[3]);
    if (eh->e_ident[EI_CLASS] != ELFCLASS64)
        return ll_fail(err, ENOEXEC, "'%s' is a 32-bit ELF file; this process is 64-bit", path);
    if (eh->e_type != ET_DYN)
        return ll_fail(err, ENOEXEC,
                       "'%s' is not a shared library (ELF type %u; build it with "
                       "cc -shared -fPIC)",
                       path, (unsigned)eh->e_type);
    if (MODULE_MACHINE != EM_NONE && eh->e_machine != MODULE_MACHINE)
        return ll_fail(err, ENOEXEC, "'%s' is built for ELF machine %u, not %s", path,
                       (unsigned)eh->e_machine, MODULE_MACHINE_NAME);
    if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0)
        return ll_fail(err, ENOEXEC, "'%s' has no usable program headers", path);
    return 0;
}

/* Every program header, read 64 at a time: a PT_LOAD past the first 64
 * must lie inside the file too. */
static int check_segments(int fd, const Elf64_Ehdr *eh, uint64_t size, const char *path,
                          ll_error *err)
{
    Elf64_Phdr ph[64];
    int dynamic = 0;
    for (size_t first = 0; first < eh->e_phnum; first += LL_ARRAY_COUNT(ph)) {
        size_t n =
            eh->e_phnum - first < LL_ARRAY_COUNT(ph) ? eh->e_phnum - first : LL_ARRAY_COUNT(ph);
        ssize_t want = (ssize_t)(n * sizeof ph[0]);
        uint64_t at = eh->e_phoff + first * sizeof ph[0];
        if (pread(fd, ph, (size_t)want, (off_t)at) != want)
            return truncated(err, path, "program headers", at + (uint64_t)want, size);
        for (size_t i = 0; i < n; i++) {
            if (ph[i].p_type == PT_DYNAMIC) dynamic = 1;
            if (ph[i].p_type != PT_LOAD) continue;
            uint64_t end = ph[i].p_offset + ph[i].p_filesz;
            if (end < ph[i].p_offset || end > size)
                return truncated(err, path, "segments", end, size);
        }
    }
    if (!dynamic)
        return ll_fail(err, ENOEXEC, "'%s' has no dynamic section (build it with cc -shared)",
                       path);
    return 0;
}

int module_elf_check(int fd, const char *path, ll_error *err)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return ll_fail(err, errno, "cannot stat '%s': %s", path, strerror(errno));
    uint64_t size = (uint64_t)st.st_size;
    Elf64_Ehdr eh;
    memset(&eh, 0, sizeof eh);
    ssize_t got = pread(fd, &eh, sizeof eh, 0);
    if (got >= SELFMAG && memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) got = sizeof eh;
    if (got != (ssize_t)sizeof eh) {
        if (size == 0) return ll_fail(err, EAGAIN, "'%s' is empty (still being written?)", path);
        return truncated(err, path, "ELF header", sizeof eh, size);
    }
    if (check_header(&eh, path, err) != 0) return -1;
    /* The counts are 16-bit: only the offsets can make an end wrap. */
    uint64_t ph_end = eh.e_phoff + (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr);
    if (ph_end < eh.e_phoff || ph_end > size)
        return truncated(err, path, "program headers", ph_end, size);
    uint64_t sh_end = eh.e_shoff + (uint64_t)eh.e_shnum * eh.e_shentsize;
    if (eh.e_shnum && (sh_end < eh.e_shoff || sh_end > size))
        return truncated(err, path, "section headers", sh_end, size);
    return check_segments(fd, &eh, size, path, err);
}
