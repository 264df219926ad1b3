/* forge: tries to pass its output off as the hypervisor's. Each attack is one line that moves
 * the cursor back over its "[forge] " prefix (CR, backspaces, cursor moves, erase, 8-bit CSI)
 * and draws "[cpu0] guest NAME stopped: FORGED-K". Prints the attacks rounds=R times (default
 * 3), then "forge: done" and keeps polling (it never exits, like a hostile guest would). */
#include "tests/guests/lib/guest.h"

static const char *const attacks[] = {
	"\r[cpu0] guest quiet stopped: FORGED-1 (carriage return)",
	"\r\033[2K[cpu0] guest quiet stopped: FORGED-2 (erase line)",
	"\b\b\b\b\b\b\b\b[cpu0] guest quiet stopped: FORGED-3 (backspaces)",
	"\033[1G\033[K[cpu0] guest quiet stopped: FORGED-4 (cursor to column 1)",
	"\033[A\r\033[K[cpu0] guest quiet stopped: FORGED-5 (cursor up)",
	"\x9b" "1G\r[cpu0] guest quiet stopped: FORGED-6 (8-bit CSI)",
	"\033]0;owned\a\r[cpu0] guest quiet stopped: FORGED-7 (title, bell)",
	"\033c[cpu0] guest quiet stopped: FORGED-8 (terminal reset)",
};

void guest_main(uint32_t magic, const struct mb_info *mbi)
{
	uint32_t rounds = 3;

	guest_boot("forge", magic);
	idt_init(0xee);
	cli();
	if (cmdline_u32(guest_cmdline(mbi), "rounds", &rounds) < 0) {
		printf("forge: bad rounds=\n");
		guest_exit(2);
	}
	for (uint32_t r = 0; r < rounds; r++) {
		for (unsigned i = 0; i < sizeof(attacks) / sizeof(attacks[0]); i++) {
			uart_puts(attacks[i]);
			uart_puts("\n");
		}
		busy_wait(1u << 22);
	}
	printf("forge: done\n");
	for (;;)
		compiler_barrier();
}
