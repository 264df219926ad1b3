/* kvm_runner: the benchmarks' Linux KVM peer. Starts one Multiboot (v1) guest through /dev/kvm in
 * 32-bit protected mode, exactly as Cloison and GRUB do (kernel/mb1.c loads it), and serves its
 * port I/O in user space: a 16550 at 0x3f8-0x3ff (enough for a polled driver: LSR always says
 * THRE|TEMT; each transmitted line goes to stdout as "[NAME] text"), the exit port 0xf4, and
 * all-ones for any other port. KVM itself handles CPUID and VMCALL in the kernel; HLT ends the run.
 *
 * usage: kvm_runner [-n NAME] [-m MiB] GUEST.elf 'COMMAND LINE'
 *        kvm_runner --bochs-shutdown    (writes "Shutdown" to Bochs's port 0x8900: ends the emulator)
 * Built static for the peer's initramfs (tests/bench/bench.mk). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/kvm.h>
#include <sys/io.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <termios.h>
#include "kernel/hypercall.h"
#include "kernel/mb1.h"

#define DEFAULT_RAM_MIB 16
#define TSS_ADDR 0xfffbd000u /* three pages KVM needs below 4 GiB on Intel, out of the guest's RAM */
#define CPUID_MAX_ENTRIES 256
#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define LINE_MAX_BYTES 160
#define BOCHS_SHUTDOWN_PORT 0x8900

/* 16550 registers, offsets from GUEST_UART_PORT */
enum { UART_DATA, UART_IER, UART_IIR_FCR, UART_LCR, UART_MCR, UART_LSR, UART_MSR, UART_SCR };
#define UART_LCR_DLAB 0x80
#define UART_LSR_IDLE 0x60 /* THRE | TEMT: the transmitter is always empty */
#define UART_IIR_NONE 0x01
#define UART_MSR_READY 0xb0 /* DCD | DSR | CTS */

struct uart {
	uint8_t regs[8];
	uint8_t divisor[2];
	char line[LINE_MAX_BYTES];
	size_t line_len;
};

struct counts {
	unsigned long io, uart, other_io, mmio;
};

static const char *name = "guest";

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "kvm_runner: %s: ", name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* One write per line, so the lines of two runners sharing the console never interleave. */
static void emit_line(const char *text, size_t len)
{
	char buf[LINE_MAX_BYTES + 64];
	int n = snprintf(buf, sizeof(buf), "[%s] %.*s\n", name, (int)len, text);

	if (n > 0 && write(STDOUT_FILENO, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1) < 0)
		die("writing to stdout: %s", strerror(errno));
}

static void uart_tx(struct uart *u, uint8_t byte)
{
	if (byte == '\r')
		return;
	if (byte != '\n')
		u->line[u->line_len++] = (char)byte;
	if (byte == '\n' || u->line_len == sizeof(u->line)) {
		emit_line(u->line, u->line_len);
		u->line_len = 0;
	}
}

static uint8_t uart_read(struct uart *u, unsigned reg)
{
	bool dlab = u->regs[UART_LCR] & UART_LCR_DLAB;

	switch (reg) {
	case UART_DATA:
		return dlab ? u->divisor[0] : 0; /* nothing is ever received */
	case UART_IER:
		return dlab ? u->divisor[1] : u->regs[UART_IER];
	case UART_IIR_FCR:
		return UART_IIR_NONE | (u->regs[UART_IIR_FCR] & 1 ? 0xc0 : 0);
	case UART_LSR:
		return UART_LSR_IDLE;
	case UART_MSR:
		return UART_MSR_READY;
	default:
		return u->regs[reg];
	}
}

static void uart_write(struct uart *u, unsigned reg, uint8_t value)
{
	bool dlab = u->regs[UART_LCR] & UART_LCR_DLAB;

	if (reg == UART_DATA && !dlab)
		uart_tx(u, value);
	else if (reg <= UART_IER && dlab)
		u->divisor[reg] = value;
	else if (reg != UART_LSR && reg != UART_MSR)
		u->regs[reg] = value;
}

/* One KVM_EXIT_IO: returns true while the guest goes on, false once it wrote its exit code. */
static bool handle_io(struct kvm_run *run, struct uart *u, struct counts *c, int *exit_code)
{
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	uint16_t port = run->io.port;
	bool in = run->io.direction == KVM_EXIT_IO_IN;

	c->io++;
	for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size) {
		if (!in && port == GUEST_EXIT_PORT) {
			*exit_code = data[0];
			return false;
		}
		if (port >= GUEST_UART_PORT && port + run->io.size <= GUEST_UART_PORT + 8) {
			c->uart++;
			/* A wider access touches the following registers in turn, like the ISA bus. */
			for (unsigned b = 0; b < run->io.size; b++) {
				if (in)
					data[b] = uart_read(u, port - GUEST_UART_PORT + b);
				else
					uart_write(u, port - GUEST_UART_PORT + b, data[b]);
			}
			continue;
		}
		c->other_io++;
		if (in)
			memset(data, 0xff, run->io.size);
	}
	return true;
}

