/* globals.c - the globals' mirror at the end of the block (src/module/
 * globals.c), which a loaded file or recording puts there: the input is
 * the mirror's bytes. A module of two globals, whose "library" is a buffer
 * of the harness, brings them in (accepting size changes, then not); what
 * must hold besides no crash: nothing is written outside the globals'
 * own bytes of the buffer and the mirror, and an accepted mirror leaves
 * one that matches the module's layout. */
#include "fuzz.h"
#include "module/module.h"

#define ROOM (16u << 10)

static uint8_t lib[256];
static ll_module mod;
static module_image img;
static module_global globals[2];
static module_run runs[2];
static char keys[] = "counter\0g.c:calls";
static uint8_t init_values[256];

static void setup(ll_block *block)
{
    globals[0] = (module_global){keys, 16, 8};
    globals[1] = (module_global){keys + 8, 64, 4};
    runs[0] = (module_run){16, 8};
    runs[1] = (module_run){64, 4};
    img = (module_image){.globals = globals,
                         .global_count = 2,
                         .gruns = runs,
                         .grun_count = 2,
                         .gkeys = keys,
                         .gkeys_size = sizeof keys,
                         .glo = (uint64_t)(uintptr_t)lib,
                         .ghi = (uint64_t)(uintptr_t)lib + 68,
                         .ginit = init_values,
                         .glayout = 0x1234567 | 1,
                         .version = 1};
    mod.block = block;
    mod.globals_room = ROOM;
    mod.cur = &img;
    mod.name = "fuzz.so";
    mod.info.version = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ll_block *block = fuzz_block();
    if (!mod.block) setup(block);
    uint8_t *mirror = block->base + block->size - ROOM;
    memset(lib, 0xee, sizeof lib);
    for (int accept = 1; accept >= 0; accept--) {
        memset(mirror, 0, ROOM);
        memcpy(mirror, data, size < ROOM ? size : ROOM);
        mod.globals_held = 0;
        int rc = module_globals_in(&mod, accept, &(ll_error){0});
        /* Only the globals' bytes of the library change. */
        for (size_t i = 0; i < sizeof lib; i++)
            if (!((i >= 16 && i < 24) || (i >= 64 && i < 68)) && lib[i] != 0xee) abort();
        if (rc == 0 && !mod.globals_held) {
            module_globals_out(&mod);
            if (ll_module_globals_check(&mod, 0, &(ll_error){0}) != 0) abort();
        }
    }
    return 0;
}
