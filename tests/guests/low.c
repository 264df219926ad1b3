/* low: a Multiboot kernel linked at 0x8000 (tests/guests/guests.mk links it with guest.ld moved
 * down), where Cloison used to put the information block. Checks that the block, its strings,
 * module list and memory map, and every module lie apart from its image and from each other,
 * prints "low: image 0xA-0xB, info at 0xI, N modules, all apart" and exits 0; an overlap prints
 * "low: OVERLAP ..." and exits 4. */
#include "tests/guests/lib/guest.h"

extern char __image_start[], __bss_end[];

struct range {
	const char *what;
	uint32_t start, end;
};

#define LOW_RANGES 24

static struct range ranges[LOW_RANGES];
static unsigned nr_ranges;

static void add(const char *what, uint32_t start, uint32_t len)
{
	if (nr_ranges < LOW_RANGES)
		ranges[nr_ranges++] = (struct range){ what, start, start + len };
}

void guest_main(uint32_t magic, const struct mb_info *mbi)
{
	uint32_t image_start = (uint32_t)__image_start, image_end = (uint32_t)__bss_end;
	const struct mb_module *mods = (const struct mb_module *)mbi->mods_addr;

	guest_boot("low", magic);
	idt_init(0xee);
	if (image_start != 0x8000) {
		printf("low: linked at 0x%x, not 0x8000\n", image_start);
		guest_exit(2);
	}
	add("image", image_start, image_end - image_start);
	add("info block", (uint32_t)mbi, sizeof(*mbi));
	if (mbi->flags & MB_INFO_CMDLINE)
		add("command line", mbi->cmdline, strlen((const char *)mbi->cmdline) + 1);
	if (mbi->flags & MB_INFO_LOADER_NAME)
		add("loader name", mbi->boot_loader_name,
		    strlen((const char *)mbi->boot_loader_name) + 1);
	if (mbi->flags & MB_INFO_MMAP)
		add("memory map", mbi->mmap_addr, mbi->mmap_length);
	if (mbi->flags & MB_INFO_MODS) {
		add("module list", mbi->mods_addr, mbi->mods_count * sizeof(*mods));
		for (uint32_t i = 0; i < mbi->mods_count && i < 4; i++) {
			add("module", mods[i].mod_start, mods[i].mod_end - mods[i].mod_start);
			add("module string", mods[i].string, strlen((const char *)mods[i].string) + 1);
		}
	}
	for (unsigned i = 0; i < nr_ranges; i++) {
		for (unsigned j = i + 1; j < nr_ranges; j++) {
			if (ranges[i].start < ranges[j].end && ranges[j].start < ranges[i].end) {
				printf("low: OVERLAP of %s 0x%x-0x%x and %s 0x%x-0x%x\n", ranges[i].what,
				       ranges[i].start, ranges[i].end, ranges[j].what, ranges[j].start,
				       ranges[j].end);
				guest_exit(4);
			}
		}
	}
	printf("low: command line '%s'\n", (mbi->flags & MB_INFO_CMDLINE) ?
	       (const char *)mbi->cmdline : "");
	printf("low: image 0x%x-0x%x, info at 0x%x, %u modules, all apart\n", image_start, image_end,
	       (uint32_t)mbi, (mbi->flags & MB_INFO_MODS) ? mbi->mods_count : 0);
	guest_exit(0);
}
