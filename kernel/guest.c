/* Guest lifecycle: build a partition from a Multiboot image, run the guests of a CPU, stop them. */
#include "kernel/guest.h"
#include "kernel/mb1.h"
#include "kernel/mm.h"
#include "kernel/log.h"
#include "kernel/fmt.h"
#include "kernel/lib.h"
#include "kernel/percpu.h"
#include "vmx/vmx.h"
#include "vmx/exit.h"
#include "drivers/timer.h"
#include "drivers/platform.h"
#include "kernel/x86.h"

#define GUEST_TIME_SLICE_MS 10

struct guest guests[MAX_GUESTS];
unsigned guest_count;

static void *ept_table_alloc(void *ctx, uint64_t *phys)
{
	(void)ctx;
	*phys = page_alloc_phys();
	return (void *)*phys;
}

static void *ept_table_virt(void *ctx, uint64_t phys)
{
	(void)ctx;
	return (void *)phys; /* identity map */
}

static void ept_table_free(void *ctx, uint64_t phys)
{
	(void)ctx;
	page_free_phys(phys);
}

static const struct ept_mm ept_host_mm = {
	.alloc = ept_table_alloc,
	.to_virt = ept_table_virt,
	.free = ept_table_free,
};

static void guest_flush_line(struct guest *g)
{
	if (g->line_len) {
		log_guest_line(g->name, g->line, g->line_len);
		g->line_len = 0;
	}
}

/* Each byte the guest's UART transmits; whole lines go to the console under the guest's name. */
static void guest_uart_tx(void *ctx, uint8_t byte)
{
	struct guest *g = ctx;

	if (byte == '\n') {
		guest_flush_line(g);
		return;
	}
	if (byte == '\r')
		return;
	g->line[g->line_len++] = (char)byte;
	if (g->line_len == sizeof(g->line))
		guest_flush_line(g);
}

static int guest_load(struct guest *g, const char *cmdline)
{
	const void *image = (const void *)g->image->start;
	size_t image_size = g->image->end - g->image->start;
	struct mb1_image im;
	struct mb1_boot_params params;
	const char *why = "";
	uint32_t mbi_gpa;
	int err;

	err = mb1_parse(image, image_size, &im, &why);
	if (err < 0) {
		log_err("guest %s: image '%s' is not a usable Multiboot kernel: %s", g->name,
			g->image->string, why);
		return err;
	}
	err = mb1_load(&im, image, image_size, (uint8_t *)g->ram_hpa, g->ram_size);
	if (err < 0) {
		log_err("guest %s: image '%s' (0x%x-0x%x) %s", g->name, g->image->string,
			im.load_start, im.load_end, err == -E_RANGE ?
			"does not fit in the guest's RAM or overlaps the boot information area" :
			err_name(err));
		return err;
	}
	memset(&params, 0, sizeof(params));
	params.ram_size = g->ram_size;
	params.cmdline = cmdline;
	params.loader_name = "Cloison";
	params.modules_start = (uint32_t)ALIGN_UP((uint64_t)im.load_end, PAGE_SIZE);
	err = mb1_boot_setup((uint8_t *)g->ram_hpa, &params, &mbi_gpa);
	if (err < 0) {
		log_err("guest %s: no room for the Multiboot information: %s", g->name, err_name(err));
		return err;
	}
	g->entry = im.entry;
	g->mbi_gpa = mbi_gpa;
	return 0;
}

