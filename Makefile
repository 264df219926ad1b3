# Cloison: build the hypervisor, its test guests, the ISO, and run it or its tests.
# `make run` and `make check` install what they need (scripts/install-deps.sh) first.

BUILD ?= build
CC := gcc
LD := ld
PYTHON ?= python3

WARNINGS := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
# Optimisation is per file (KERNEL_OPT, below the source lists). Nothing walks frame pointers (a
# trap dump prints registers, gdb unwinds from DWARF), so RBP is a general register. Data is
# aligned as the ABI asks, not more (nothing here uses vector loads). Each function and object
# in its own section lets the linker drop what nothing references (--gc-sections).
KERNEL_CFLAGS := -std=gnu11 -g $(WARNINGS) -I. \
	-ffreestanding -fno-builtin -nostdinc -isystem $(shell $(CC) -print-file-name=include) \
	-fno-stack-protector -fno-pic -fno-pie -mno-red-zone -mgeneral-regs-only \
	-mcmodel=small -fno-asynchronous-unwind-tables -fomit-frame-pointer -m64 -mskip-rax-setup \
	-malign-data=abi -ffunction-sections -fdata-sections
KERNEL_ASFLAGS := -D__ASSEMBLY__ -I. -I$(BUILD) -m64 -g
KERNEL_LDFLAGS := -nostdlib -static -no-pie -z max-page-size=0x1000 -z noexecstack -T linker.ld \
	--gc-sections

# Per-directory source lists.
BOOT_SRCS := boot/entry.S boot/mb2.c boot/trampoline.S
KERNEL_SRCS := kernel/main.c kernel/lib.c kernel/err.c kernel/fmt.c kernel/log.c kernel/panic.c \
	kernel/frame.c kernel/idmap.c kernel/mm.c kernel/cpu.c kernel/trap.c kernel/trap_entry.S kernel/mb1.c \
	kernel/guest.c kernel/guest_regs.c kernel/guest_uart.c kernel/cmdline.c kernel/smp.c kernel/config.c kernel/plan.c kernel/sched.c \
	kernel/ring.c kernel/boot_guests.c kernel/cpu_model.c kernel/vcpu_context.c kernel/guest_linux.c kernel/guest_policy.c kernel/console.c kernel/shell.c kernel/shell_cmds.c \
	kernel/line_edit.c
KERNEL_SRCS += kernel/insn.c kernel/pagewalk.c
KERNEL_SRCS += kernel/sanitize.c kernel/txq_share.c
KERNEL_SRCS += kernel/cpuid_cache.c kernel/cpu_timer.c kernel/console_pace.c
VMX_SRCS := vmx/fastpath.c vmx/inject.c vmx/exit_mmio.c vmx/vmx_caps.c vmx/vmx.c vmx/vmcs.c vmx/ept.c vmx/exit.c vmx/exit_io.c \
	vmx/exit_cpuid.c vmx/exit_msr.c vmx/exit_misc.c vmx/vmexit.S vmx/vmx_names.c
DRIVER_SRCS := drivers/rtc.c drivers/virt/vmachine.c drivers/uart.c drivers/virt/vuart.c drivers/platform.c drivers/timer.c drivers/lapic.c drivers/acpi.c drivers/virt/vioapic.c drivers/virt/vpic.c drivers/virt/vpit.c drivers/virt/vrtc.c drivers/virt/vpm.c
DRIVER_SRCS += drivers/virt/vlapic.c
KERNEL_SRCS += kernel/bzimage.c
DRIVER_SRCS += drivers/virt/vacpi.c

KERNEL_ALL := $(BOOT_SRCS) $(KERNEL_SRCS) $(VMX_SRCS) $(DRIVER_SRCS)
KERNEL_OBJS := $(patsubst %,$(BUILD)/obj/%.o,$(KERNEL_ALL))

# Speed where guests wait, size everywhere else (README "Image size"). -O2 for the files on the
# VM-exit and run paths: the exit dispatcher and handlers, injection, the run loop and scheduler,
# the vCPU context, the MMIO decoder and page walker, the devices a running guest touches at
# every turn (UART, local APIC, the machine's port/MMIO routing), the host LAPIC (EOI, timer),
# the memory helpers. The console's side of guest output (guest_uart.c's 128-byte batches, the
# ring, log.c's UART feed) went to -Oz to make room for the exit path's switch (make bench: no
# exit round trip or switch figure changed, Linux boot 1.059x -> 1.060x); exit_misc.c (HLT, CR
# and NMI exits, VMCALL's full path) went to -Oz for the console's register copies on request
# (kernel/guest_regs.c; make bench: no exit round trip changed, LAPIC due->injection 2,607 ->
# 2,611 ticks, the CPU-bound guest beside idle Linux 99.61 -> 99.59 %). Functions,
# jump targets and loops are not padded to 16 bytes there: padding is never executed, so no
# instruction count changes, and it took 3 KiB (Linux on x86-64 packs jumps and loops too).
# Their set-up, dump and error-path functions are marked __attribute__((cold)) (compiled for
# size). Everything else is -Oz (size first), with compare chains instead of jump tables: boot,
# memory set-up, ACPI, the configuration, planner, loaders, shell, printing, and the devices a
# guest programs now and then (PIT, RTC, PIC, I/O APIC, PM timer). make bench against -O2
# everywhere: no exit round trip longer, Linux boot 1.094x -> 1.093x, the boot-time code slower
# (GRUB hand-off to the first guest 2.94 M -> 2.98 M ticks).
KERNEL_HOT_SRCS := vmx/fastpath.c vmx/inject.c vmx/exit.c vmx/exit_io.c vmx/exit_cpuid.c \
	vmx/exit_msr.c vmx/exit_mmio.c \
	kernel/guest.c kernel/sched.c kernel/vcpu_context.c kernel/cpuid_cache.c \
	kernel/insn.c kernel/pagewalk.c kernel/lib.c \
	drivers/virt/vuart.c drivers/virt/vlapic.c drivers/virt/vmachine.c drivers/lapic.c
