# memory: a helper program compiled on its own against the header that
# `looplive addr --format c` generates (used by tests/memory_header.sh).
# When the command cannot choose an address in this build, the helper is not
# built and addr.err keeps the reason: the shell test fails with it, the rest
# of the build and the other tests go on.
MEMORY_HELPERS := $(BUILD)/tests/memory
TEST_FIXTURES += $(MEMORY_HELPERS)/reserve_from_header

$(MEMORY_HELPERS)/reserve_from_header: tests/memory/reserve_from_header.c $(LIBA) $(CLI)
	@mkdir -p $(@D)
	@rm -f $@ $(@D)/addr.err
	@if $(CLI) addr --self --size 256M --format c >$(@D)/looplive_base.h.tmp 2>$(@D)/addr.err; \
	then mv $(@D)/looplive_base.h.tmp $(@D)/looplive_base.h && rm -f $(@D)/addr.err && \
	  echo "$(CC) ... -o $@ $<" && \
	  $(CC) $(ALL_CFLAGS) -I$(@D) $(LDFLAGS) -o $@ $< $(LIBA) $(LDLIBS); \
	else echo "memory: $@ not built: $$(cat $(@D)/addr.err)" >&2; fi
