# module.mk - the libraries the module tests load, in several builds of one
# source (tests/module/libmod.c). Plain flags on purpose: they are loaded by
# the sanitized tests too, and a sanitizer would catch the faults they are
# meant to raise.
MODULE_TEST_DIR := $(BUILD)/tests/module
MODULE_LIB_CFLAGS := -std=gnu11 -shared -fPIC -O1 -g -Wall -Wextra -Werror -Iinclude
MODULE_TEST_LIBS := $(MODULE_TEST_DIR)/libmod_v1.so $(MODULE_TEST_DIR)/libmod_v2.so \
  $(MODULE_TEST_DIR)/libmod_v3.so $(MODULE_TEST_DIR)/libmod_missing.so \
  $(MODULE_TEST_DIR)/libmod_unresolved.so $(MODULE_TEST_DIR)/libmod_patchable.so

TEST_FIXTURES += $(MODULE_TEST_LIBS)

$(MODULE_TEST_DIR)/libmod_v%.so: tests/module/libmod.c include/looplive.h mk/module.mk
	@mkdir -p $(@D)
	$(CC) $(MODULE_LIB_CFLAGS) -DVERSION=$* -o $@ $<

$(MODULE_TEST_DIR)/libmod_missing.so: tests/module/libmod.c include/looplive.h mk/module.mk
	@mkdir -p $(@D)
	$(CC) $(MODULE_LIB_CFLAGS) -DVERSION=4 -DMISSING -o $@ $<

$(MODULE_TEST_DIR)/libmod_unresolved.so: tests/module/libmod.c include/looplive.h mk/module.mk
	@mkdir -p $(@D)
	$(CC) $(MODULE_LIB_CFLAGS) -DVERSION=5 -DUNRESOLVED -o $@ $<

# Version 6 with the entry padding `looplive run --build` uses: every
# function can hold a jump.
$(MODULE_TEST_DIR)/libmod_patchable.so: tests/module/libmod.c include/looplive.h mk/module.mk
	@mkdir -p $(@D)
	$(CC) $(MODULE_LIB_CFLAGS) $(LL_PATCHABLE) -DVERSION=6 -o $@ $<

# test_module_wx makes mprotect refuse to make code writable, as an SELinux
# execmod or W^X policy does.
$(BUILD)/tests/test_module_wx: override LDFLAGS += -Wl,--wrap=mprotect
