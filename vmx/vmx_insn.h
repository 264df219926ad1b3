/* VMX instructions as small helpers that return whether the instruction succeeded
 * (CF and ZF clear, SDM Vol. 3C 30.2 "conventions"). The only VMX inline assembly in Cloison. */
#ifndef CLOISON_VMX_INSN_H
#define CLOISON_VMX_INSN_H

#include <stdint.h>
#include <stdbool.h>

static inline bool vmxon(uint64_t phys)
{
	bool ok;

	__asm__ volatile("vmxon %1; seta %0" : "=qm"(ok) : "m"(phys) : "cc", "memory");
	return ok;
}

static inline bool vmxoff(void)
{
	bool ok;

	__asm__ volatile("vmxoff; seta %0" : "=qm"(ok) : : "cc", "memory");
	return ok;
}

static inline bool vmclear(uint64_t phys)
{
	bool ok;

	__asm__ volatile("vmclear %1; seta %0" : "=qm"(ok) : "m"(phys) : "cc", "memory");
	return ok;
}

static inline bool vmptrld(const uint64_t *phys)
{
	bool ok;

	__asm__ volatile("vmptrld %1; seta %0" : "=qm"(ok) : "m"(*phys) : "cc", "memory");
	return ok;
}

static inline bool vmread_checked(uint64_t field, uint64_t *value)
{
	bool ok;

	__asm__ volatile("vmread %2, %1; seta %0" : "=qm"(ok), "=rm"(*value) : "r"(field) : "cc");
	return ok;
}

static inline bool vmwrite_checked(uint64_t field, uint64_t value)
{
	bool ok;

	__asm__ volatile("vmwrite %2, %1; seta %0" : "=qm"(ok) : "r"(field), "rm"(value) : "cc");
	return ok;
}

/* Unchecked forms for the exit fast path (vmx/fastpath.c): fields every VMCS has, of the VMCS
 * that just exited, so VMREAD/VMWRITE cannot fail there (SDM Vol. 3C 30.3 VMREAD: VMfail only
 * without a current VMCS or for an unsupported field). */
static inline uint64_t vmread_unchecked(uint64_t field)
{
	uint64_t value;

	__asm__ volatile("vmread %1, %0" : "=r"(value) : "r"(field) : "cc");
	return value;
}

static inline void vmwrite_unchecked(uint64_t field, uint64_t value)
{
	__asm__ volatile("vmwrite %1, %0" : : "r"(field), "rm"(value) : "cc", "memory");
}

struct invept_desc {
	uint64_t eptp, reserved;
};

struct invvpid_desc {
	uint64_t vpid, linear_address;
};

#define INVEPT_SINGLE_CONTEXT 1
#define INVEPT_ALL_CONTEXT 2
#define INVVPID_SINGLE_CONTEXT 1
#define INVVPID_ALL_CONTEXT 2

static inline bool invept(uint64_t type, uint64_t eptp)
{
	struct invept_desc desc = { eptp, 0 };
	bool ok;

	__asm__ volatile("invept %1, %2; seta %0" : "=qm"(ok) : "m"(desc), "r"(type) : "cc", "memory");
	return ok;
}

static inline bool invvpid(uint64_t type, uint16_t vpid)
{
	struct invvpid_desc desc = { vpid, 0 };
	bool ok;

	__asm__ volatile("invvpid %1, %2; seta %0" : "=qm"(ok) : "m"(desc), "r"(type) : "cc", "memory");
	return ok;
}

#endif
