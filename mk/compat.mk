# compat.mk - a classic C program (tests/compat/game) built as an
# application library with looplive_compat.h force-included, the way the
# README tells a user to, for tests/compat_replay.sh.

COMPAT_GAME_SRC := $(wildcard tests/compat/game/*.c)
COMPAT_GAME_SO  := $(BUILD)/tests/compat/game.so

$(COMPAT_GAME_SO): $(COMPAT_GAME_SRC) tests/compat/game/world.h include/looplive_compat.h \
                   include/looplive_app.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LL_PATCHABLE) -shared $(LDFLAGS) -include looplive_compat.h -o $@ \
	  $(COMPAT_GAME_SRC)

TEST_FIXTURES += $(COMPAT_GAME_SO)
