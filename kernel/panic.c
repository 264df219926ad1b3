/* panic(): print the CPU and the reason, then halt this CPU (the others stop through NMIs once SMP lands). */
#include "kernel/panic.h"
#include "kernel/log.h"
#include "kernel/percpu.h"
#include "kernel/x86.h"
#include "drivers/platform.h"

static volatile bool panicking;

bool panic_in_progress(void)
{
	return panicking;
}

void panic(const char *fmt, ...)
{
	va_list ap;

	irq_disable();
	panicking = true;
	va_start(ap, fmt);
	log_printf(LOG_ERR, "PANIC on cpu%u:", this_cpu_id());
	log_vprintf(LOG_ERR, fmt, ap);
	va_end(ap);
	platform_stop_other_cpus();
	log_err("hypervisor halted");
	log_flush_unlocked();
	halt_forever();
}
