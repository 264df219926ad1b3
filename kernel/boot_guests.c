/* From boot modules to guests: read the configuration (or take each module as a guest when there
 * is none), check it against this machine, plan the RAM partitions, create the guests, print the map. */
#include "kernel/boot_guests.h"
#include "kernel/config.h"
#include "kernel/plan.h"
#include "kernel/guest.h"
#include "kernel/cmdline.h"
#include "kernel/percpu.h"
#include "kernel/mm.h"
#include "kernel/log.h"
#include "kernel/lib.h"
#include "kernel/fmt.h"
#include "drivers/timer.h"

static struct config config;
static struct plan plan;
static char module_names[BOOT_MAX_MODULES][CONFIG_IMAGE_MAX];
static const char *module_name_ptrs[BOOT_MAX_MODULES];

static void report_error(void *ctx, const char *message)
{
	(void)ctx;
	log_err("%s", message);
}

/* A module's name is the first word of its GRUB string. */
static void modules_index(const struct boot_info *bi)
{
	for (unsigned i = 0; i < bi->module_count; i++) {
		const char *s = bi->modules[i].string;
		size_t len = 0;

		while (s[len] && s[len] != ' ' && len < CONFIG_IMAGE_MAX - 1)
			len++;
		memcpy(module_names[i], s, len);
		module_names[i][len] = '\0';
		module_name_ptrs[i] = module_names[i];
	}
}

static uint64_t guest_ram_total(unsigned n, const unsigned *order)
{
	uint64_t total = 0;

	for (unsigned i = 0; i < n; i++)
		if (!config.guests[order[i]].refused)
			total += plan.guests[order[i]].ram_size;
	return total;
}

static const struct boot_module *module_find(const struct boot_info *bi, const char *name)
{
	for (unsigned i = 0; i < bi->module_count; i++)
		if (strcmp(module_names[i], name) == 0)
			return &bi->modules[i];
	return NULL;
}

/* Without a configuration every other module is a guest named by its first word. */
static void config_from_modules(const struct boot_info *bi, const char *config_name,
				uint64_t guest_ram)
{
	config_defaults(&config);
	for (unsigned i = 0; i < bi->module_count && config.guest_count < MAX_GUESTS; i++) {
		struct guest_config *gc = &config.guests[config.guest_count];

		if (strcmp(module_names[i], config_name) == 0)
			continue;
		memset(gc, 0, sizeof(*gc));
		str_copy(gc->name, module_names[i][0] ? module_names[i] : "guest", sizeof(gc->name));
		str_copy(gc->image, module_names[i], sizeof(gc->image));
		str_copy(gc->cmdline, bi->modules[i].string, sizeof(gc->cmdline));
		gc->memory = ALIGN_UP(guest_ram, CONFIG_MEMORY_ALIGN);
		gc->cpu_mask = 1;
		gc->weight = CONFIG_WEIGHT_DEFAULT;
		gc->autostart = true;
		gc->console_buffer = CONFIG_CONSOLE_BUFFER_DEFAULT;
		config.guest_count++;
	}
}

/* The guest created from config entry gc, NULL when none was (refused, or VT-x missing). */
static const struct guest *guest_of(const struct guest_config *gc)
{
	for (unsigned i = 0; i < guest_count; i++)
		if (strcmp(guests[i].name, gc->name) == 0)
			return &guests[i];
	return NULL;
}

/* "EPT 1G x2, 2M x3" from a guest's EPT leaf counts; "" before its EPT exists. */
static void ept_sizes(char *buf, size_t size, const struct guest *g)
{
	static const char *const names[] = { "4K", "2M", "1G" };
	size_t n = 0;

	buf[0] = '\0';
	if (!g)
		return;
	for (unsigned level = 3; level-- > 0;) {
		if (!g->ept_pages.pages[level])
			continue;
		n += fmt_snprintf(buf + n, size - n, "%s%s x%lu", n ? ", " : ", EPT ", names[level],
				  g->ept_pages.pages[level]);
		if (n >= size)
			break;
	}
}

/* "0", "0-1", "1,3,5-7": a guest's CPUs as its partition-map line shows them. */
static void cpu_list(char *buf, size_t size, uint64_t mask)
{
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned cpu = 0; cpu < 64 && n + 12 < size; cpu++) {
		unsigned last = cpu;

		if (!(mask & (1ull << cpu)))
			continue;
		while (last + 1 < 64 && (mask & (1ull << (last + 1))))
			last++;
		n += (size_t)fmt_snprintf(buf + n, size - n, last > cpu ? "%s%u-%u" : "%s%u",
					  n ? "," : "", cpu, last);
		cpu = last;
	}
}

