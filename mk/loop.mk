# loop.mk - the demo application examples/bounce, built as a shared library
# that `looplive replay` and `looplive run` load.

BOUNCE_SRC := $(wildcard examples/bounce/*.c)
BOUNCE_SO  := $(BUILD)/examples/bounce.so

$(BOUNCE_SO): $(BOUNCE_SRC) examples/bounce/bounce.h include/looplive.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -shared $(LDFLAGS) -o $@ $(BOUNCE_SRC)

EXTRA_TARGETS += $(BOUNCE_SO)
