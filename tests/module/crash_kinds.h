/* crash_kinds.h - the faults libmod.c's crash(kind) makes, shared by the
 * library and the tests that ask for them, so the two cannot disagree. */
#ifndef TESTS_MODULE_CRASH_KINDS_H
#define TESTS_MODULE_CRASH_KINDS_H

enum {
    CRASH_SEGV,
    CRASH_BUS,
    CRASH_ILL,
    CRASH_FPE,
    CRASH_ABORT,
    CRASH_STACK,
    CRASH_CALL_LOW,        /* a call through a pointer to 0x10 */
    CRASH_CALL_UNMAPPED,   /* a call into a page unmapped just before */
    CRASH_CALL_GARBAGE,    /* a call into the state: data, not code */
    CRASH_DOUBLE_FREE,     /* glibc's tcache check aborts, holding no lock */
    CRASH_DOUBLE_FREE_BIG, /* glibc's arena check aborts holding the arena lock */
};

#endif