static void *read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	uint8_t *buf;
	size_t got = 0;

	if (fd < 0 || fstat(fd, &st) < 0)
		die("%s: %s", path, strerror(errno));
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		die("%s: out of memory", path);
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n <= 0)
			die("%s: read failed: %s", path, n < 0 ? strerror(errno) : "short file");
		got += (size_t)n;
	}
	close(fd);
	*len = got;
	return buf;
}

static int kvm_ioctl(int fd, unsigned long req, void *arg, const char *what)
{
	int r = ioctl(fd, req, arg);
	if (r < 0)
		die("%s: %s", what, strerror(errno));
	return r;
}

/* What KVM supports, plus the hypervisor-present bit a VMM adds itself (QEMU does the same). */
static void setup_cpuid(int kvm, int vcpu)
{
	size_t size = sizeof(struct kvm_cpuid2) + CPUID_MAX_ENTRIES * sizeof(struct kvm_cpuid_entry2);
	struct kvm_cpuid2 *cpuid = calloc(1, size);

	if (!cpuid)
		die("out of memory");
	cpuid->nent = CPUID_MAX_ENTRIES;
	kvm_ioctl(kvm, KVM_GET_SUPPORTED_CPUID, cpuid, "KVM_GET_SUPPORTED_CPUID");
	for (uint32_t i = 0; i < cpuid->nent; i++)
		if (cpuid->entries[i].function == 1)
			cpuid->entries[i].ecx |= CPUID_1_ECX_HYPERVISOR;
	kvm_ioctl(vcpu, KVM_SET_CPUID2, cpuid, "KVM_SET_CPUID2");
	free(cpuid);
}

/* Guest TSC = host TSC (offset 0), so two guests' RDTSC readings compare across a switch. */
static const char *setup_tsc(int vcpu)
{
	uint64_t offset = 0;
	struct kvm_device_attr attr = {
		.group = KVM_VCPU_TSC_CTRL,
		.attr = KVM_VCPU_TSC_OFFSET,
		.addr = (uint64_t)(uintptr_t)&offset,
	};

	if (ioctl(vcpu, KVM_HAS_DEVICE_ATTR, &attr) < 0 || ioctl(vcpu, KVM_SET_DEVICE_ATTR, &attr) < 0)
		return "kvm-default";
	return "host";
}

/* Multiboot machine state, Multiboot 0.6.96 section 3.2: flat 4 GiB segments, CR0.PE, no paging. */
static void setup_protected_mode(int vcpu, uint32_t entry, uint32_t mbi)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_segment code = {
		.base = 0, .limit = 0xffffffff, .selector = 0x08, .type = 11, .present = 1,
		.dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1,
	};
	struct kvm_segment data = code;

	data.selector = 0x10;
	data.type = 3;
	kvm_ioctl(vcpu, KVM_GET_SREGS, &sregs, "KVM_GET_SREGS");
	sregs.cs = code;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
	sregs.cr0 = (sregs.cr0 | 1) & ~0x80000000ull; /* PE on, PG off */
	sregs.cr4 = 0;
	sregs.efer = 0;
	kvm_ioctl(vcpu, KVM_SET_SREGS, &sregs, "KVM_SET_SREGS");

	memset(&regs, 0, sizeof(regs));
	regs.rip = entry;
	regs.rax = MB1_BOOTLOADER_MAGIC;
	regs.rbx = mbi;
	regs.rflags = 2;
	kvm_ioctl(vcpu, KVM_SET_REGS, &regs, "KVM_SET_REGS");
}

/* Waits until the console has sent everything (the kernel's serial driver transmits at the baud
 * rate, and Bochs stops at once), then writes "Shutdown" to Bochs's port 0x8900. */