KERNEL_OPT := -Oz -fno-jump-tables
$(patsubst %,$(BUILD)/obj/%.o,$(KERNEL_HOT_SRCS)): KERNEL_OPT := -O2 -falign-functions=1 \
	-falign-jumps=1 -falign-loops=1
KERNEL_ELF := $(BUILD)/cloison.elf
ISO := $(BUILD)/cloison.iso

.PHONY: all kernel guests iso run run-qemu check unit bench deps clean debug-qemu
all: kernel guests

kernel: $(KERNEL_ELF)

$(BUILD)/obj/%.c.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(KERNEL_OPT) $(KERNEL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/%.S.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(KERNEL_ASFLAGS) -MMD -MP -c $< -o $@

# Structure offsets for assembly, generated from C (kernel/asm_defines.c).
# Every header asm_defines.c includes is a prerequisite (the .d file), so no offset goes stale.
$(BUILD)/asm-defines.h: kernel/asm_defines.c
	@mkdir -p $(dir $@)
	$(CC) $(KERNEL_OPT) $(KERNEL_CFLAGS) -MMD -MP -MF $(BUILD)/asm-defines.d -MT $@ -S -o $(BUILD)/asm_defines.s $<
	sed -n 's/.*->\([A-Z_0-9]*\) \([0-9]*\).*/#define \1 \2/p' $(BUILD)/asm_defines.s > $@
-include $(BUILD)/asm-defines.d
$(BUILD)/obj/vmx/vmexit.S.o: $(BUILD)/asm-defines.h

# The flags above live in this file: objects built with other flags are rebuilt (a few seconds).
$(KERNEL_OBJS) $(BUILD)/asm-defines.h: Makefile

# The map says what --gc-sections kept, file by file (make bench's size rows read it).
$(KERNEL_ELF): $(KERNEL_OBJS) linker.ld
	$(LD) $(KERNEL_LDFLAGS) -Map=$(BUILD)/cloison.map -o $@ $(KERNEL_OBJS)

-include $(KERNEL_OBJS:.o=.d)

# Test guests (freestanding 32-bit Multiboot kernels).
include tests/guests/guests.mk

# Host unit tests, built with sanitizers.
include tests/unit/unit.mk
HOST_CFLAGS := -std=gnu11 -O1 -g $(WARNINGS) -Wno-missing-prototypes -I. -DHOST_TEST \
	-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
UNIT_BINS := $(patsubst %,$(BUILD)/unit/test_%,$(UNIT_NAMES))
define unit_rule
$(BUILD)/unit/test_$(1): tests/unit/test_$(1).c $(UNIT_$(1)) kernel/lib.c kernel/err.c tests/unit/test.h
	@mkdir -p $$(dir $$@)
	$(CC) $(HOST_CFLAGS) -o $$@ tests/unit/test_$(1).c $(UNIT_$(1)) kernel/lib.c kernel/err.c
endef
$(foreach n,$(UNIT_NAMES),$(eval $(call unit_rule,$(n))))

unit: $(UNIT_BINS)
	@for t in $(UNIT_BINS); do $$t || exit 1; done

# The demo: four guests on two CPUs, declared in scripts/demo.cfg (see README "Configuration").
# Two Linux guests (Debian's 6.1 and 6.12 kernels, `make linux-guests`) and Multiboot guests.
LINUX_GUESTS := $(BUILD)/linux/vmlinuz-6.1 $(BUILD)/linux/vmlinuz-6.12 $(BUILD)/linux/initrd-busybox.cpio.gz
DEMO_MODULES := $(BUILD)/linux/vmlinuz-6.1 vmlinuz-6.1 $(BUILD)/linux/vmlinuz-6.12 vmlinuz-6.12 \
	$(BUILD)/linux/initrd-busybox.cpio.gz initrd \
	$(BUILD)/guests/demo.elf demo $(BUILD)/guests/echo.elf echo \
	$(BUILD)/guests/counter.elf counter $(BUILD)/guests/hcall.elf hcall scripts/demo.cfg config
iso: $(ISO)
$(ISO): $(KERNEL_ELF) $(GUEST_ELFS) $(LINUX_GUESTS) scripts/mkiso.sh scripts/demo.cfg
	scripts/mkiso.sh $@ $(KERNEL_ELF) '' $(DEMO_MODULES)
$(LINUX_GUESTS):
	@scripts/linux-guests.sh $(BUILD)

deps:
	@scripts/install-deps.sh

run: deps
	@$(MAKE) --no-print-directory $(ISO)
	scripts/run-bochs.sh $(ISO) 2

run-qemu: deps
	@$(MAKE) --no-print-directory $(ISO)
	scripts/run-qemu.sh $(ISO)

check: deps
	@$(MAKE) --no-print-directory all $(UNIT_BINS) $(LINUX_GUESTS)
	@$(PYTHON) tests/run.py --build $(BUILD)

# Debian's 6.1 and 6.12 cloud kernels and a busybox initramfs for Linux guests, in $(BUILD)/linux
.PHONY: linux-guests
linux-guests:
	@scripts/linux-guests.sh $(BUILD)

clean:
	rm -rf $(BUILD)

include tests/fuzz/fuzz.mk
-include tests/bench/bench.mk
include boot/efi/efi.mk
include tests/soak.mk
