/* Guest start-up checks, the exit path that works with and without a hypervisor, hypercalls. */
#include "tests/guests/lib/guest.h"

const char *guest_name = "guest";

void guest_boot(const char *name, uint32_t magic)
{
	guest_name = name;
	uart_init();
	if (magic != MB_BOOTLOADER_MAGIC) {
		printf("%s: bad multiboot magic 0x%08x\n", name, magic);
		guest_exit(2);
	}
}

void guest_exit(uint8_t code)
{
	static const char bochs_shutdown[] = "Shutdown";

	uart_flush();
	outb(GUEST_EXIT_PORT, code);
	for (const char *p = bochs_shutdown; *p; p++)
		outb(BOCHS_SHUTDOWN_PORT, (uint8_t)*p);
	for (;;) {
		cli();
		hlt();
	}
}

uint32_t hypercall(uint32_t nr, uint32_t a, uint32_t b, uint32_t c)
{
	return vmcall(nr, a, b, c);
}

void busy_wait(uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		compiler_barrier();
}
