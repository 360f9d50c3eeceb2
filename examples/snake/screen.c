/* screen.c - drawing with curses: the walls, the worm, the food, the score. */
#include <ncurses.h>

#include "snake.h"

enum { WORM = 1, FOOD, WALL, TITLE, DEAD };

static WINDOW *board;

void screen_init(void)
{
    initscr();
    cbreak();
    noecho();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    curs_set(0);
    if (has_colors()) {
        start_color();
        init_pair(WORM, COLOR_GREEN, COLOR_BLACK);
        init_pair(FOOD, COLOR_RED, COLOR_BLACK);
        init_pair(WALL, COLOR_CYAN, COLOR_BLACK);
        init_pair(TITLE, COLOR_BLACK, COLOR_YELLOW);
        init_pair(DEAD, COLOR_WHITE, COLOR_RED);
    }
    board = newwin(BOARD_H + 2, BOARD_W + 2, 2, 0);
}

static void draw_status(void)
{
    attron(COLOR_PAIR(TITLE) | A_BOLD);
    mvprintw(0, 0, " SNAKE  score %-5d level %d  best %-5d time %3lds ", score, level, best,
             play_time);
    attroff(COLOR_PAIR(TITLE) | A_BOLD);
    mvprintw(1, 0, "arrows/wasd move  p pause  q quit");
}

static void draw_board(void)
{
    werase(board);
    wattron(board, COLOR_PAIR(WALL));
    box(board, 0, 0);
    wattroff(board, COLOR_PAIR(WALL));
    wattron(board, COLOR_PAIR(FOOD) | A_BOLD);
    mvwaddch(board, food_y + 1, food_x + 1, ACS_DIAMOND);
    wattroff(board, COLOR_PAIR(FOOD) | A_BOLD);
    for (struct segment *s = head; s; s = s->next)
        mvwaddch(board, s->y + 1, s->x + 1,
                 (s == head ? '@' : 'o') | COLOR_PAIR(WORM) | (s == head ? A_BOLD : 0));
    if (paused) mvwprintw(board, BOARD_H / 2, BOARD_W / 2 - 3, "PAUSED");
    if (dead) {
        wattron(board, COLOR_PAIR(DEAD) | A_REVERSE);
        mvwprintw(board, BOARD_H / 2, BOARD_W / 2 - 12, " GAME OVER - r again, q quit ");
        wattroff(board, COLOR_PAIR(DEAD) | A_REVERSE);
    }
}

void screen_draw(void)
{
    erase();
    draw_status();
    draw_board();
    wnoutrefresh(stdscr);
    wnoutrefresh(board);
    doupdate();
}

void screen_end(void)
{
    delwin(board);
    endwin();
}
