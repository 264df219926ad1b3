# make soak: the long form of the boot test soak-restarts (tests/boot_tests_bigmem.py): 1,000
# restarts of a guest from the shell while its neighbour checks its memory; make check runs 100.
SOAK_RESTARTS ?= 1000
.PHONY: soak
soak: deps
	@$(MAKE) --no-print-directory all
	SOAK_RESTARTS=$(SOAK_RESTARTS) $(PYTHON) tests/run.py --build $(BUILD) --only soak-restarts --no-unit
