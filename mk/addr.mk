# addr: helper programs the maps/advise tests launch. Built without the
# sanitizers on purpose: they are the subjects whose layout is sampled, and
# ASan's own fixed mappings would change what is being measured.
ADDR_HELPER_CFLAGS := -std=gnu11 -O2 -Wall -Wextra -Werror
ADDR_HELPERS := $(BUILD)/tests/addr_probe_pie $(BUILD)/tests/addr_probe_nopie \
  $(BUILD)/tests/addr_probe_static $(BUILD)/tests/addr_probe_spie \
  $(BUILD)/tests/addr_reserve_pie $(BUILD)/tests/addr_reserve_nopie
TEST_FIXTURES += $(ADDR_HELPERS)

$(BUILD)/tests/addr_probe_pie: tests/addr/probe.c
	@mkdir -p $(@D)
	$(CC) $(ADDR_HELPER_CFLAGS) -fPIE -pie -o $@ $<
$(BUILD)/tests/addr_probe_nopie: tests/addr/probe.c
	@mkdir -p $(@D)
	$(CC) $(ADDR_HELPER_CFLAGS) -fno-pie -no-pie -o $@ $<
$(BUILD)/tests/addr_probe_static: tests/addr/probe.c
	@mkdir -p $(@D)
	$(CC) $(ADDR_HELPER_CFLAGS) -fno-pie -static -o $@ $<
$(BUILD)/tests/addr_probe_spie: tests/addr/probe.c
	@mkdir -p $(@D)
	$(CC) $(ADDR_HELPER_CFLAGS) -fPIE -static-pie -o $@ $<
$(BUILD)/tests/addr_reserve_pie: tests/addr/reserve.c
	@mkdir -p $(@D)
	$(CC) $(ADDR_HELPER_CFLAGS) -fPIE -pie -o $@ $<
$(BUILD)/tests/addr_reserve_nopie: tests/addr/reserve.c
	@mkdir -p $(@D)
	$(CC) $(ADDR_HELPER_CFLAGS) -fno-pie -no-pie -o $@ $<
