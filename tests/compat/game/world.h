/* world.h - the classic program's data. */
#ifndef WORLD_H
#define WORLD_H

typedef struct creature {
    char *name;
    int hp;
    struct creature *next;
} creature;

typedef struct world {
    creature *head;
    int count;
    int *cells;
    int used, cap;
    long last_clock;
    long now;
} world;

world *world_new(void);
void world_step(world *w, int spawns);

#endif
