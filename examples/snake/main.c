/* main.c - snake: eat the diamonds, do not bite yourself or the walls.
 * Build: cc -o snake main.c snake.c board.c screen.c -lncurses */
#include <ncurses.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "snake.h"

int main(void)
{
    srand((unsigned)time(NULL));
    screen_init();
    game_start();
    while (!quit) {
        int ch;
        while ((ch = getch()) != ERR) handle_key(ch);
        game_step();
        screen_draw();
        napms(TICK_MS);
    }
    screen_end();
    worm_free();
    printf("snake: score %d, best %d\n", score, best);
    return 0;
}
