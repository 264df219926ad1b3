/* The guest-visible hypercall ABI: VMCALL with the number in EAX, arguments in EBX, ECX, EDX;
 * the result comes back in EAX. Shared by the hypervisor and the test guests. */
#ifndef CLOISON_HYPERCALL_H
#define CLOISON_HYPERCALL_H

#define HC_EXIT 1          /* EBX = exit code; the guest stops and does not return */
#define HC_NOP 2           /* returns 0: the cheapest round trip, for benchmarks */
#define HC_BOOT_TSC 3      /* EDX:EAX = the TSC when GRUB handed over to Cloison */
#define HC_GUEST_START_TSC 4 /* EDX:EAX = the TSC just before this guest's first VM entry */
#define HC_ERR_UNKNOWN 0xffffffffu /* EAX after an unknown hypercall number */

#define GUEST_EXIT_PORT 0xf4 /* an 8-bit write of V stops the guest with exit code V */
#define GUEST_UART_PORT 0x3f8

#define CPUID_HV_LEAF 0x40000000u /* EBX,ECX,EDX = "Cloison\0\0\0\0\0" (12 bytes), EAX = max leaf */

#endif
