# Host unit tests: one program per subject, each linked with the pure sources it tests.
# UNIT_<name> lists the sources besides tests/unit/test_<name>.c.
# Every program also links kernel/lib.c and kernel/err.c.
UNIT_NAMES := fmt mb2 frame vmx_caps ept vuart mb1 config plan sched acpi

UNIT_fmt := kernel/fmt.c
UNIT_mb2 := boot/mb2.c
UNIT_frame := kernel/frame.c
UNIT_vmx_caps := vmx/vmx_caps.c
UNIT_ept := vmx/ept.c
UNIT_vuart := drivers/virt/vuart.c
UNIT_mb1 := kernel/mb1.c
UNIT_acpi := drivers/acpi.c kernel/fmt.c
UNIT_config := kernel/config.c kernel/plan.c kernel/frame.c kernel/cmdline.c kernel/fmt.c
UNIT_plan := kernel/plan.c kernel/config.c kernel/frame.c kernel/cmdline.c kernel/fmt.c
UNIT_sched := kernel/sched.c
UNIT_NAMES += ring line_edit shell
UNIT_ring := kernel/ring.c
UNIT_line_edit := kernel/line_edit.c
UNIT_shell := kernel/shell.c kernel/shell_cmds.c kernel/line_edit.c kernel/fmt.c vmx/vmx_names.c
UNIT_NAMES += cpu_model
UNIT_cpu_model := kernel/cpu_model.c
UNIT_NAMES += vioapic
UNIT_vioapic := drivers/virt/vioapic.c
# MMIO instruction decoder: expected results come from objdump (tests/unit/gen_insn_cases.py).
UNIT_NAMES += insn
UNIT_insn := kernel/insn.c $(BUILD)/unit/insn_cases.c
$(BUILD)/unit/insn_cases.c: tests/unit/gen_insn_cases.py tests/unit/insn_cases.S
	@mkdir -p $(dir $@)
	$(PYTHON) tests/unit/gen_insn_cases.py tests/unit/insn_cases.S $@
UNIT_NAMES += vpic
UNIT_vpic := drivers/virt/vpic.c
UNIT_NAMES += efi_cfg efi_mmap
UNIT_efi_cfg := boot/efi/efi_cfg.c kernel/fmt.c
UNIT_efi_mmap := boot/efi/efi_mb2.c boot/efi/efi_elf.c boot/mb2.c kernel/fmt.c
UNIT_NAMES += idmap
UNIT_idmap := kernel/idmap.c
UNIT_NAMES += vpit
UNIT_vpit := drivers/virt/vpit.c
UNIT_NAMES += sanitize txq_share
UNIT_sanitize := kernel/sanitize.c
UNIT_txq_share := kernel/txq_share.c kernel/fmt.c
UNIT_NAMES += vlapic
UNIT_vlapic := drivers/virt/vlapic.c
UNIT_NAMES += pagewalk
UNIT_pagewalk := kernel/pagewalk.c
UNIT_NAMES += bzimage vacpi
UNIT_bzimage := kernel/bzimage.c kernel/fmt.c
UNIT_vacpi := drivers/virt/vacpi.c drivers/acpi.c kernel/fmt.c
# Not part of `make unit` (needs `make linux-guests`): loads the real Debian kernels with kernel/bzimage.c.
# make BUILD=b b/unit/check_bzimage_real && b/unit/check_bzimage_real b/linux/vmlinuz-* --initrd b/linux/initrd-busybox.cpio.gz
$(BUILD)/unit/check_bzimage_real: tests/unit/check_bzimage_real.c kernel/bzimage.c drivers/virt/vacpi.c kernel/fmt.c kernel/lib.c kernel/err.c
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -o $@ $^
UNIT_NAMES += vrtc
UNIT_vrtc := drivers/virt/vrtc.c
UNIT_NAMES += vpm
UNIT_vpm := drivers/virt/vpm.c
UNIT_NAMES += vmachine
UNIT_vmachine := drivers/virt/vmachine.c drivers/virt/vlapic.c drivers/virt/vioapic.c drivers/virt/vpic.c drivers/virt/vpit.c drivers/virt/vrtc.c drivers/virt/vpm.c
UNIT_NAMES += cpuid_cache
UNIT_cpuid_cache := kernel/cpuid_cache.c
UNIT_NAMES += console_pace
UNIT_console_pace := kernel/console_pace.c
UNIT_NAMES += guest_uart
UNIT_guest_uart := kernel/guest_uart.c kernel/ring.c drivers/virt/vuart.c
