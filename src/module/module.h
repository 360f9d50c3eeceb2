/* module.h - internals of the module layer: loaded images, the watcher, the
 * ELF check, function tables, forwarding, code maps and the fault handler. */
#ifndef LL_MODULE_H
#define LL_MODULE_H

#include "base/base.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>

/* One PT_LOAD segment of a loaded image, rounded out to whole pages. */
typedef struct module_range {
    uint64_t start, end;
    uint32_t flags; /* PF_R | PF_W | PF_X */
} module_range;

enum { MODULE_RANGE_MAX = 16 };

/* A function of an image, from its symbol tables (symbols.c). */
typedef struct module_func {
    const char *name; /* into the image's strings */
    uint64_t addr, size;
    uint64_t fwd;      /* where its entry jumps now; 0: its own code runs */
    uint8_t saved[14]; /* the entry's original bytes, once patched */
    uint8_t saved_len;
} module_func;

/* A mutable global of an image (globals.c): a variable of .data or .bss
 * named in its symbol table. */
typedef struct module_global {
    const char *key;    /* "name", or "file:name" for a file's static; into gkeys */
    uint64_t off, size; /* from the image's glo */
} module_global;

/* The bytes of one global, what is copied between the library and the block. */
typedef struct module_run {
    uint64_t off, size; /* from the image's glo */
} module_run;

/* One dlopen()ed version of the library. */
typedef struct module_image {
    struct module_image *next;
    void *handle;
    char *copy_path; /* the private copy it was loaded from */
    void **table;    /* its entry points, in the order of the names */
    uint64_t version;
    uint64_t lo, hi; /* the union of the ranges, for a quick test */
    uint64_t base;   /* the load bias (l_addr) */
    module_range ranges[MODULE_RANGE_MAX];
    int range_count;
    module_func *funcs; /* sorted by name, each name once, no clones */
    size_t func_count;
    uint32_t *by_addr; /* indices into funcs in address order */
    char *strings;     /* the names */
    uint8_t build_id[32];
    uint8_t build_id_len;
    module_global *globals; /* in address order */
    uint32_t global_count;
    module_run *gruns; /* what is copied between the library and the block */
    uint32_t grun_count;
    char *gkeys;
    uint64_t gkeys_size;
    uint64_t glo, ghi; /* the bytes the globals span, absolute */
    uint8_t *ginit;    /* their values right after dlopen */
    uint64_t glayout;  /* a hash of the keys, offsets and sizes */
} module_image;

/* What identifies one version of the file in stat mode. */
typedef struct file_sig {
    uint64_t dev, ino, size, mtime, ctime;
} file_sig;

/* The watcher thread and what it shares with the frame path. */
typedef struct module_watch {
    atomic_int ready; /* a complete new build is there: the only thing poll reads */
    atomic_int stop;
    int stat_mode;
    int inotify_fd, wd;
    int wake_fd; /* eventfd that ends the thread */
    int running;
    pthread_t thread;
    const char *dir, *name, *path, *lock_path;
    uint64_t stable_ns, interval_ns;
    file_sig initial; /* the file when the watch started (stat mode) */
} module_watch;

/* A word of a loaded state to rewrite (codemap.c). */
typedef struct module_fix {
    uint64_t *word;
    uint64_t value;
} module_fix;

struct ll_module {
    char *path, *dir, *name, *lock_path;
    char copy_dir[256];
    const char **names; /* the entry point names, copied */
    void **table;       /* entry point addresses of cur */
    size_t count;
    ll_block *block;
    int unprotected;
    module_image *images;      /* every loaded image, newest first */
    module_image *cur;         /* the table is bound to it */
    module_image *good;        /* the newest image a protected call returned from */
    uint64_t span_lo, span_hi; /* the union of every image's [lo, hi) */
    uint64_t next_version;
    uint64_t attempts; /* loads tried: numbers the private copies */
    ll_module_info info;
    module_watch watch;
    uint64_t globals_room; /* bytes at the block's end that mirror the globals */
    ll_block view;         /* the block as the application sees it */
    int globals_held;      /* the mirror describes other globals: not overwritten */
};

/* elf.c: checks that fd holds a complete ELF shared library for this
 * machine: headers inside the file, every loaded segment inside the file. */
int module_elf_check(int fd, const char *path, ll_error *err);

/* symbols.c: reads img's function table and build-id from its copy. */
int module_symbols_read(module_image *img, uint64_t base, ll_error *err);

/* The function called name in img (binary search), or NULL. */
const module_func *module_func_find(const module_image *img, const char *name);

/* The function whose bytes hold addr, or NULL. O(log functions). */
const module_func *module_func_at(const module_image *img, uint64_t addr);

/* forward.c: points every function of every image but target at target's
 * function of the same name, and target's own entries back at their code
 * (target NULL: every entry back). Fills the module's forwarding report. */
int module_forward(ll_module *m, const module_image *target, ll_error *err);

/* watch.c: starts and stops the watcher thread. */
int module_watch_start(ll_module *m, int stat_mode, uint32_t stable_ms, uint32_t interval_ms,
                       ll_error *err);
void module_watch_stop(ll_module *m);

/* codemap.c: formats the code map's refusals for an error message. */
void module_stale_describe(const ll_module *m, char *buf, size_t cap);

/* symbol_at.c: the function of the ELF file at path that holds file offset
 * off (.symtab, then .dynsym); 1 and its name and start when found. */
int module_symbol_at(const char *path, uint64_t off, char *name, size_t cap, uint64_t *start);

/* protect.c: registers with the fault dispatcher (counted per open module). */
int module_signals_acquire(ll_error *err);
void module_signals_release(void);

/* globals.c: reads img's globals from its file (mapped at file, size
 * bytes); -1 when out of memory. */
int module_globals_read(module_image *img, const uint8_t *file, uint64_t size, uint64_t base);

/* Block to library before a call (accept: globals whose size changed start
 * from their initial values instead of holding the mirror back); -1 with
 * err when the globals cannot be brought in (a size changed and !accept:
 * the library runs on, the mirror is held; no room). */
int module_globals_in(ll_module *m, int accept, ll_error *err);

/* Library to block after a call that returned: only the pages that differ. */
void module_globals_out(ll_module *m);

/* The bytes a mirror of img's globals takes in the block. */
uint64_t module_globals_need(const module_image *img, uint64_t page);

/* module.c: called by protect.c. */
void module_rollback(ll_module *m);
void module_mark_good(ll_module *m);

#endif
