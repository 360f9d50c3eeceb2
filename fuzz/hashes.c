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

/* Its last-resort exit (main.c too): the hashes reader never calls it. */
void cli_die_unsafe(const char *a, const char *b, const char *c, const char *msg)
{
    (void)a, (void)b, (void)c, (void)msg;
    abort();
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
