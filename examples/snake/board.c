/* board.c - the rules: food, score, levels, the clock, the keys. */
#include <ncurses.h>
#include <stdlib.h>
#include <time.h>

#include "snake.h"

int food_x, food_y, score, best, level, dead, paused, quit;
long started, play_time;
static int ticks;

static void place_food(void)
{
    do {
        food_x = rand() % BOARD_W;
        food_y = rand() % BOARD_H;
    } while (worm_covers(food_x, food_y));
}

void game_start(void)
{
    worm_new(BOARD_W / 4, BOARD_H / 2);
    place_food();
    score = 0;
    level = 1;
    dead = paused = 0;
    ticks = 0;
    started = time(NULL);
    play_time = 0;
}

void game_step(void)
{
    if (dead || paused) return;
    /* higher levels move on more ticks */
    if (++ticks % (6 - (level < 5 ? level : 5)) != 0) return;
    if (!worm_move()) {
        dead = 1;
        if (score > best) best = score;
        return;
    }
    if (head->x == food_x && head->y == food_y) {
        score += 10 * level;
        growing += 3;
        if (score >= level * 100) level++;
        place_food();
    }
    play_time = time(NULL) - started;
}

void handle_key(int ch)
{
    switch (ch) {
    case KEY_UP:
    case 'w':
        wanted = UP;
        break;
    case KEY_DOWN:
    case 's':
        wanted = DOWN;
        break;
    case KEY_LEFT:
    case 'a':
        wanted = LEFT;
        break;
    case KEY_RIGHT:
    case 'd':
        wanted = RIGHT;
        break;
    case 'p':
        paused = !paused;
        break;
    case 'r':
        if (dead) game_start();
        break;
    case 'q':
        quit = 1;
        break;
    }
}
