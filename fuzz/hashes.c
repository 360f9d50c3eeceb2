/* hashes.c - the hashes file `replay --check` reads. */
#include "fuzz.h"
#include "cli/cli.h"

#include <stdarg.h>

/* The command's error printer (main.c, not linked here): quiet. */
int cli_error(int status, const char *fmt, ...)
{
    (void)fmt;
    return status;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = fmemopen((void *)data, size, "r");
    if (!f) return 0;
    cli_hashes h;
    if (cli_hashes_read(f, "fuzz", &h) == 0) free(h.hashes);
    fclose(f);
    return 0;
}
