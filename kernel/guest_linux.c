/* Linux guests: a bzImage started by the 64-bit boot protocol with its initramfs and command
 * line, ACPI tables that describe its virtual PC, and that PC's devices. */
#include "kernel/guest.h"
#include "kernel/bzimage.h"
#include "kernel/cpu_model.h"
#include "kernel/log.h"
#include "kernel/lib.h"
#include "kernel/mm.h"
#include "kernel/x86.h"
#include "drivers/rtc.h"
#include "drivers/timer.h"
#include "drivers/virt/vacpi.h"
#include "drivers/virt/vmachine.h"

/* Read once: every guest's RTC starts from the host's clock at its start. */
static uint64_t host_unix_time, host_unix_tsc;

bool guest_image_is_linux(const struct boot_module *image)
{
	const uint8_t *p = (const uint8_t *)image->start;
	size_t size = image->end - image->start;

	/* boot_flag 0xAA55 at 0x1fe and "HdrS" at 0x202, boot.rst */
	return size > 0x206 && p[0x1fe] == 0x55 && p[0x1ff] == 0xaa && p[0x202] == 'H' &&
	       p[0x203] == 'd' && p[0x204] == 'r' && p[0x205] == 'S';
}

static uint64_t wall_clock_now(uint64_t now)
{
	if (!host_unix_tsc) {
		host_unix_time = rtc_read_unix_time();
		host_unix_tsc = rdtsc();
	}
	return host_unix_time + (now - host_unix_tsc) / (tsc_per_ms * 1000);
}

int guest_platform_setup(struct guest *g, uint64_t *rsdp)
{
	struct vacpi_config acpi = { .cpu_count = g->nr_vcpus };
	struct vacpi_layout layout;
	uint64_t now;
	int err;

	if (g->ram_size < VACPI_DEFAULT_GPA + VACPI_DEFAULT_SIZE) {
		log_err("guest %s: %lu KiB of RAM is too little for its virtual PC", g->name,
			g->ram_size / 1024);
		return -E_RANGE;
	}
	err = vacpi_build((uint8_t *)g->ram_hpa + VACPI_DEFAULT_GPA, VACPI_DEFAULT_SIZE,
			  VACPI_DEFAULT_GPA, &acpi, &layout);
	if (err < 0) {
		log_err("guest %s: its ACPI tables could not be built: %s", g->name, err_name(err));
		return err;
	}
	if (!g->vm) {
		g->vm = (struct vmachine *)phys_alloc_zeroed(sizeof(struct vmachine), PAGE_SIZE);
		if (!g->vm) {
			log_err("guest %s: no memory for its virtual platform", g->name);
			return -E_NOMEM;
		}
	}
	now = rdtsc();
	vmachine_init(g->vm, g->nr_vcpus, tsc_per_ms * 1000, CPU_MODEL_CRYSTAL_HZ, wall_clock_now(now),
		      now, g->ram_low, g->ram_size - g->ram_low);
	*rsdp = layout.rsdp;
	return 0;
}

int guest_linux_load(struct guest *g)
{
	const void *image = (const void *)g->image->start;
	size_t image_size = g->image->end - g->image->start;
	struct linux_boot_params params;
	struct bzimage_info bi;
	const char *why = "";
	uint64_t rsdp;
	int err;

	err = bzimage_parse(image, image_size, &bi, &why);
	if (err < 0) {
		log_err("guest %s: image '%s' is a Linux kernel Cloison cannot boot: %s", g->name,
			g->image->string, why);
		return err;
	}
	if (g->platform != GUEST_PLATFORM_PC) {
		log_err("guest %s: a Linux kernel needs its virtual PC: platform = none refused", g->name);
		return -E_INVAL;
	}
	err = guest_platform_setup(g, &rsdp);
	if (err < 0)
		return err;
	memset(&params, 0, sizeof(params));
	params.cmdline = g->cmdline;
	if (g->initrd) {
		params.initrd = (const void *)g->initrd->start;
		params.initrd_size = g->initrd->end - g->initrd->start;
	}
	params.acpi_rsdp = rsdp;
	params.ram_below_4g = g->ram_low < g->ram_size ? g->ram_low : 0;
	err = bzimage_load(&bi, image, image_size, (uint8_t *)g->ram_hpa, g->ram_size, &params,
			   &g->linux_entry, &why);
	if (err < 0) {
		log_err("guest %s: Linux kernel '%s'%s%s does not load: %s", g->name, g->image->string,
			g->initrd ? " with initrd " : "", g->initrd ? g->initrd->string : "", why);
		return err;
	}
	log_info("guest %s: Linux boot protocol %u.%02u: kernel at 0x%lx, initrd %lu KiB at 0x%lx, "
		 "ACPI at 0x%lx, %u vCPU%s", g->name, bi.version >> 8, bi.version & 0xff,
		 g->linux_entry.kernel_addr, g->linux_entry.initrd_size / 1024,
		 g->linux_entry.initrd_addr, rsdp, g->nr_vcpus, g->nr_vcpus == 1 ? "" : "s");
	return 0;
}
