/* looplive.h - loop-live code editing on Linux: all of the public API.
 *
 * The API comes in headers by audience; this one includes them all:
 *
 * - looplive_app.h: what an application for `looplive run` includes (the
 *   ll_app contract, the block and its arenas, input, keys, the canvas);
 * - looplive_text.h: text on either canvas, typed keys, ncurses' names;
 * - looplive_host.h: hosts and tools that drive the library (block, arenas,
 *   snapshots, modules, the loop, the host), with the naming rule;
 * - looplive_addr.h: address-space analysis (maps, advise, ELF reading).
 */
#ifndef LOOPLIVE_H
#define LOOPLIVE_H

#include "looplive_app.h"
#include "looplive_text.h"
#include "looplive_host.h"
#include "looplive_addr.h"

#endif /* LOOPLIVE_H */
