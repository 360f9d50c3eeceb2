/* What the game's #include <ncurses.h> finds under looplive: ncurses' names over the canvas. */
#define LOOPLIVE_CURSES
#include <looplive_text.h>
