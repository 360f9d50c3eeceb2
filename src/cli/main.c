/* main.c - `looplive COMMAND ...`: dispatches to the subcommands. */
#include "cli/cli.h"

#include <stdarg.h>
#include <string.h>
#include <unistd.h>

/* Subcommands are linked in from their own files; weak so that the command
 * still builds while one is being written. */
#pragma weak cli_addr
#pragma weak cli_replay
#pragma weak cli_run

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *summary;
} commands[] = {
    {"addr", cli_addr, "choose a static base address for the memory block"},
    {"run", cli_run, "run an application library with hot reload and loop-live editing"},
    {"replay", cli_replay, "replay a recording headless; print, check or compare state hashes"},
};

int cli_error(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("looplive: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return status;
}

void cli_die_unsafe(const char *a, const char *b, const char *c, const char *msg)
{
    const char *parts[] = {"looplive: ", a, b, c, msg, "\n"};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        ssize_t w = write(2, parts[i], strlen(parts[i]));
        (void)w;
    }
    _exit(1);
}

static void usage(FILE *out)
{
    fprintf(out, "usage: looplive COMMAND [OPTIONS]\n\n"
                 "Loop-live code editing on Linux: one memory block at a static address,\n"
                 "snapshots, hot reload, record and loop.\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (commands[i].fn) fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'looplive COMMAND --help' describes a command. See looplive(1).\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
        printf("looplive %s\n", LOOPLIVE_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (commands[i].fn && !strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    return cli_error(2, "unknown command '%s' (try: looplive --help)", argv[1]);
}
