/* I/O-instruction exits: decode the qualification, route the port to the guest's virtual device. */
#include "vmx/exit.h"
#include "vmx/vmx.h"
#include "kernel/hypercall.h"
#include "kernel/log.h"
#include "kernel/x86.h"
#include "drivers/virt/vmachine.h"

#define UNHANDLED_IO_REPORTS 4 /* per guest, then only counted */

/* I/O exit qualification, SDM Vol. 3C 28.2.1 Table 28-5 */
struct io_request {
	uint16_t port;
	uint8_t size; /* 1, 2 or 4 bytes */
	bool in;
	bool string;
	bool rep;
};

static struct io_request io_decode(uint64_t q)
{
	struct io_request io = {
		.size = (uint8_t)((q & 7) + 1),
		.in = (q >> 3) & 1,
		.string = (q >> 4) & 1,
		.rep = (q >> 5) & 1,
		.port = (uint16_t)(q >> 16),
	};
	return io;
}

static bool io_uart(struct guest *g, const struct io_request *io, uint32_t *value)
{
	if (io->port < GUEST_UART_PORT || io->port > GUEST_UART_PORT + 7)
		return false;
	/* Byte registers; a wider access touches the following registers in turn, like the ISA bus. */
	spin_lock(&g->uart_lock);
	for (unsigned i = 0; i < io->size; i++) {
		unsigned reg = io->port - GUEST_UART_PORT + i;

		if (io->in)
			*value = (*value & ~(0xffu << (8 * i))) |
				 ((uint32_t)vuart_read(&g->uart, reg) << (8 * i));
		else
			vuart_write(&g->uart, reg, (uint8_t)(*value >> (8 * i)));
	}
	guest_uart_refill(g); /* a read may have made room for what was typed */
	spin_unlock(&g->uart_lock);
	return true;
}

enum exit_action exit_io(struct vcpu *vcpu, const struct vmx_exit *exit)
{
	struct guest *g = vcpu->guest;
	struct io_request io = io_decode(exit->qualification);
	uint64_t *rax = &vcpu->regs.gpr[GPR_RAX];
	uint32_t mask = io.size == 4 ? 0xffffffffu : (1u << (8 * io.size)) - 1;
	uint32_t value = io.in ? 0xffffffffu : (uint32_t)*rax & mask;

	if (io.string) {
		guest_stop(g, "string I/O (INS/OUTS) on port 0x%x is not supported, rip 0x%lx", io.port,
			   exit->guest_rip);
		return EXIT_STOPPED;
	}
	if (!io.in && io.port == GUEST_EXIT_PORT) {
		guest_exit(g, (int)(value & 0xff), "port 0xf4");
		return EXIT_STOPPED;
	}
	if (g->vm) {
		enum vplat_event event;

		bool handled;

		spin_lock(&g->vm_lock);
		handled = vmachine_io(g->vm, io.port, io.size, io.in, &value, rdtsc(), &event);
		spin_unlock(&g->vm_lock);
		if (handled) {
			if (event != VPLAT_EVENT_NONE) {
				guest_platform_event(g, event);
				return EXIT_STOPPED;
			}
			goto done;
		}
	}
	if (!io_uart(g, &io, &value)) {
		if (g->unhandled_io++ < UNHANDLED_IO_REPORTS)
			log_info("guest %s: %s of unemulated port 0x%x %s", g->name,
				 io.in ? "read" : "write", io.port,
				 io.in ? "returns all-ones" : "ignored");
	}
done:
	if (io.in) {
		/* IN to EAX zero-extends into RAX; AL and AX keep the rest, SDM Vol. 2A IN. */
		if (io.size == 4)
			*rax = value;
		else
			*rax = (*rax & ~(uint64_t)mask) | (value & mask);
	}
	return EXIT_ADVANCE;
}
