/* who.c - `replay --who-wrote`'s TARGET (ARENA+OFFSET, block+OFFSET or
 * ADDRESS, then :LEN) against a block with one arena: an accepted target
 * lies inside the block. */
#include "fuzz.h"
#include "cli/cli.h"

/* The command's error printer (main.c, not linked here): quiet. */
int cli_error(int status, const char *fmt, ...)
{
    (void)fmt;
    return status;
}

/* Its last-resort exit (main.c too): the parser never calls it. */
void cli_die_unsafe(const char *a, const char *b, const char *c, const char *msg)
{
    (void)a, (void)b, (void)c, (void)msg;
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ll_block block;
    static int ready;
    ll_error err;
    if (!ready) {
        if (ll_block_reserve(&block, &err, .size = FUZZ_BLOCK_SIZE) != 0 ||
            !ll_arena_create(&block, "world", 4096, &err))
            abort();
        ready = 1;
    }
    char text[512];
    if (size >= sizeof text) size = sizeof text - 1;
    memcpy(text, data, size);
    text[size] = 0;
    uint64_t offset;
    uint32_t len;
    if (cli_who_target_parse(text, &block, &offset, &len) == 0 &&
        (len < 1 || len > LL_LOOP_WATCH_MAX || offset + len > block.size))
        abort();
    return 0;
}
