# who.mk - who wrote this value (`looplive replay --who-wrote`): libdw's
# headers for the DWARF lines (libdw itself is loaded with dlopen), and the
# test application built with -g (lines) and without (symbol + offset).

BUILD_PKGS += libdw-dev

WHO_TEST_APPS := $(BUILD)/tests/who/app.so $(BUILD)/tests/who/app_nog.so

$(BUILD)/tests/who/app.so: tests/who/app.c include/looplive.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -g -shared $(LDFLAGS) -o $@ $<
$(BUILD)/tests/who/app_nog.so: tests/who/app.c include/looplive.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -g0 -shared $(LDFLAGS) -o $@ $<

TEST_FIXTURES += $(WHO_TEST_APPS)
