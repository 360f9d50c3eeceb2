/* snake.c - the worm: a list of segments from the head to the tail. */
#include <stdlib.h>

#include "snake.h"

struct segment *head;
int length, growing;
enum dir heading, wanted;

static struct segment *segment_new(int x, int y, struct segment *next)
{
    struct segment *s = malloc(sizeof *s);
    if (!s) abort();
    s->x = x;
    s->y = y;
    s->next = next;
    return s;
}

void worm_free(void)
{
    while (head) {
        struct segment *next = head->next;
        free(head);
        head = next;
    }
    length = 0;
}

void worm_new(int x, int y)
{
    worm_free();
    /* tail first: the head ends up at x + START_LEN - 1, facing right */
    for (int i = 0; i < START_LEN; i++) head = segment_new(x + i, y, head);
    length = START_LEN;
    growing = 0;
    heading = wanted = RIGHT;
}

int worm_covers(int x, int y)
{
    for (struct segment *s = head; s; s = s->next)
        if (s->x == x && s->y == y) return 1;
    return 0;
}

static int opposite(enum dir a, enum dir b)
{
    return (a == UP && b == DOWN) || (a == DOWN && b == UP) || (a == LEFT && b == RIGHT) ||
           (a == RIGHT && b == LEFT);
}

int worm_move(void)
{
    if (!opposite(wanted, heading)) heading = wanted;
    int x = head->x, y = head->y;
    switch (heading) {
    case UP:
        y--;
        break;
    case DOWN:
        y++;
        break;
    case LEFT:
        x--;
        break;
    case RIGHT:
        x++;
        break;
    }
    if (x < 0 || y < 0 || x >= BOARD_W || y >= BOARD_H) return 0;
    if (growing) {
        growing--;
        length++;
    } else {
        /* drop the tail */
        struct segment **p = &head;
        while ((*p)->next) p = &(*p)->next;
        free(*p);
        *p = NULL;
    }
    if (worm_covers(x, y)) return 0;
    head = segment_new(x, y, head);
    return 1;
}
