/* aout: loaded through the a.out-kludge header (flag 16); checks its data arrived and its bss
 * was zeroed by the loader (entry.S does not clear it), then exits with 7. */
#include "tests/guests/lib/guest.h"

#define AOUT_EXIT_CODE 7
#define AOUT_DATA_MARKER 0xc1015e07u
#define AOUT_BSS_SIZE (64 * 1024)

/* Not static: the compiler must not assume nothing else wrote them. */
uint32_t aout_data_marker = AOUT_DATA_MARKER;
uint8_t aout_bss[AOUT_BSS_SIZE];

extern char __image_start[], __data_end[], __bss_end[]; /* guest.ld */

void guest_main(uint32_t magic, const struct mb_info *mbi)
{
	(void)mbi;
	guest_boot("aout", magic);
	idt_init(0xee);
	printf("aout: loaded via a.out kludge\n");
	printf("aout: image 0x%08x..0x%08x, bss to 0x%08x\n", (uint32_t)__image_start,
	       (uint32_t)__data_end, (uint32_t)__bss_end);

	if (*(volatile uint32_t *)&aout_data_marker != AOUT_DATA_MARKER) {
		printf("aout: data marker is 0x%08x, expected 0x%08x\n",
		       *(volatile uint32_t *)&aout_data_marker, AOUT_DATA_MARKER);
		guest_exit(3);
	}
	const volatile uint8_t *bss = aout_bss;
	for (uint32_t i = 0; i < AOUT_BSS_SIZE; i++) {
		if (bss[i]) {
			printf("aout: bss not zero at 0x%08x (0x%02x)\n", (uint32_t)&bss[i], bss[i]);
			guest_exit(4);
		}
	}
	printf("aout: data ok, bss zero (%u bytes at 0x%08x)\n", AOUT_BSS_SIZE, (uint32_t)aout_bss);
	printf("aout: exiting with code %d\n", AOUT_EXIT_CODE);
	guest_exit(AOUT_EXIT_CODE);
}
