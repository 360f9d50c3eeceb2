/* world.c - a piece of a classic C program, written as such programs are:
 * malloc'd lists, strdup'd names, rand seeded from time, a clock read. It
 * knows nothing of looplive; tests build it with -include looplive_compat.h. */
#include "world.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const names[] = {"ant", "bee", "cat", "dog", "eel", "fox"};

world *world_new(void)
{
    world *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    srand((unsigned)time(NULL));
    w->cap = 4;
    w->cells = malloc(w->cap * sizeof *w->cells);
    return w->cells ? w : NULL;
}

static void spawn(world *w)
{
    creature *c = malloc(sizeof *c);
    if (!c) return;
    c->name = strdup(names[rand() % 6]);
    c->hp = rand() % 100;
    c->next = w->head;
    w->head = c;
    w->count++;
    if (w->used == w->cap) {
        w->cap *= 2;
        w->cells = realloc(w->cells, w->cap * sizeof *w->cells);
    }
    w->cells[w->used++] = (int)random();
}

static void cull(world *w)
{
    creature **p = &w->head;
    while (*p) {
        if ((*p)->hp < 10) {
            creature *dead = *p;
            *p = dead->next;
            free(dead->name);
            free(dead);
            w->count--;
        } else {
            (*p)->hp -= rand() % 7;
            p = &(*p)->next;
        }
    }
}

void world_step(world *w, int spawns)
{
    for (int i = 0; i < spawns; i++) spawn(w);
    cull(w);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    w->last_clock = (long)clock() + ts.tv_nsec;
    w->now = time(NULL);
    if (w->used > 256) w->used = 0;
}
