/* kmain: from GRUB's hand-off to running guests, in the order each layer needs the one before. */
#include "boot/boot_info.h"
#include "kernel/cmdline.h"
#include "kernel/guest.h"
#include "kernel/log.h"
#include "kernel/mm.h"
#include "kernel/percpu.h"
#include "kernel/trap.h"
#include "kernel/lib.h"
#include "kernel/vcpu_context.h"
#include "kernel/x86.h"
#include "vmx/vmx.h"
#include "vmx/exit.h"
#include "drivers/uart.h"
#include "drivers/platform.h"
#include "drivers/timer.h"
#include "drivers/lapic.h"
#include "drivers/acpi.h"
#include "kernel/smp.h"
#include "kernel/boot_guests.h"
#include "kernel/console.h"

#define DEFAULT_GUEST_RAM (16 * MiB)
#define CLOISON_VERSION "0.1"

static struct boot_info boot_info;
static struct per_cpu bsp_cpu;
static struct acpi_info acpi;

struct options {
	bool shutdown_when_idle; /* onidle=shutdown: power off once no guest can run (tests, CI) */
	uint64_t guest_ram;      /* guest_mem=SIZE */
};

static void console_init(const char *cmdline)
{
	char value[32];
	uint64_t port = UART_DEFAULT_PORT, baud = UART_DEFAULT_BAUD;
	bool bad = false;

	if (cmdline_get(cmdline, "console", value, sizeof(value))) {
		char *comma = value;

		while (*comma && *comma != ',')
			comma++;
		if (*comma) {
			*comma = '\0';
			bad |= !parse_u64(comma + 1, &baud) || baud == 0 || baud > 115200;
		}
		bad |= !parse_u64(value, &port) || port > 0xfff8;
		if (bad) {
			port = UART_DEFAULT_PORT;
			baud = UART_DEFAULT_BAUD;
		}
	}
	uart_init((uint16_t)port, (uint32_t)baud);
	if (bad)
		log_warn("console=: expected console=PORT[,BAUD] (e.g. console=0x2f8,115200); using COM1");
}

static void options_parse(const char *cmdline, struct options *opt)
{
	char value[32];

	opt->guest_ram = DEFAULT_GUEST_RAM;
	if (cmdline_get(cmdline, "onidle", value, sizeof(value))) {
		if (strcmp(value, "shutdown") == 0)
			opt->shutdown_when_idle = true;
		else if (strcmp(value, "halt") != 0)
			log_warn("onidle=%s: expected onidle=halt or onidle=shutdown; staying up", value);
	}
	if (cmdline_get(cmdline, "guest_mem", value, sizeof(value)) &&
	    (!parse_size(value, &opt->guest_ram) || opt->guest_ram < 2 * MiB)) {
		log_warn("guest_mem=%s: expected a size of at least 2M (e.g. 16M); using 16M", value);
		opt->guest_ram = DEFAULT_GUEST_RAM;
	}
}

static void boot_report(const struct boot_info *bi)
{
	log_info("boot: loader '%s', command line '%s'", bi->loader_name, bi->cmdline);
	log_info("boot: %u memory map entries%s, %u modules, ACPI RSDP %s", bi->mmap_count,
		 bi->mmap_from_efi ? " (from the EFI map)" : "", bi->module_count,
		 bi->has_rsdp ? (bi->rsdp_revision >= 2 ? "v2" : "v1") : "absent");
	for (unsigned i = 0; i < bi->mmap_count; i++)
		log_info("  mem 0x%012lx-0x%012lx type %u", bi->mmap[i].base,
			 bi->mmap[i].base + bi->mmap[i].length, bi->mmap[i].type);
	if (bi->modules_dropped)
		log_warn("boot: %u modules beyond the first %d ignored", bi->modules_dropped,
			 BOOT_MAX_MODULES);
}

static const void *acpi_map_identity(void *ctx, uint64_t phys, size_t len)
{
	(void)ctx;
	/* Everything below the identity-map limit is readable; ACPI tables live there. */
	if (phys == 0 || phys >= MM_IDENTITY_LIMIT || len > MM_IDENTITY_LIMIT - phys)
		return NULL;
	return (const void *)phys;
}

/* Reads the ACPI tables and starts every processor the MADT lists as enabled; without a MADT,
 * Cloison runs on the boot CPU alone. */