static int bochs_shutdown(void)
{
	static const char msg[] = "Shutdown";

	tcdrain(STDOUT_FILENO);
	usleep(100000); /* the UART's own FIFO */
	if (ioperm(BOCHS_SHUTDOWN_PORT, 1, 1) < 0) {
		fprintf(stderr, "kvm_runner: ioperm(0x%x): %s\n", BOCHS_SHUTDOWN_PORT, strerror(errno));
		return 1;
	}
	for (const char *p = msg; *p; p++)
		outb((unsigned char)*p, BOCHS_SHUTDOWN_PORT);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long ram_mib = DEFAULT_RAM_MIB;
	struct counts counts = { 0 };
	struct uart uart = { 0 };
	struct mb1_image im;
	struct mb1_boot_params params = { 0 };
	const char *why = "", *tsc;
	int opt, kvm, vm, vcpu, exit_code = -1;
	uint32_t mbi;
	size_t image_len;
	void *image;
	uint8_t *ram;
	struct kvm_run *run;
	long run_size;

	if (argc == 2 && strcmp(argv[1], "--bochs-shutdown") == 0)
		return bochs_shutdown();
	while ((opt = getopt(argc, argv, "n:m:")) != -1) {
		if (opt == 'n')
			name = optarg;
		else if (opt == 'm')
			ram_mib = strtoul(optarg, NULL, 0);
		else
			return 2;
	}
	if (argc - optind != 2 || ram_mib < 2 || ram_mib > 2048) {
		fprintf(stderr, "usage: kvm_runner [-n NAME] [-m MiB] GUEST.elf 'COMMAND LINE'\n"
				"       kvm_runner --bochs-shutdown\n");
		return 2;
	}

	image = read_file(argv[optind], &image_len);
	ram = mmap(NULL, ram_mib << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		   -1, 0);
	if (ram == MAP_FAILED)
		die("cannot map %lu MiB of guest RAM: %s", ram_mib, strerror(errno));
	if (mb1_parse(image, image_len, &im, &why) < 0)
		die("%s is not a usable Multiboot kernel: %s", argv[optind], why);
	if (mb1_load(&im, image, image_len, ram, ram_mib << 20) < 0)
		die("%s does not fit in %lu MiB", argv[optind], ram_mib);
	params.ram_size = ram_mib << 20;
	params.cmdline = argv[optind + 1];
	params.loader_name = "kvm_runner";
	params.modules_start = (im.load_end + 0xfffu) & ~0xfffu;
	if (mb1_boot_setup(ram, &params, &mbi) < 0)
		die("no room for the Multiboot information");

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		die("/dev/kvm: %s", strerror(errno));
	if (ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
		die("unexpected KVM API version");
	vm = kvm_ioctl(kvm, KVM_CREATE_VM, 0, "KVM_CREATE_VM");
	kvm_ioctl(vm, KVM_SET_TSS_ADDR, (void *)(uintptr_t)TSS_ADDR, "KVM_SET_TSS_ADDR");
	struct kvm_userspace_memory_region region = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = ram_mib << 20,
		.userspace_addr = (uint64_t)(uintptr_t)ram,
	};
	kvm_ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region, "KVM_SET_USER_MEMORY_REGION");
	vcpu = kvm_ioctl(vm, KVM_CREATE_VCPU, 0, "KVM_CREATE_VCPU");
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size <= 0)
		die("KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
	run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		die("mapping kvm_run: %s", strerror(errno));
	setup_cpuid(kvm, vcpu);
	tsc = setup_tsc(vcpu);
	setup_protected_mode(vcpu, im.entry, mbi);
	printf("[%s] kvm_runner: %lu MiB, entry 0x%x, guest TSC = %s TSC; user space serves the UART "
	       "and port 0xf4, KVM serves CPUID and VMCALL\n", name, ram_mib, im.entry, tsc);
	fflush(stdout);

	for (bool running = true; running;) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			die("KVM_RUN: %s", strerror(errno));
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			running = handle_io(run, &uart, &counts, &exit_code);
			break;
		case KVM_EXIT_MMIO:
			counts.mmio++;
			if (!run->mmio.is_write)
				memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
			break;
		case KVM_EXIT_HLT:
			printf("[%s] kvm_runner: guest halted\n", name);
			running = false;
			break;
		case KVM_EXIT_SHUTDOWN:
			printf("[%s] kvm_runner: guest shut down (triple fault)\n", name);
			running = false;
			break;
		case KVM_EXIT_FAIL_ENTRY:
			die("VM entry failed: reason 0x%llx",
			    (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		case KVM_EXIT_INTERNAL_ERROR:
			die("KVM internal error, suberror %u", run->internal.suberror);
		default:
			die("unexpected exit reason %u", run->exit_reason);
		}
	}
	if (uart.line_len)
		emit_line(uart.line, uart.line_len);
	printf("[%s] kvm_runner: exit code %d; exits to user space: %lu I/O (%lu UART, %lu other), "
	       "%lu MMIO\n", name, exit_code, counts.io, counts.uart, counts.other_io, counts.mmio);
	return exit_code < 0 ? 1 : 0;
}
