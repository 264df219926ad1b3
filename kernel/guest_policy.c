/* What happens when a guest powers off, resets or crashes: its on_poweroff, on_reboot and
 * on_crash actions (stop, restart, or preserve for inspection). */
#include "kernel/guest.h"
#include "kernel/fmt.h"
#include "kernel/log.h"
#include "vmx/exit.h"
#include "kernel/percpu.h"

static void guest_apply(struct guest *g, enum guest_action action, const char *what)
{
	switch (action) {
	case GUEST_ACTION_RESTART:
		/* Started again from its image once its RAM is scrubbed (kernel/guest.c). */
		g->restart_pending = true;
		guest_stop(g, "%s; restarting (policy restart)", what);
		break;
	case GUEST_ACTION_PRESERVE:
		g->preserved = true;
		fmt_snprintf(g->stop_reason, sizeof(g->stop_reason), "%s; preserved", what);
		if (this_cpu()->current && this_cpu()->current->guest == g)
			vcpu_save_state(this_cpu()->current); /* the vCPU that crashed */
		guest_set_state(g, GUEST_PAUSED);
		log_info("guest %s %s: RAM and registers kept for 'info %s'; 'stop %s' frees them",
			 g->name, what, g->name, g->name);
		guest_check_all_idle();
		break;
	default:
		guest_stop(g, "%s", what);
		break;
	}
}

void guest_platform_event(struct guest *g, enum vplat_event event)
{
	const char *what = event == VPLAT_EVENT_POWEROFF ? "powered off (ACPI S5)" : "reset itself";

	if (g->panic_seen) {
		guest_crash(g, "kernel panic, then %s", what);
		return;
	}
	guest_apply(g, event == VPLAT_EVENT_POWEROFF ? g->on_poweroff : g->on_reboot, what);
}

void guest_crash(struct guest *g, const char *fmt, ...)
{
	char what[GUEST_STOP_REASON_MAX - 32];
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	guest_apply(g, g->on_crash, what);
}