static void cpus_start(const struct boot_info *bi)
{
	static uint32_t apic_ids[ACPI_MAX_CPUS];
	unsigned n = 0;
	int err = -E_NOENT;

	if (bi->has_rsdp)
		err = acpi_parse(bi->rsdp, bi->rsdp_length, acpi_map_identity, NULL, &acpi);
	for (unsigned i = 0; i < acpi.note_count; i++)
		log_warn("acpi: %s", acpi.notes[i]);
	if (err < 0 || !acpi.has_madt) {
		log_warn("acpi: %s: running on the boot CPU only",
			 !bi->has_rsdp ? "the boot loader passed no RSDP" :
			 err < 0 ? "the ACPI tables are unusable" : "no MADT lists the processors");
	} else {
		for (unsigned i = 0; i < acpi.cpu_count && n < ACPI_MAX_CPUS; i++)
			if (acpi.cpus[i].enabled)
				apic_ids[n++] = acpi.cpus[i].apic_id;
		log_info("acpi: %s %s, MADT lists %u CPUs (%u enabled)%s%s", acpi.oem_id,
			 acpi.used_xsdt ? "XSDT" : "RSDT", acpi.cpu_count, n,
			 acpi.has_fadt ? ", FADT" : "", acpi.s5_valid ? " with S5 power-off" : "");
		if (acpi.cpus_ignored)
			log_warn("acpi: %u CPUs beyond the first %d left out", acpi.cpus_ignored,
				 ACPI_MAX_CPUS);
	}
	platform_set_acpi(err == 0 ? &acpi : NULL);
	log_info("smp: %u of %u CPUs running", smp_start(apic_ids, n, err == 0 && acpi_needs_x2apic(&acpi)),
		 n ? n : 1);
}

__attribute__((noreturn)) static void idle(const struct options *opt)
{
	if (opt->shutdown_when_idle)
		platform_power_off(0);
	log_info("Cloison is idle: no guest can run");
	console_start();
	for (;;)
		cpu_idle_wait(); /* the console tick wakes this CPU */
}

/* Nothing can run: show what was logged, then stop this CPU. */
__attribute__((noreturn)) static void boot_failed(void)
{
	log_flush();
	halt_forever();
}

void kmain(uint32_t magic, uint32_t mbi_phys);
void kmain(uint32_t magic, uint32_t mbi_phys)
{
	struct options opt = { 0 };
	char why[320]; /* every missing VT-x feature by name fits */
	size_t where = 0;
	int mb2_err = -E_INVAL;

	memset(&boot_info, 0, sizeof(boot_info));
	if (magic == MB2_BOOTLOADER_MAGIC)
		/* total_size is the first word; the parser checks it against what it may read. */
		mb2_err = mb2_parse((const void *)(uint64_t)mbi_phys, *(const uint32_t *)(uint64_t)mbi_phys,
				    mbi_phys, &boot_info, &where);
	console_init(boot_info.cmdline);
	trap_init();
	cpu_init(&bsp_cpu, 0);
	platform_init();
	lapic_init();
	log_info("Cloison %s, a partitioning hypervisor for Intel VT-x", CLOISON_VERSION);
	if (magic != MB2_BOOTLOADER_MAGIC) {
		log_err("boot: not started by a multiboot2 loader (EAX = 0x%x, expected 0x%x)", magic,
			MB2_BOOTLOADER_MAGIC);
		boot_failed();
	}
	if (mb2_err < 0) {
		log_err("boot: multiboot2 information at 0x%x is corrupt at byte %lu: %s", mbi_phys,
			where, err_name(mb2_err));
		boot_failed();
	}
	options_parse(boot_info.cmdline, &opt);
	boot_report(&boot_info);
	if (mm_init(&boot_info) < 0)
		boot_failed();
	log_info("timer: TSC runs at %lu kHz (PIT calibration)", tsc_calibrate());
	cpus_start(&boot_info);
	guests_plan(&boot_info, boot_info.cmdline, opt.guest_ram);

	if (vmx_detect(why, sizeof(why)) < 0) {
		log_err("vmx: cannot run guests: %s", why);
		guests_print_map();
		smp_release(SMP_IDLE);
		idle(&opt);
	}
	log_info("vmx: VMCS revision 0x%x, controls pin 0x%x cpu 0x%x cpu2 0x%x exit 0x%x entry 0x%x",
		 vmx_basic_revision(vmx_caps.basic), vmx_ctls.pin, vmx_ctls.cpu, vmx_ctls.cpu2,
		 vmx_ctls.exit, vmx_ctls.entry);
	log_info("vmx: EPT%s%s, VPID %s, preemption timer %s", vmx_ctls.has_ept_2m ? " with 2 MiB pages" : "",
		 vmx_ctls.has_ept_ad ? " and A/D bits" : "", vmx_ctls.has_vpid ? "on" : "off",
		 vmx_ctls.has_preemption_timer ? "on" : "off");
	xstate_init();
	log_info("cpu: guests may enable XSAVE components 0x%lx (%u-byte area)%s", xstate.guest_mask,
		 xstate.size, xstate.enabled ? "" : ": no XSAVE, FXSAVE only");
	if (vmx_cpu_enable(&bsp_cpu) < 0 || exit_policy_init() < 0) {
		log_err("vmx: cannot enter VMX operation on cpu0");
		smp_release(SMP_IDLE);
		idle(&opt);
	}
	guests_create(&boot_info);
	if (!guest_count)
		log_warn("no guest to run: give Cloison Multiboot kernels as GRUB modules");
	guest_power_off_when_idle = opt.shutdown_when_idle;
	smp_release(SMP_RUN);
	console_start();
	guest_check_all_idle();
	guest_run_cpu();
}
