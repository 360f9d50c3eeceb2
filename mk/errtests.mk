# errtests.mk - helpers for the error-message tests: a fake libSDL2 (whole
# and partial) for the SDL platform's failures, link-time wrappers that make
# one system call fail, and small applications for `looplive replay`.

$(BUILD)/tests/fake_sdl.so: tests/faults/fake_sdl.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -shared $(LDFLAGS) -o $@ $<
$(BUILD)/tests/fake_sdl_partial.so: tests/faults/fake_sdl.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -shared $(LDFLAGS) -DPARTIAL -o $@ $<

# Applications whose init fails, that have no update function, that
# crash when a frame is run a second time (as the determinism check does),
# and that crash in render (replay --frames).
REPLAY_FAULT_APPS := $(BUILD)/tests/replay_init_fails.so $(BUILD)/tests/replay_no_update.so \
                     $(BUILD)/tests/replay_rerun_crash.so $(BUILD)/tests/replay_render_crash.so
$(BUILD)/tests/replay_%.so: tests/faults/replay_app.c include/looplive.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -shared $(LDFLAGS) -DFAULT_$(subst -,_,$*) -o $@ $<

TEST_FIXTURES += $(BUILD)/tests/fake_sdl.so $(BUILD)/tests/fake_sdl_partial.so $(REPLAY_FAULT_APPS)

# test_host_faults makes inotify_init1, posix_spawn and tcgetattr fail on
# demand; test_maps_faults makes PTRACE_TRACEME fail.
$(BUILD)/tests/test_host_faults: override LDFLAGS += -Wl,--wrap=inotify_init1 \
    -Wl,--wrap=posix_spawn -Wl,--wrap=tcgetattr -Wl,--wrap=pipe2
$(BUILD)/tests/test_maps_faults: override LDFLAGS += -Wl,--wrap=ptrace

# An application that faults on demand in every way crash protection knows
# (tests/host_faults.sh). Plain flags: a sanitizer would stop the faults
# before they happen.
$(BUILD)/tests/fault_app.so: tests/faults/fault_app.c include/looplive.h
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -shared -fPIC -O1 -g -Wall -Wextra -Werror -Wno-unused-parameter -Iinclude -o $@ $<

$(BUILD)/tests/fault_app_harmless.so: tests/faults/fault_app.c include/looplive.h
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -shared -fPIC -O1 -g -Wall -Wextra -Werror -Wno-unused-parameter -Iinclude -DP_HARMLESS -o $@ $<

$(BUILD)/tests/fault_app_abort_in_table.so: tests/faults/fault_app.c include/looplive.h
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -shared -fPIC -O1 -g -Wall -Wextra -Werror -Wno-unused-parameter -Iinclude -DABORT_IN_TABLE -o $@ $<

TEST_FIXTURES += $(BUILD)/tests/fault_app.so $(BUILD)/tests/fault_app_harmless.so \
                 $(BUILD)/tests/fault_app_abort_in_table.so
