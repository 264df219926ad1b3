# cloison.efi: Cloison's UEFI loader (boot/efi/), built with Debian's gnu-efi (crt0, linker script,
# libraries) and binutils, and the EFI system partition around it. Included from the Makefile.
# make efi: $(BUILD)/cloison.efi and $(BUILD)/esp/; make esp-img: $(BUILD)/esp.img (FAT32, for dd);
# make run-efi: boots $(BUILD)/esp/ in QEMU with OVMF, COM1 on this terminal.

GNUEFI_INC := /usr/include/efi
GNUEFI_LIB := /usr/lib
OVMF_FD := /usr/share/ovmf/OVMF.fd
EFI_OBJ := $(BUILD)/efi/obj
# The pure parts (efi_cfg, efi_mb2, efi_elf) and kernel helpers compile here as they do for the host.
EFI_SRCS := boot/efi/efi_main.c boot/efi/efi_cfg.c boot/efi/efi_mb2.c boot/efi/efi_elf.c \
	boot/efi/efi_handoff.S kernel/lib.c kernel/fmt.c kernel/cmdline.c
EFI_OBJS := $(patsubst %,$(EFI_OBJ)/%.o,$(EFI_SRCS))
EFI_CFLAGS := -std=gnu11 -O2 -g $(WARNINGS) -I. \
	-ffreestanding -fno-builtin -nostdinc -isystem $(shell $(CC) -print-file-name=include) \
	-isystem $(GNUEFI_INC) -isystem $(GNUEFI_INC)/x86_64 -DGNU_EFI_USE_MS_ABI -DCONFIG_x86_64 \
	-fpic -fshort-wchar -fno-stack-protector -fno-stack-check -fno-strict-aliasing \
	-mno-red-zone -mgeneral-regs-only -maccumulate-outgoing-args -fno-asynchronous-unwind-tables
EFI_LDFLAGS := -nostdlib --no-undefined -shared -Bsymbolic -znocombreloc \
	-T $(GNUEFI_LIB)/elf_x86_64_efi.lds
EFI_SO := $(BUILD)/efi/cloison.so
EFI_APP := $(BUILD)/cloison.efi
ESP_DIR := $(BUILD)/esp
ESP_IMG := $(BUILD)/esp.img
ESP_STAMP := $(BUILD)/efi/esp.stamp
ESP_ARGS ?= console=0x3f8,115200

.PHONY: efi esp-img run-efi
efi: $(EFI_APP) $(ESP_STAMP)

$(EFI_OBJ)/%.c.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(EFI_CFLAGS) -MMD -MP -c $< -o $@

$(EFI_OBJ)/%.S.o: %.S
	@mkdir -p $(dir $@)
	$(CC) -D__ASSEMBLY__ -I. -m64 -g -MMD -MP -c $< -o $@

$(EFI_SO): $(EFI_OBJS) $(GNUEFI_LIB)/crt0-efi-x86_64.o
	$(LD) $(EFI_LDFLAGS) -o $@ $(GNUEFI_LIB)/crt0-efi-x86_64.o $(EFI_OBJS) \
		-L$(GNUEFI_LIB) -lefi -lgnuefi

# PE32+ EFI application (subsystem 10), the sections gnu-efi's linker script lays out.
$(EFI_APP): $(EFI_SO)
	objcopy -j .text -j .sdata -j .data -j .dynamic -j .dynsym -j .rel -j .rela -j .rel.* \
		-j .rela.* -j .reloc --target efi-app-x86_64 --subsystem=10 $< $@

$(ESP_STAMP): $(EFI_APP) $(KERNEL_ELF) $(GUEST_ELFS) boot/efi/mkesp.sh scripts/demo.cfg
	boot/efi/mkesp.sh $(ESP_DIR) $(EFI_APP) $(KERNEL_ELF) '$(ESP_ARGS)' $(DEMO_MODULES)
	@touch $@

# A bare FAT32 file system (no partition table), as firmware reads removable media.
esp-img: $(ESP_IMG)
$(ESP_IMG): $(ESP_STAMP)
	rm -f $@
	truncate -s $$(( ($$(du -sk $(ESP_DIR) | cut -f1) / 1024 + 40) ))M $@
	mformat -i $@ -F -v CLOISON ::
	mcopy -s -i $@ $(ESP_DIR)/EFI ::/

run-efi: deps
	@$(MAKE) --no-print-directory efi
	@echo "run-efi: QEMU (TCG: no VT-x) with OVMF booting $(ESP_DIR)/EFI/BOOT/BOOTX64.EFI; quit with Ctrl-A X"
	qemu-system-x86_64 -accel tcg -cpu Skylake-Client -bios $(OVMF_FD) -m 512 -smp 2 \
		-drive file=fat:rw:$(ESP_DIR),format=raw -net none -nographic -no-reboot \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04

-include $(EFI_OBJS:.o=.d)

# The boot tests (tests/boot_tests_efi.py) boot cloison.efi: `make all` builds it.
all: $(EFI_APP)
