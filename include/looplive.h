/* looplive.h - loop-live code editing on Linux: all of the public API.
 *
 * The API comes in three headers by audience; this one includes all three:
 *
 * - looplive_app.h: what an application for `looplive run` includes (the
 *   ll_app contract, the block and its arenas, input, keys, the canvas);
 * - looplive_host.h: hosts and tools that drive the library (block, arenas,
 *   snapshots, modules, the loop, the host), with the naming rule;
 * - looplive_addr.h: address-space analysis (maps, advise, ELF reading);
 * - looplive_compat.h: malloc, rand and the clocks of an existing C program
 *   answered from the block. Included here for its declarations only: its
 *   renames of malloc and the others take effect when a file includes it
 *   itself (force-included with -include looplive_compat.h).
 */
#ifndef LOOPLIVE_H
#define LOOPLIVE_H

#include "looplive_app.h"
#include "looplive_host.h"
#include "looplive_addr.h"
#ifndef LL_COMPAT_KEEP_LIBC
#define LL_COMPAT_KEEP_LIBC
#include "looplive_compat.h"
#undef LL_COMPAT_KEEP_LIBC
#else
#include "looplive_compat.h"
#endif

#endif /* LOOPLIVE_H */
