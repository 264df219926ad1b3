/* Per-CPU descriptor tables: GDT with a 64-bit TSS, GS base pointing at struct per_cpu. */
#include "kernel/percpu.h"
#include "kernel/trap.h"
#include "kernel/x86.h"
#include "kernel/lib.h"
#include "kernel/vcpu_context.h"

struct per_cpu *cpu_table[MAX_CPUS];
unsigned cpu_count;
bool percpu_ready;

/* 64-bit TSS descriptor, SDM Vol. 3A 8.2.3: type 9 (available), present, base split in 4. */
static void gdt_set_tss(uint64_t *gdt, const struct tss64 *tss)
{
	uint64_t base = (uint64_t)tss;
	uint64_t limit = sizeof(*tss) - 1;

	gdt[GDT_TSS / 8] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
			   (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	gdt[GDT_TSS / 8 + 1] = base >> 32;
}

void cpu_init(struct per_cpu *cpu, unsigned id)
{
	struct descriptor_table_ptr gdtr;

	cpu->self = cpu;
	cpu->id = id;
	cpu->tick_due = UINT64_MAX;
	cpu->wake_due = UINT64_MAX;
	cpu->poll_ticks = POLL_TICKS_NONE;
	cpu->gdt[0] = 0;
	cpu->gdt[GDT_CODE64 / 8] = 0x00af9a000000ffffull;
	cpu->gdt[GDT_DATA / 8] = 0x00cf92000000ffffull;
	gdt_set_tss(cpu->gdt, &cpu->tss);
	memset(&cpu->tss, 0, sizeof(cpu->tss));
	cpu->tss.ist[TRAP_IST_CRITICAL - 1] = (uint64_t)cpu->exception_stack + EXCEPTION_STACK_SIZE;
	cpu->tss.iomap_base = sizeof(cpu->tss); /* no I/O bitmap */

	/* FXSAVE/FXRSTOR of guests' x87/SSE state need CR0.EM clear and CR4.OSFXSR set, SDM Vol. 3A 13.1 */
	write_cr0((read_cr0() & ~(CR0_EM | CR0_TS)) | CR0_MP);
	write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
	xstate_cpu_enable();
	gdtr.base = (uint64_t)cpu->gdt;
	gdtr.limit = sizeof(cpu->gdt) - 1;
	lgdt(&gdtr);
	load_segments(GDT_CODE64, GDT_DATA);
	ltr(GDT_TSS);
	trap_load_idt();
	wrmsr(MSR_IA32_GS_BASE, (uint64_t)cpu);
	cpu_table[id] = cpu;
	if (id + 1 > cpu_count)
		cpu_count = id + 1;
	percpu_ready = true;
}