void guests_print_map(void)
{
	unsigned order[MAX_GUESTS], n = plan_order(&plan, order);
	int width = 10; /* "hypervisor" */
	char pages[64];
	char cpus[64];

	for (unsigned i = 0; i < n; i++)
		width = MAX(width, (int)strlen(config.guests[order[i]].name) + 6);
	log_info("partition map:");
	log_info("  %-*s 0x%010lx-0x%010lx %9lu KiB  image, stacks, page tables", width, "hypervisor",
		 (uint64_t)_image_start, (uint64_t)_image_end,
		 ((uint64_t)_image_end - (uint64_t)_image_start) / KiB);
	log_info("  %-*s %27s %9lu KiB  per-CPU data, VMCSs, EPTs, bitmaps, console buffers", width,
		 "hypervisor", "(allocated)", mm_allocated_bytes() / KiB);
	for (unsigned i = 0; i < n; i++) {
		const struct guest_config *gc = &config.guests[order[i]];
		const struct plan_guest *pg = &plan.guests[order[i]];

		if (gc->refused)
			continue;
		ept_sizes(pages, sizeof(pages), guest_of(gc));
		cpu_list(cpus, sizeof(cpus), gc->cpu_mask);
		log_info("  guest %-*s 0x%010lx-0x%010lx %9lu KiB  cpu%s, weight %u%s%s", width - 6,
			 gc->name, pg->ram_base, pg->ram_base + pg->ram_size, pg->ram_size / KiB,
			 cpus, gc->weight, pages, gc->autostart ? "" : ", not started");
	}
	log_info("  %-*s %27s %9lu KiB", width, "free", "", frame_pool_free_bytes(&frame_pool) / KiB);
	log_info("  %u guest%s, %lu MiB of guest RAM, %lu MiB free", n, n == 1 ? "" : "s",
		 guest_ram_total(n, order) / MiB, frame_pool_free_bytes(&frame_pool) / MiB);
}

static unsigned refused;
static bool have_config;

void guests_plan(const struct boot_info *bi, const char *hv_cmdline, uint64_t guest_ram)
{
	char config_name[CONFIG_IMAGE_MAX] = "config";
	const struct boot_module *config_module;
	struct config_env env;

	modules_index(bi);
	cmdline_get(hv_cmdline, "config", config_name, sizeof(config_name));
	config_module = module_find(bi, config_name);
	if (config_module) {
		log_info("config: reading module '%s' (%lu bytes)", config_name,
			 config_module->end - config_module->start);
		config_parse((const char *)config_module->start, config_module->end - config_module->start,
			     &config, report_error, NULL);
	} else {
		log_info("config: no module named '%s'; every module is a guest of %lu MiB on cpu0",
			 config_name, guest_ram / MiB);
		config_from_modules(bi, config_name, guest_ram);
	}
	env.cpu_count = cpu_count;
	env.module_names = module_name_ptrs;
	env.module_count = bi->module_count;
	config_validate(&config, &env, report_error, NULL);
	have_config = config_module != NULL;
	plan_partition(&plan, &frame_pool, &config, report_error, NULL);
	for (unsigned i = 0; i < config.guest_count; i++)
		refused += config.guests[i].refused;
}

void guests_create(const struct boot_info *bi)
{
	guest_console_prefixed = config.console_prefixed || !have_config;
	for (unsigned cpu = 0; cpu < cpu_count; cpu++)
		if (cpu_table[cpu])
			sched_queue_init(&cpu_table[cpu]->runq, config.slice_us * tsc_per_ms / 1000);
	for (unsigned i = 0; i < config.guest_count; i++) {
		struct guest_config *gc = &config.guests[i];
		const struct boot_module *modules[CONFIG_MODULES_MAX];

		if (gc->refused)
			continue;
		for (unsigned m = 0; m < gc->module_count; m++)
			modules[m] = module_find(bi, gc->modules[m]);
		if (guest_create(gc, plan.guests[i].ram_base, module_find(bi, gc->image), modules,
				 gc->initrd[0] ? module_find(bi, gc->initrd) : NULL) < 0) {
			gc->refused = true;
			refused++;
			frame_free(&frame_pool, plan.guests[i].ram_base, plan.guests[i].ram_size);
		}
	}
	guests_print_map();
	if (refused)
		log_warn("config: %u guest%s refused (see the errors above); the others start", refused,
			 refused == 1 ? "" : "s");
}
