/* elf.c - the ELF readers: the library check before dlopen and the
 * executable reader behind `addr`. */
#include "fuzz.h"
#include "module/module.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    int fd = fuzz_file(data, size, path, sizeof path);
    (void)module_elf_check(fd, path, &(ll_error){0});
    ll_exe exe;
    if (ll_exe_read(path, &exe, &(ll_error){0}) == 0 && exe.hi < exe.lo) abort();
    return 0;
}
