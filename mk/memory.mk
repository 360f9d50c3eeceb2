# memory: a helper program compiled on its own against the header that
# `looplive addr --format c` generates (used by tests/memory_header.sh).
MEMORY_HELPERS := $(BUILD)/tests/memory
EXTRA_TARGETS += $(MEMORY_HELPERS)/reserve_from_header

$(MEMORY_HELPERS)/looplive_base.h: $(CLI)
	@mkdir -p $(@D)
	$(CLI) addr --self --size 256M --format c > $@.tmp && mv $@.tmp $@

$(MEMORY_HELPERS)/reserve_from_header: tests/memory/reserve_from_header.c \
		$(MEMORY_HELPERS)/looplive_base.h $(LIBA)
	$(CC) $(ALL_CFLAGS) -I$(MEMORY_HELPERS) $(LDFLAGS) -o $@ $< $(LIBA) $(LDLIBS)
