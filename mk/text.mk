# text.mk - the text layer's extras: the snake example (a terminal game
# written for ncurses, built unchanged as an application library with its
# glue in examples/snake/looplive/), and the test application of the text
# API and of ll_app's version 3 fields.

# The game's own files; main.c is its ncurses main loop, which the glue
# replaces under looplive.
SNAKE_SRC  := examples/snake/snake.c examples/snake/board.c examples/snake/screen.c \
              examples/snake/looplive/glue.c
SNAKE_SO   := $(BUILD)/examples/snake.so
SNAKE_FLAGS = -Iexamples/snake/looplive -include looplive_compat.h

$(SNAKE_SO): $(SNAKE_SRC) examples/snake/snake.h examples/snake/looplive/ncurses.h \
             include/looplive_text.h include/looplive_app.h include/looplive_compat.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LL_PATCHABLE) $(SNAKE_FLAGS) -shared $(LDFLAGS) -o $@.tmp $(SNAKE_SRC) \
	  && mv $@.tmp $@

EXTRA_TARGETS += $(SNAKE_SO)
# tests/text_snake.sh also builds the game as it was written, with ncurses.
TEST_PKGS += libncurses-dev

$(BUILD)/tests/text_app.so: tests/text_app.c include/looplive_text.h include/looplive_app.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -shared $(LDFLAGS) -o $@.tmp $< && mv $@.tmp $@
$(BUILD)/tests/text_app_v2.so: tests/text_app.c include/looplive_text.h include/looplive_app.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -shared $(LDFLAGS) -DV2_TABLE -o $@.tmp $< && mv $@.tmp $@
TEST_FIXTURES += $(BUILD)/tests/text_app.so $(BUILD)/tests/text_app_v2.so
