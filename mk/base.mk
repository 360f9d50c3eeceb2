# base.mk - test_base_file records and fails fsync (files and directories)
# to see that a save syncs the file, then its directory.
$(BUILD)/tests/test_base_file: override LDFLAGS += -Wl,--wrap=fsync
