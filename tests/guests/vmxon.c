/* vmxon: runs VMXON with CR4 as it finds it; in VMX non-root that exits and the hypervisor
 * should reflect #UD, which is also what bare hardware gives with CR4.VMXE clear. */
#include "tests/guests/lib/guest.h"

#define VMXON_UD_EXIT_CODE 0x55
#define VMXON_GP_EXIT_CODE 0x56

static uint8_t vmxon_region[4096] __attribute__((aligned(4096)));

static void on_ud(struct trap_frame *frame)
{
	printf("vmxon: #UD caught at eip 0x%08x\n", frame->eip);
	guest_exit(VMXON_UD_EXIT_CODE);
}

static void on_gp(struct trap_frame *frame)
{
	printf("vmxon: #GP caught at eip 0x%08x, error 0x%x\n", frame->eip, frame->error_code);
	guest_exit(VMXON_GP_EXIT_CODE);
}

void guest_main(uint32_t magic, const struct mb_info *mbi)
{
	(void)mbi;
	guest_boot("vmxon", magic);
	idt_init(0xee);
	idt_set_handler(6, on_ud);
	idt_set_handler(13, on_gp);
	printf("vmxon: CR0 0x%08x CR4 0x%08x\n", read_cr0(), read_cr4());
	printf("vmxon: executing VMXON with region at 0x%08x\n", (uint32_t)vmxon_region);
	bool ok = vmxon((uint32_t)vmxon_region);
	printf("vmxon: VMXON did not fault (%s)\n", ok ? "succeeded" : "VMfail");
	guest_exit(1);
}
