# Test guests: freestanding 32-bit Multiboot (v1) kernels, linked at 1 MiB, one .c file each
# plus the small library in tests/guests/lib/. Included from the top-level Makefile.
GUEST_NAMES := demo aout eptpast triple vmxon hcall halt spin memhog probe lapic ports counter echo fpu cr8 dregs fresh xsave hostres features ipi realmode
GUEST_NAMES += neighbour forge flood
GUEST_NAMES += exitloop
# Guests whose header uses the a.out kludge (flag 16) instead of the ELF program headers.
GUEST_AOUT_NAMES := aout
GUEST_ELFS := $(patsubst %,$(BUILD)/guests/%.elf,$(GUEST_NAMES))

GUEST_DIR := tests/guests
GUEST_OBJ := $(BUILD)/guests/obj
GUEST_CFLAGS := -m32 -march=i686 -std=gnu11 -O2 -g -ffreestanding -fno-pic -fno-pie \
	-fno-stack-protector -fno-builtin -fno-asynchronous-unwind-tables \
	-nostdinc -isystem $(shell $(CC) -print-file-name=include) \
	-Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -I.
GUEST_ASFLAGS := -m32 -march=i686 -D__ASSEMBLY__ -I. -g
GUEST_LDFLAGS := -m elf_i386 -nostdlib -static -z max-page-size=0x1000 --no-warn-rwx-segments \
	-T $(GUEST_DIR)/guest.ld

GUEST_LIB_SRCS := guest.c uart.c printf.c string.c idt.c cmdline.c longmode.c trap.S
GUEST_LIB_OBJS := $(patsubst %,$(GUEST_OBJ)/lib/%.o,$(GUEST_LIB_SRCS))
GUEST_ENTRY_ELF := $(GUEST_OBJ)/lib/entry.S.o
GUEST_ENTRY_AOUT := $(GUEST_OBJ)/lib/entry-aout.S.o
GUEST_ALL_OBJS := $(GUEST_LIB_OBJS) $(GUEST_ENTRY_ELF) $(GUEST_ENTRY_AOUT) \
	$(patsubst %,$(GUEST_OBJ)/%.c.o,$(GUEST_NAMES))

guests: $(GUEST_ELFS)

$(GUEST_OBJ)/%.c.o: $(GUEST_DIR)/%.c
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -MMD -MP -c $< -o $@

$(GUEST_OBJ)/%.S.o: $(GUEST_DIR)/%.S
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_ASFLAGS) -MMD -MP -c $< -o $@

$(GUEST_ENTRY_AOUT): $(GUEST_DIR)/lib/entry.S
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_ASFLAGS) -DGUEST_AOUT_KLUDGE -MMD -MP -c $< -o $@

guest_entry = $(if $(filter $(1),$(GUEST_AOUT_NAMES)),$(GUEST_ENTRY_AOUT),$(GUEST_ENTRY_ELF))

define guest_rule
$(BUILD)/guests/$(1).elf: $(call guest_entry,$(1)) $(GUEST_OBJ)/$(1).c.o $(GUEST_LIB_OBJS) \
		$(GUEST_DIR)/guest.ld
	$(LD) $(GUEST_LDFLAGS) -o $$@ $(call guest_entry,$(1)) $(GUEST_OBJ)/$(1).c.o $(GUEST_LIB_OBJS)
endef
$(foreach n,$(GUEST_NAMES),$(eval $(call guest_rule,$(n))))

-include $(GUEST_ALL_OBJS:.o=.d)

# low: a guest linked at 0x8000 (guest.ld moved down), for the Multiboot loader's placement of
# its information block (tests/boot_tests_console.py).
GUEST_LOW_LD := $(BUILD)/guests/low.ld
$(GUEST_LOW_LD): $(GUEST_DIR)/guest.ld
	@mkdir -p $(dir $@)
	sed 's/^\t\. = 0x100000;$$/\t. = 0x8000;/' $< > $@
	grep -q '0x8000;' $@
$(BUILD)/guests/low.elf: $(GUEST_ENTRY_ELF) $(GUEST_OBJ)/low.c.o $(GUEST_LIB_OBJS) $(GUEST_LOW_LD)
	$(LD) $(filter-out -T $(GUEST_DIR)/guest.ld,$(GUEST_LDFLAGS)) -T $(GUEST_LOW_LD) -o $@ \
		$(GUEST_ENTRY_ELF) $(GUEST_OBJ)/low.c.o $(GUEST_LIB_OBJS)
guests: $(BUILD)/guests/low.elf
-include $(GUEST_OBJ)/low.c.d
