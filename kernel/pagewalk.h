/* Guest page-table walker: linear to guest-physical in every paging mode, with #PF error codes. */
#ifndef CLOISON_PAGEWALK_H
#define CLOISON_PAGEWALK_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* Page-fault error code bits, SDM Vol. 3A 4.7 */
#define PF_ERR_PRESENT (1u << 0) /* 0: not present; 1: protection or reserved bit */
#define PF_ERR_WRITE (1u << 1)
#define PF_ERR_USER (1u << 2)
#define PF_ERR_RSVD (1u << 3)
#define PF_ERR_FETCH (1u << 4)

/* The access to check: a supervisor read is 0; add one of WRITE or FETCH, and USER for CPL 3. */
#define PAGEWALK_READ 0u
#define PAGEWALK_WRITE PF_ERR_WRITE
#define PAGEWALK_USER PF_ERR_USER
#define PAGEWALK_FETCH PF_ERR_FETCH

/* pagewalk() result besides 0 and negative errors: the guest would take #PF. */
#define PAGEWALK_FAULT 1

/* The guest's paging state and a way to read its memory. read_gpa returns 0 when all len bytes
 * of guest-physical [gpa, gpa+len) were copied, nonzero when any lies outside the guest's RAM. */
struct pagewalk_ctx {
	uint64_t cr0, cr3, cr4;
	uint64_t efer;       /* LMA (bit 10) selects 4-/5-level paging, NXE (bit 11) the XD bit */
	unsigned maxphyaddr; /* CPUID.80000008H:EAX[7:0]: bits above are reserved; 0 means 52 */
	int (*read_gpa)(void *opaque, uint64_t gpa, void *buf, size_t len);
	void *opaque;
};

/* Translates linear for access (PAGEWALK_*) as the CPU would, SDM Vol. 3A 4.3-4.6. Returns
 *   0 and *gpa;
 *   PAGEWALK_FAULT and *fault_error_code (PF_ERR_*) when the access would fault (CR2 = linear);
 *   -E_RANGE when a paging structure lies outside the guest's RAM (*gpa = that entry's address);
 *   -E_INVAL for a non-canonical address (#GP, not #PF), bad access bits or CR0.PG=1 with
 *            EFER.LMA=1 but CR4.PAE=0.
 * Accessed and dirty bits are left alone. Not modelled: SMAP, protection keys, and in PAE mode
 * the PDPTE registers (the PDPTEs are read from memory through CR3 at each walk). */
int pagewalk(const struct pagewalk_ctx *ctx, uint64_t linear, unsigned access, uint64_t *gpa,
	     uint64_t *fault_error_code);

/* Reads len bytes at linear (an instruction fetch of up to 15 bytes may span two pages), one
 * page at a time. Returns as pagewalk() does; *done (may be NULL) says how many bytes were read
 * before a fault or error, so the faulting linear address (CR2) is linear + *done. */
int pagewalk_read(const struct pagewalk_ctx *ctx, uint64_t linear, unsigned access, void *buf,
		  size_t len, size_t *done, uint64_t *fault_error_code);

#endif
