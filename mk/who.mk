# who.mk - who wrote this value (`looplive replay --who-wrote`): libdw's
# headers for the DWARF lines (libdw itself is loaded with dlopen), and the
# test application built with -g (lines) and without (symbol + offset), and
# a wrapper that makes the kernel refuse breakpoints.

BUILD_PKGS += libdw-dev

WHO_TEST_APPS := $(BUILD)/tests/who/app.so $(BUILD)/tests/who/app_nog.so $(BUILD)/tests/who/noperf

$(BUILD)/tests/who/app.so: tests/who/app.c include/looplive.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -g -shared $(LDFLAGS) -o $@ $<
$(BUILD)/tests/who/app_nog.so: tests/who/app.c include/looplive.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -g0 -shared $(LDFLAGS) -o $@ $<

# Runs a command where perf_event_open fails (seccomp), as in a container.
$(BUILD)/tests/who/noperf: tests/who/noperf.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $<

TEST_FIXTURES += $(WHO_TEST_APPS)
