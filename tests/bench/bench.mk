# Benchmarks (README "Benchmarks"): the benchmark guest, the Linux KVM peer's runner, and the
# `bench` and `bench-peer` targets. Included from the top-level Makefile after tests/guests/guests.mk,
# whose flags, entry code and library the benchmark guest links with.
BENCH_DIR := tests/bench
BENCH_GUEST := $(BUILD)/guests/bench.elf
BENCH_GUEST_OBJ := $(GUEST_OBJ)/bench/bench.c.o
BENCH_RUNNER := $(BUILD)/bench/kvm_runner
BENCH_RUNNER_SRCS := $(BENCH_DIR)/kvm_runner.c kernel/mb1.c kernel/lib.c kernel/err.c
# The peer's runner links statically against glibc and includes <linux/kvm.h>. Its Linux kernel and
# busybox are downloaded with apt-get download by scripts/bench-peer.sh, not installed.
BENCH_PEER_PACKAGES := libc6-dev

.PHONY: bench bench-peer
guests: $(BENCH_GUEST)

$(BENCH_GUEST_OBJ): $(BENCH_DIR)/bench.c
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -MMD -MP -c $< -o $@

$(BENCH_GUEST): $(GUEST_ENTRY_ELF) $(BENCH_GUEST_OBJ) $(GUEST_LIB_OBJS) $(GUEST_DIR)/guest.ld
	$(LD) $(GUEST_LDFLAGS) -o $@ $(GUEST_ENTRY_ELF) $(BENCH_GUEST_OBJ) $(GUEST_LIB_OBJS)

# The KVM peer's user-space side: a static program for the initramfs; loads the guest with kernel/mb1.c.
$(BENCH_RUNNER): $(BENCH_RUNNER_SRCS) kernel/mb1.h kernel/lib.h kernel/hypercall.h
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -static $(WARNINGS) -Wno-missing-prototypes -I. -DHOST_TEST -o $@ $(BENCH_RUNNER_SRCS)

# Runs every benchmark (the KVM peer too once `make bench-peer` has fetched its kernel).
bench: deps
	@$(MAKE) --no-print-directory $(KERNEL_ELF) $(BENCH_GUEST) \
		$(if $(wildcard $(BUILD)/bench/peer/vmlinuz),$(BENCH_RUNNER))
	@$(PYTHON) $(BENCH_DIR)/bench.py --build $(BUILD)

# Fetches the peer's Linux kernel and busybox once, then runs every benchmark with the peer.
bench-peer:
	@EXTRA_PACKAGES="$(BENCH_PEER_PACKAGES)" scripts/install-deps.sh
	@$(MAKE) --no-print-directory $(KERNEL_ELF) $(BENCH_GUEST) $(BENCH_RUNNER)
	@scripts/bench-peer.sh $(BUILD)
	@$(PYTHON) $(BENCH_DIR)/bench.py --build $(BUILD) --peer

-include $(BENCH_GUEST_OBJ:.o=.d)
