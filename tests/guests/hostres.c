/* hostres: reaches for host resources a guest must not get: WBINVD (a no-op for it), RDPMC
 * (#GP: no virtual PMU), the physical topology through CPUID leaves 4 and 0xB (the guest sees one
 * core, one thread, APIC ID 0), machine-check MSRs (hidden with MCA/MCE). Prints one line per
 * probe and "hostres: done", exits 0. */
#include "tests/guests/lib/guest.h"

void guest_main(uint32_t magic, const struct mb_info *mbi)
{
	struct cpuid_regs r;
	uint64_t v;

	(void)mbi;
	guest_boot("hostres", magic);
	idt_init(0xee);
	wbinvd();
	printf("hostres: WBINVD returned\n");
	if (rdpmc_safe(0, &v))
		printf("hostres: RDPMC 0 read 0x%x\n", (uint32_t)v);
	else
		printf("hostres: RDPMC 0 refused (vector %u)\n", guest_last_fault_vector);
	if (rdpmc_safe(1u << 30, &v))
		printf("hostres: RDPMC fixed 0 read 0x%x\n", (uint32_t)v);
	else
		printf("hostres: RDPMC fixed 0 refused (vector %u)\n", guest_last_fault_vector);
	r = cpuid(0xb, 0);
	printf("hostres: leaf 0xB.0 eax %u ebx %u ecx 0x%x edx %u\n", r.eax, r.ebx, r.ecx, r.edx);
	r = cpuid(0xb, 1);
	printf("hostres: leaf 0xB.1 eax %u ebx %u ecx 0x%x edx %u\n", r.eax, r.ebx, r.ecx, r.edx);
	for (unsigned i = 0; i < 8; i++) {
		r = cpuid(4, i);
		if (!(r.eax & 0x1f))
			break;
		printf("hostres: leaf 4.%u level %u cores %u sharing %u\n", i, (r.eax >> 5) & 7,
		       (r.eax >> 26) + 1, ((r.eax >> 14) & 0xfff) + 1);
	}
	r = cpuid(1, 0);
	printf("hostres: leaf 1 apic id %u, logical %u, HTT %u, MCE %u, MCA %u\n", r.ebx >> 24,
	       (r.ebx >> 16) & 0xff, (r.edx >> 28) & 1, (r.edx >> 7) & 1, (r.edx >> 14) & 1);
	printf("hostres: MCG_CAP %s\n", rdmsr_safe(0x179, &v) ? "readable" : "refused");
	printf("hostres: done\n");
	guest_exit(0);
}
