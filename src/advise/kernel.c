/* kernel.c - the machine facts the ASLR model needs, and the executable's
 * type from its ELF header. */
#include "advise/advise.h"
#include "base/base.h"

#include <elf.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

static int read_sysctl(const char *path, uint64_t *out)
{
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    unsigned long long v;
    int ok = fscanf(f, "%llu", &v) == 1;
    fclose(f);
    if (!ok) return -1;
    *out = v;
    return 0;
}

static int cpu_has_la57(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return 0;
    char line[4096];
    int found = 0;
    while (!found && fgets(line, sizeof line, f))
        if (!strncmp(line, "flags", 5)) found = strstr(line, " la57") ? 1 : -1;
    fclose(f);
    return found == 1;
}

int ll_kernel_read(ll_kernel *k, ll_error *err)
{
    memset(k, 0, sizeof *k);
    uint64_t v;
    k->randomize_va_space = read_sysctl("/proc/sys/kernel/randomize_va_space", &v) ? 2 : (int)v;
    k->mmap_rnd_bits = read_sysctl("/proc/sys/vm/mmap_rnd_bits", &v) ? 28 : (int)v;
    k->mmap_min_addr = read_sysctl("/proc/sys/vm/mmap_min_addr", &v) ? 65536 : v;
    k->legacy_va_layout = read_sysctl("/proc/sys/vm/legacy_va_layout", &v) ? 0 : (int)v;
    k->page_size = ll_page_size_get();
    struct utsname u;
    k->aarch64 = uname(&u) == 0 && !strcmp(u.machine, "aarch64");
    k->la57 = !k->aarch64 && cpu_has_la57();
    k->va_bits = 47;
    if (k->aarch64) {
        ll_maps self;
        if (ll_maps_read_pid(0, &self, err) != 0) return -1;
        k->va_bits = ll_maps_va_bits_get(&self);
        ll_maps_free(&self);
    }
    struct rlimit rl;
    k->stack_rlimit = 8 * LL_MIB;
    if (getrlimit(RLIMIT_STACK, &rl) == 0)
        k->stack_rlimit = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_cur;
    return 0;
}

const char *ll_exe_type_name_get(ll_exe_type type)
{
    switch (type) {
    case LL_EXE_PIE:
        return "PIE";
    case LL_EXE_FIXED:
        return "non-PIE (ET_EXEC)";
    case LL_EXE_STATIC_PIE:
        return "static PIE";
    default:
        return "unknown";
    }
}

static const char *file_kind(mode_t mode)
{
    return S_ISFIFO(mode)   ? "a FIFO"
           : S_ISCHR(mode)  ? "a character device"
           : S_ISBLK(mode)  ? "a block device"
           : S_ISDIR(mode)  ? "a directory"
           : S_ISSOCK(mode) ? "a socket"
                            : "not a regular file";
}

/* The path (named by a maps file anyone may write) opened only when it is
 * a regular file: a FIFO would block the read forever, a device may act on
 * being opened. The fstat after the open closes the gap to the stat. */
static int open_regular(const char *path, ll_error *err)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return ll_fail(err, errno, "cannot read executable '%s': %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return ll_fail(err, EINVAL,
                       "'%s' is %s, not an executable file (try: the path of the program)", path,
                       file_kind(st.st_mode));
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return ll_fail(err, errno, "cannot read executable '%s': %s", path, strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return ll_fail(err, EINVAL,
                       "'%s' is %s, not an executable file (try: the path of the program)", path,
                       file_kind(st.st_mode));
    }
    return fd;
}

int ll_exe_read(const char *path, ll_exe *out, ll_error *err)
{
    memset(out, 0, sizeof *out);
    int fd = open_regular(path, err);
    if (fd < 0) return -1;
    Elf64_Ehdr eh;
    int rc = -1;
    if (pread(fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh || memcmp(eh.e_ident, ELFMAG, SELFMAG)) {
        ll_fail(err, ENOEXEC, "'%s' is not an ELF executable", path);
        goto done;
    }
    if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) {
        ll_fail(err, ENOEXEC, "'%s' is an ELF file but not an executable (e_type %u)", path,
                eh.e_type);
        goto done;
    }
    if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr) ||
        eh.e_phnum == 0 || eh.e_phnum > 4096) {
        ll_fail(err, ENOEXEC, "'%s' is not a 64-bit ELF executable", path);
        goto done;
    }
    size_t bytes = (size_t)eh.e_phnum * sizeof(Elf64_Phdr);
    Elf64_Phdr *ph = malloc(bytes);
    if (!ph || pread(fd, ph, bytes, (off_t)eh.e_phoff) != (ssize_t)bytes) {
        free(ph);
        ll_fail(err, ENOEXEC, "'%s' has a truncated program header table", path);
        goto done;
    }
    int interp = 0;
    uint64_t lo = UINT64_MAX, hi = 0;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        if (ph[i].p_type == PT_INTERP) interp = 1;
        if (ph[i].p_type != PT_LOAD) continue;
        /* A corrupt header: no wrap-around, also when rounded up to a page. */
        uint64_t top = UINT64_MAX - ll_page_size_get() + 1;
        if (ph[i].p_vaddr > top || ph[i].p_memsz > top - ph[i].p_vaddr) {
            free(ph);
            ll_fail(err, ENOEXEC,
                    "'%s' has a segment that runs past the end of the address space (try: "
                    "rebuild it; the file is corrupt)",
                    path);
            goto done;
        }
        if (ph[i].p_vaddr < lo) lo = ph[i].p_vaddr;
        if (ph[i].p_vaddr + ph[i].p_memsz > hi) hi = ph[i].p_vaddr + ph[i].p_memsz;
    }
    free(ph);
    if (hi <= lo) {
        ll_fail(err, ENOEXEC, "'%s' has no loadable segment", path);
        goto done;
    }
    uint64_t page = ll_page_size_get();
    out->lo = ll_align_down(lo, page);
    out->hi = ll_align_up(hi, page);
    out->span = out->hi - out->lo;
    out->type = eh.e_type == ET_EXEC ? LL_EXE_FIXED : interp ? LL_EXE_PIE : LL_EXE_STATIC_PIE;
    out->from_header = 1;
    rc = 0;
done:
    close(fd);
    return rc;
}
