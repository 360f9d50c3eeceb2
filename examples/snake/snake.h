/* snake.h - a worm that eats and grows, in a box, in a terminal. */
#ifndef SNAKE_H
#define SNAKE_H

#define BOARD_W   40 /* cells inside the walls */
#define BOARD_H   16
#define TICK_MS   20 /* one turn of the main loop */
#define START_LEN 4

enum dir { UP, DOWN, LEFT, RIGHT };

struct segment {
    int x, y;
    struct segment *next; /* towards the tail */
};

/* snake.c */
extern struct segment *head;
extern int length, growing;
extern enum dir heading, wanted;
void worm_new(int x, int y);
void worm_free(void);
int worm_covers(int x, int y);
int worm_move(void); /* 0: it hit something */

/* board.c */
extern int food_x, food_y, score, best, level, dead, paused, quit;
extern long started, play_time;
void game_start(void);
void game_step(void);
void handle_key(int ch);

/* screen.c */
void screen_init(void);
void screen_draw(void);
void screen_end(void);

#endif
