/* The test guests' small library: serial output, printf, exit, hypercalls, exception handlers. */
#ifndef GUEST_GUEST_H
#define GUEST_GUEST_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdarg.h>
#include "kernel/hypercall.h"
#include "tests/guests/lib/multiboot.h"
#include "tests/guests/lib/x86.h"

#define BOCHS_SHUTDOWN_PORT 0x8900 /* "Shutdown" written here ends a Bochs run */

/* Each guest defines this; entry.S calls it with the bootloader's EAX and EBX. */
void guest_main(uint32_t magic, const struct mb_info *mbi);

/* Initialises the UART, records the name used in messages, and checks the Multiboot magic
 * (a wrong magic prints a line and exits with code 2). Every guest calls this first. */
void guest_boot(const char *name, uint32_t magic);
extern const char *guest_name;

/* Stops the guest with code: drains the UART, then port 0xf4 (hypervisor, QEMU isa-debug-exit), then the Bochs
 * shutdown port, then cli; hlt forever. */
__attribute__((noreturn)) void guest_exit(uint8_t code);

/* VMCALL nr with EBX=a, ECX=b, EDX=c; returns EAX. */
uint32_t hypercall(uint32_t nr, uint32_t a, uint32_t b, uint32_t c);

/* 16550 UART at GUEST_UART_PORT: 115200 8N1, FIFOs on, interrupts off. */
void uart_init(void);
void uart_putc(char c);
void uart_puts(const char *s);
/* Waits until the transmitter has sent every byte (LSR.TEMT), so nothing is lost at exit. */
void uart_flush(void);

/* %s %c %d %u %x %X %p %%, with optional '0' flag, width, and ll for 64-bit d/u/x/X. */
void printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vprintf(const char *fmt, va_list ap);

/* What the exception stubs (trap.S) push, lowest address first. */
struct trap_frame {
	uint32_t edi, esi, ebp, esp_at_pusha, ebx, edx, ecx, eax;
	uint32_t vector, error_code; /* error_code 0 when the CPU pushes none */
	uint32_t eip, cs, eflags;
};

typedef void (*trap_handler)(struct trap_frame *frame);

/* Installs an IDT for vectors 0-31. A fault at an exception-table address (rdmsr_safe,
 * vmcall_safe) resumes at its fixup; any other exception prints "<name>: exception V ..." and
 * exits with unexpected_code, unless a handler was set for that vector (it may change frame->eip
 * and return to resume). */
void idt_init(uint8_t unexpected_code);
/* The vector of the last fault an exception-table fixup (the *_safe helpers) caught. */
extern volatile uint32_t guest_last_fault_vector;
void idt_set_handler(unsigned vector, trap_handler handler);
const char *exception_name(unsigned vector);

void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
bool str_contains(const char *haystack, const char *needle);

/* The command line (cmdline.c); "" when the loader passed none. Word 0 is the guest's name. */
const char *guest_cmdline(const struct mb_info *mbi);
/* Copies word index of cmdline into buf (truncated to size-1); false when there is none. */
bool cmdline_word(const char *cmdline, unsigned index, char *buf, size_t size);
/* The guest's name: word 0, or word 1 when word 0 is a loader's image path (it has a '/')
 * and word 1 is not key=value. False when there is none. */
bool cmdline_name(const char *cmdline, char *buf, size_t size);
/* True when some word of cmdline is exactly flag. */
bool cmdline_flag(const char *cmdline, const char *flag);
/* key=N with N decimal or 0x hex: 1 and *value set, 0 when key is absent, -1 when N is bad. */
int cmdline_u32(const char *cmdline, const char *key, uint32_t *value);
/* Parses len characters of decimal or 0x hex; false on anything else or overflow. */
bool parse_u32(const char *s, size_t len, uint32_t *value);

/* IA-32e mode (lib/longmode.c): paging with an identity map of the first GiB and a GDT whose
 * selector 0x18 is 64-bit code; the caller far-jumps there and comes back to 0x08 before
 * long_mode_leave. Returns the EFER to restore. @pre no interrupts, 32-bit IDT unused meanwhile */
#define LONG_MODE_CS64 0x18
uint64_t long_mode_enter(void);
void long_mode_leave(uint64_t efer);

/* Spins for about n loop iterations; the compiler keeps every one. */
void busy_wait(uint32_t n);

#endif
