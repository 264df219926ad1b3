/* Every inline-assembly instruction the test guests use, each behind a small named helper. */
#ifndef GUEST_X86_H
#define GUEST_X86_H

#include <stdint.h>
#include <stdbool.h>

static inline void outb(uint16_t port, uint8_t value)
{
	__asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t value)
{
	__asm__ volatile("outw %0, %1" : : "a"(value), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t value)
{
	__asm__ volatile("outl %0, %1" : : "a"(value), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t value;
	__asm__ volatile("inb %1, %0" : "=a"(value) : "Nd"(port));
	return value;
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t value;
	__asm__ volatile("inw %1, %0" : "=a"(value) : "Nd"(port));
	return value;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t value;
	__asm__ volatile("inl %1, %0" : "=a"(value) : "Nd"(port));
	return value;
}

struct cpuid_regs {
	uint32_t eax, ebx, ecx, edx;
};

static inline struct cpuid_regs cpuid(uint32_t leaf, uint32_t subleaf)
{
	struct cpuid_regs r;
	__asm__ volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
			 : "a"(leaf), "c"(subleaf));
	return r;
}

static inline void cli(void)
{
	__asm__ volatile("cli" : : : "memory");
}

static inline void hlt(void)
{
	__asm__ volatile("hlt" : : : "memory");
}

static inline void int3(void)
{
	__asm__ volatile("int3" : : : "memory");
}

static inline void ud2(void)
{
	__asm__ volatile("ud2" : : : "memory");
}

/* Keeps the compiler from folding or deleting a busy-wait loop; emits no instruction. */
static inline void compiler_barrier(void)
{
	__asm__ volatile("" : : : "memory");
}

static inline uint16_t read_cs(void)
{
	uint16_t cs;
	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	return cs;
}

static inline uint32_t read_cr0(void)
{
	uint32_t v;
	__asm__ volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}

static inline uint32_t read_cr4(void)
{
	uint32_t v;
	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static inline uint32_t read_eflags(void)
{
	uint32_t v;
	__asm__ volatile("pushfl; popl %0" : "=r"(v));
	return v;
}

struct __attribute__((packed)) descriptor_table_ptr {
	uint16_t limit;
	uint32_t base;
};

static inline void lidt(uint32_t base, uint16_t limit)
{
	struct descriptor_table_ptr p = { .limit = limit, .base = base };
	__asm__ volatile("lidt %0" : : "m"(p) : "memory");
}

/* Exception-table entry: a fault at label 1 resumes at fixup label 3, defined before it (idt.c). */
#define GUEST_EXTABLE_ENTRY                                    \
	".pushsection .extable, \"a\"\n\t"                      \
	".balign 4\n\t"                                         \
	".long 1b, 3b\n\t"                                      \
	".popsection\n\t"

/* RDMSR that reports a #GP (caught by the IDT helper) as false instead of faulting. */
static inline bool rdmsr_safe(uint32_t msr, uint64_t *value)
{
	uint32_t lo = 0, hi = 0, ok = 1;
	__asm__ volatile("1: rdmsr\n\t"
			 "2:\n\t"
			 ".pushsection .text.fixup, \"ax\"\n\t"
			 "3: movl $0, %2\n\t"
			 "jmp 2b\n\t"
			 ".popsection\n\t"
			 GUEST_EXTABLE_ENTRY
			 : "+a"(lo), "+d"(hi), "+r"(ok)
			 : "c"(msr)
			 : "memory");
	*value = ((uint64_t)hi << 32) | lo;
	return ok != 0;
}

/* WRMSR that reports a #GP (caught by the IDT helper) as false instead of faulting. */
static inline bool wrmsr_safe(uint32_t msr, uint64_t value)
{
	uint32_t ok = 1;
	__asm__ volatile("1: wrmsr\n\t"
			 "2:\n\t"
			 ".pushsection .text.fixup, \"ax\"\n\t"
			 "3: movl $0, %0\n\t"
			 "jmp 2b\n\t"
			 ".popsection\n\t"
			 GUEST_EXTABLE_ENTRY
			 : "+r"(ok)
			 : "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32))
			 : "memory");
	return ok != 0;
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* EDX:EAX / divisor, for 64-bit printing without libgcc; @pre high < divisor (no overflow). */
static inline uint32_t div_u64_u32(uint32_t high, uint32_t low, uint32_t divisor,
				   uint32_t *remainder)
{
	uint32_t quotient, rem;
	__asm__("divl %4" : "=a"(quotient), "=d"(rem) : "a"(low), "d"(high), "rm"(divisor));
	*remainder = rem;
	return quotient;
}

/* VMCALL with the hypercall ABI of kernel/hypercall.h; returns EAX. */
static inline uint32_t vmcall(uint32_t nr, uint32_t a, uint32_t b, uint32_t c)
{
	uint32_t ret;
	__asm__ volatile("vmcall" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
	return ret;
}

/* VMCALL that reports a #UD (no hypervisor) as false instead of faulting; EAX goes to *ret. */
static inline bool vmcall_safe(uint32_t nr, uint32_t a, uint32_t b, uint32_t c, uint32_t *ret)
{
	uint32_t eax = nr, ok = 1;
	__asm__ volatile("1: vmcall\n\t"
			 "2:\n\t"
			 ".pushsection .text.fixup, \"ax\"\n\t"
			 "3: movl $0, %1\n\t"
			 "jmp 2b\n\t"
			 ".popsection\n\t"
			 GUEST_EXTABLE_ENTRY
			 : "+a"(eax), "+r"(ok)
			 : "b"(a), "c"(b), "d"(c)
			 : "memory");
	*ret = eax;
	return ok != 0;
}

/* VMXON with the physical address of a 4 KiB-aligned region; returns the flags' verdict. */
static inline bool vmxon(uint64_t region_phys)
{
	bool failed;
	__asm__ volatile("vmxon %1\n\t"
			 "setna %0" /* CF=1 or ZF=1: VMfailInvalid / VMfailValid, SDM Vol. 3C 31.2 */
			 : "=q"(failed)
			 : "m"(region_phys)
			 : "cc", "memory");
	return !failed;
}

/* SSE for the fpu guest: CR0.EM off, MP on, CR4.OSFXSR on (SDM Vol. 3A 13.1.3). */
static inline void sse_enable(void)
{
	uint32_t cr0, cr4;

	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	__asm__ volatile("mov %0, %%cr0" ::"r"((cr0 & ~(1u << 2)) | (1u << 1)));
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	__asm__ volatile("mov %0, %%cr4" ::"r"(cr4 | (1u << 9) | (1u << 10)));
}

static inline void xmm0_load(const uint32_t value[4])
{
	__asm__ volatile("movdqu %0, %%xmm0" ::"m"(*(const uint32_t(*)[4])value));
}

static inline void xmm0_store(uint32_t value[4])
{
	__asm__ volatile("movdqu %%xmm0, %0" : "=m"(*(uint32_t(*)[4])value));
}

/* One instruction that may fault: a fault resumes after it and *ok becomes 0 (the IDT helper
 * records the vector in guest_last_fault_vector). */
#define GUEST_SAFE_INSN(insn) \
	"1: " insn "\n\t"      \
	"2:\n\t"                \
	".pushsection .text.fixup, \"ax\"\n\t" \
	"3: movl $0, %[ok]\n\t" \
	"jmp 2b\n\t"            \
	".popsection\n\t"       \
	GUEST_EXTABLE_ENTRY

static inline bool xsetbv_safe(uint32_t index, uint64_t value)
{
	uint32_t ok = 1;
	__asm__ volatile(GUEST_SAFE_INSN("xsetbv")
			 : [ok] "+r"(ok)
			 : "c"(index), "a"((uint32_t)value), "d"((uint32_t)(value >> 32))
			 : "memory");
	return ok != 0;
}

static inline uint64_t xgetbv(uint32_t index)
{
	uint32_t lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(index));
	return ((uint64_t)hi << 32) | lo;
}

static inline bool rdpmc_safe(uint32_t counter, uint64_t *value)
{
	uint32_t lo = 0, hi = 0, ok = 1;
	__asm__ volatile(GUEST_SAFE_INSN("rdpmc")
			 : "+a"(lo), "+d"(hi), [ok] "+r"(ok)
			 : "c"(counter)
			 : "memory");
	*value = ((uint64_t)hi << 32) | lo;
	return ok != 0;
}

static inline void wbinvd(void)
{
	__asm__ volatile("wbinvd" ::: "memory");
}

static inline void write_cr0(uint32_t v)
{
	__asm__ volatile("mov %0, %%cr0" ::"r"(v) : "memory");
}

static inline uint32_t read_cr2(void)
{
	uint32_t v;
	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

static inline void write_cr2(uint32_t v)
{
	__asm__ volatile("mov %0, %%cr2" ::"r"(v) : "memory");
}

static inline void write_cr3(uint32_t v)
{
	__asm__ volatile("mov %0, %%cr3" ::"r"(v) : "memory");
}

static inline bool write_cr4_safe(uint32_t v)
{
	uint32_t ok = 1;
	__asm__ volatile(GUEST_SAFE_INSN("mov %[v], %%cr4") : [ok] "+r"(ok) : [v] "r"(v) : "memory");
	return ok != 0;
}

#define GUEST_DR_ACCESSORS(n)                                                   \
	static inline uint32_t read_dr##n(void)                                 \
	{                                                                       \
		uint32_t v;                                                     \
		__asm__ volatile("mov %%dr" #n ", %0" : "=r"(v));               \
		return v;                                                       \
	}                                                                       \
	static inline void write_dr##n(uint32_t v)                              \
	{                                                                       \
		__asm__ volatile("mov %0, %%dr" #n ::"r"(v));                   \
	}
GUEST_DR_ACCESSORS(0)
GUEST_DR_ACCESSORS(1)
GUEST_DR_ACCESSORS(2)
GUEST_DR_ACCESSORS(3)
GUEST_DR_ACCESSORS(6)
GUEST_DR_ACCESSORS(7)
#undef GUEST_DR_ACCESSORS

/* The x87 control word and MXCSR, SDM Vol. 1 8.1.5 and 10.2.3. */
static inline uint16_t fpu_control_word(void)
{
	uint16_t v;
	__asm__ volatile("fnstcw %0" : "=m"(v));
	return v;
}

static inline uint32_t mxcsr_read(void)
{
	uint32_t v;
	__asm__ volatile("stmxcsr %0" : "=m"(v));
	return v;
}

static inline void mxcsr_write(uint32_t v)
{
	__asm__ volatile("ldmxcsr %0" ::"m"(v));
}

static inline void fpu_control_word_write(uint16_t v)
{
	__asm__ volatile("fldcw %0" ::"m"(v));
}

#endif
