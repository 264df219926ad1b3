/* IA-32e mode for the test guests that need 64-bit code (CR8, the exit-loop register checks):
 * an identity map of the first GiB, a GDT with a 64-bit code segment, and the way back. */
#include "tests/guests/lib/guest.h"

#define MSR_EFER 0xc0000080u
#define EFER_LME (1u << 8)
#define CR0_PG (1u << 31)
#define CR4_PAE (1u << 5)

/* Identity map of the first GiB with 2 MiB pages: PML4 -> PDPT -> PD. */
static uint64_t pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t pd[512] __attribute__((aligned(4096)));
/* null, 32-bit code (0x08), data (0x10), 64-bit code (LONG_MODE_CS64 = 0x18) */
static const uint64_t gdt64[4] __attribute__((aligned(8))) = {
	0, 0x00cf9a000000ffffull, 0x00cf92000000ffffull, 0x00af9a000000ffffull,
};
static struct __attribute__((packed)) {
	uint16_t limit;
	uint32_t base;
} gdt64_ptr = { sizeof(gdt64) - 1, (uint32_t)gdt64 };

uint64_t long_mode_enter(void)
{
	uint64_t efer;

	for (unsigned i = 0; i < 512; i++)
		pd[i] = ((uint64_t)i << 21) | 0x83; /* present, writable, 2 MiB */
	pdpt[0] = (uint32_t)pd | 3;
	pml4[0] = (uint32_t)pdpt | 3;
	__asm__ volatile("lgdt %0" ::"m"(gdt64_ptr));
	write_cr4_safe(read_cr4() | CR4_PAE);
	write_cr3((uint32_t)pml4);
	rdmsr_safe(MSR_EFER, &efer);
	wrmsr_safe(MSR_EFER, efer | EFER_LME);
	write_cr0(read_cr0() | CR0_PG); /* IA-32e mode: this code runs in compatibility mode */
	return efer;
}

void long_mode_leave(uint64_t efer)
{
	write_cr0(read_cr0() & ~CR0_PG); /* back to legacy protected mode, SDM Vol. 3A 9.8.5.4 */
	wrmsr_safe(MSR_EFER, efer);
	write_cr4_safe(read_cr4() & ~CR4_PAE);
}