int guest_create(const char *name, const struct boot_module *image, const char *cmdline,
		 uint64_t ram_size, unsigned cpu)
{
	struct guest *g;
	int err;

	if (guest_count == MAX_GUESTS) {
		log_err("guest %s: refused: Cloison holds at most %d guests", name, MAX_GUESTS);
		return -E_FULL;
	}
	g = &guests[guest_count];
	memset(g, 0, sizeof(*g));
	g->id = guest_count;
	str_copy(g->name, name, sizeof(g->name));
	str_copy(g->cmdline, cmdline, sizeof(g->cmdline));
	g->image = image;
	g->ram_size = ALIGN_UP(ram_size, 2 * MiB);
	g->vcpu.guest = g;
	g->vcpu.cpu = cpu;
	g->vcpu.vpid = vmx_ctls.has_vpid ? (uint16_t)(g->id + 1) : 0;
	vuart_init(&g->uart, guest_uart_tx, g);

	g->ram_hpa = phys_alloc_zeroed(g->ram_size, 2 * MiB);
	if (!g->ram_hpa) {
		log_err("guest %s: refused: needs %lu MiB of RAM, the largest free range is %lu MiB",
			name, g->ram_size / MiB, frame_pool_largest_free(&frame_pool) / MiB);
		return -E_NOMEM;
	}
	err = ept_init(&g->ept, &ept_host_mm, vmx_ctls.has_ept_2m);
	if (!err)
		err = ept_map(&g->ept, 0, g->ram_hpa, g->ram_size, EPT_RWX, EPT_MEMTYPE_WB);
	if (err < 0) {
		log_err("guest %s: refused: building its EPT failed: %s", name, err_name(err));
		goto fail;
	}
	g->eptp = ept_eptp(&g->ept, false);
	err = guest_load(g, cmdline);
	if (err < 0)
		goto fail;

	guest_count++;
	g->state = GUEST_RUNNING;
	log_info("guest %s: id %u, RAM 0x%lx-0x%lx (%lu MiB) as guest-physical 0-0x%lx, cpu%u, EPT %u tables",
		 g->name, g->id, g->ram_hpa, g->ram_hpa + g->ram_size, g->ram_size / MiB, g->ram_size,
		 cpu, g->ept.tables);
	return 0;

fail:
	if (g->ept.pml4)
		ept_destroy(&g->ept);
	phys_free(g->ram_hpa, g->ram_size);
	return err;
}

void guest_stop(struct guest *g, const char *fmt, ...)
{
	va_list ap;

	guest_flush_line(g);
	va_start(ap, fmt);
	fmt_vsnprintf(g->stop_reason, sizeof(g->stop_reason), fmt, ap);
	va_end(ap);
	g->state = GUEST_STOPPED;
	log_info("guest %s stopped: %s", g->name, g->stop_reason);
	/* Scrub the partition so nothing of this run leaks into the next. */
	memset((void *)g->ram_hpa, 0, g->ram_size);
	guest_check_all_idle();
}

void guest_exit(struct guest *g, int code, const char *how)
{
	g->exited = true;
	g->exit_code = code;
	guest_stop(g, "exit code %d (%s)", code, how);
}

bool guest_power_off_when_idle;

void guest_check_all_idle(void)
{
	if (guest_any_active())
		return;
	log_info("no runnable guest is left");
	if (guest_power_off_when_idle)
		platform_power_off(0);
}

bool guest_any_active(void)
{
	for (unsigned i = 0; i < guest_count; i++)
		if (guests[i].state == GUEST_RUNNING)
			return true;
	return false;
}

/* Round robin over this CPU's runnable guests, starting after the one that ran last. */
static struct guest *guest_pick(unsigned cpu, unsigned *cursor)
{
	for (unsigned n = 0; n < guest_count; n++) {
		struct guest *g = &guests[(*cursor + 1 + n) % guest_count];

		if (g->state == GUEST_RUNNING && g->vcpu.cpu == cpu) {
			*cursor = g->id;
			return g;
		}
	}
	return NULL;
}

static void guest_run_slice(struct guest *g)
{
	struct vcpu *v = &g->vcpu;
	uint64_t start;

	if (!v->vmcs_ready) {
		if (vmcs_setup(v, g->entry, g->mbi_gpa) < 0) {
			guest_stop(g, "its VMCS could not be set up");
			return;
		}
		v->vmcs_ready = true;
	}
	if (vmcs_load(v) < 0) {
		guest_stop(g, "its VMCS could not be loaded");
		return;
	}
	if (vmx_ctls.has_preemption_timer)
		vmcs_write(VMCS_VMX_PREEMPTION_TIMER_VALUE,
			   (tsc_per_ms * GUEST_TIME_SLICE_MS) >> vmx_misc_preemption_rate(vmx_caps.misc));
	if (!v->launched && !g->start_tsc)
		g->start_tsc = rdtsc();
	v->switches++;
	start = rdtsc();
	for (;;) {
		enum exit_action action;

		if (vmx_enter(v)) {
			vmx_report_instruction_error(v->launched ? "VMRESUME" : "VMLAUNCH");
			vcpu_dump(v);
			guest_stop(g, "VM entry failed");
			break;
		}
		action = vmx_handle_exit(v);
		if (action == EXIT_STOPPED || action == EXIT_YIELD || g->state != GUEST_RUNNING)
			break;
	}
	v->run_ticks += rdtsc() - start;
}

void guest_run_cpu(void)
{
	unsigned cpu = this_cpu_id();
	unsigned cursor = guest_count ? guest_count - 1 : 0;

	for (;;) {
		struct guest *g = guest_pick(cpu, &cursor);

		if (g)
			guest_run_slice(g);
		else
			cpu_idle_wait(); /* until an IPI brings work */
	}
}
