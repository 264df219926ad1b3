/* Guests and their virtual CPUs: configuration, partition, state and counters. */
#ifndef CLOISON_GUEST_H
#define CLOISON_GUEST_H

#include <stdint.h>
#include <stdbool.h>
#include "vmx/ept.h"
#include "vmx/vmcs.h"
#include "drivers/virt/vuart.h"
#include "boot/boot_info.h"
#include "drivers/virt/vplatform.h"
#include "kernel/sched.h"
#include "kernel/ring.h"
#include "kernel/spinlock.h"
#include "kernel/vcpu_context.h"
#include "kernel/bzimage.h"
#include "kernel/config.h"

#include "kernel/limits.h"

struct per_cpu;

#define GUEST_NAME_MAX 32
#define GUEST_CMDLINE_MAX 256
#define GUEST_LINE_MAX 160
#define GUEST_STOP_REASON_MAX 160
#define GUEST_MAX_VCPUS 16
#define GUEST_INPUT_MAX 256
/* A Linux guest's RAM beyond this is mapped from 4 GiB on: the hole holds its LAPIC and I/O
 * APIC pages (as PC chipsets leave 3.5-4 GiB to MMIO). */
#define GUEST_LOW_RAM_MAX 0xe0000000ull
#define GUEST_HIGH_RAM_BASE 0x100000000ull /* typed bytes held for a guest whose UART FIFO is full */ /* vCPUs of one guest: its ACPI tables and platform describe them */

/* Guest general-purpose registers in the SDM's numbering (Vol. 3C Table 28-3): RAX, RCX, RDX,
 * RBX, RSP (unused: RSP lives in the VMCS), RBP, RSI, RDI, R8-R15. */
enum guest_gpr {
	GPR_RAX, GPR_RCX, GPR_RDX, GPR_RBX, GPR_RSP, GPR_RBP, GPR_RSI, GPR_RDI,
	GPR_R8, GPR_R9, GPR_R10, GPR_R11, GPR_R12, GPR_R13, GPR_R14, GPR_R15,
	GPR_COUNT,
};

struct guest_regs {
	uint64_t gpr[GPR_COUNT];
};

enum guest_state {
	GUEST_STOPPED, /* never started, or stopped: see stop_reason */
	GUEST_RUNNING, /* runnable */
	GUEST_PAUSED,  /* taken off its CPU by the operator, state kept */
	GUEST_HALTED,  /* HLT with nothing to wake it */
	GUEST_SCRUBBING, /* stopped; its CPU is still zeroing its RAM, then it becomes GUEST_STOPPED */
};

/* What the console CPU asks of a guest's own CPU; that CPU carries it out at its next exit. */
enum guest_request {
	GUEST_REQUEST_NONE,
	GUEST_REQUEST_PAUSE,
	GUEST_REQUEST_STOP,
};

struct guest;

/* Why a vCPU does not run although its guest does. */
enum vcpu_block {
	VCPU_RUNNABLE,
	VCPU_HLT,       /* HLT with interrupts on: until its platform's next event or a kick */
	VCPU_WAIT_SIPI, /* an application processor before its SIPI (or after an INIT) */
};

struct vcpu {
	struct guest_regs regs; /* first: vmx/vmexit.S reaches it through the vcpu pointer */
	struct guest *guest;
	unsigned index;  /* in its guest: vCPU n has APIC ID n */
	unsigned cpu;    /* the physical CPU it is pinned to */
	struct sched_entity sched;   /* on that CPU's run queue */
	volatile enum vcpu_block block;
	volatile bool on_cpu;        /* inside its run loop: its VMCS may be live, its RAM in use */
	uint64_t vmcs_phys;
	bool vmcs_ready; /* set up on the CPU that runs it (host state is per CPU) */
	bool launched;
	uint16_t vpid; /* 0 when VPID is off */
	uint64_t exits[EXIT_REASON_MAX];
	uint64_t exits_total;
	uint32_t last_exit_reason;
	uint64_t last_exit_qualification;
	struct vcpu_context context; /* switched between CPU-mates (kernel/vcpu_context.c) */
	bool context_fresh;          /* reset for a new run: load it even if the CPU last ran it */
	uint8_t cr8;                 /* the guest's task priority (CR8), never the host's TPR */
	uint64_t wake_tsc;           /* halted with interrupts on: its platform's next event */
	uint64_t timer_due;          /* TSC at which its VMX-preemption timer fires (vmx_arm_preemption_timer) */
	/* Fast exits left before the fast path looks at the TSC: the preemption timer counts only
	 * while the guest runs, so a guest that mostly exits would hold its CPU far past timer_due */
	uint8_t fast_budget;
	uint64_t switches;  /* times the scheduler put it on its CPU */
	/* Guest state outside the GPRs, read from the VMCS when the console asks (guest_sync_regs)
	 * and when the guest crashes; no exit or switch pays for it otherwise. */
	struct {
		uint64_t rip, rsp, rflags, cr0, cr3, cr4, efer;
		bool valid;
	} saved;
};

struct guest_config;
struct vmachine;

struct guest {
	unsigned id;
	char name[GUEST_NAME_MAX];
	char cmdline[GUEST_CMDLINE_MAX];
	const struct boot_module *image;
	const struct boot_module *modules[MAX_GUEST_MODULES]; /* handed to it as Multiboot modules */
	unsigned module_count;
	unsigned cpu;             /* vCPU 0's physical CPU: where its scrub and requests go */
	uint64_t cpu_mask;        /* the physical CPUs of its vCPUs, bit n = CPU n */
	unsigned nr_vcpus;
	struct vcpu *vcpus[GUEST_MAX_VCPUS]; /* vCPU i on the i-th CPU of cpu_mask */
	struct spinlock vm_lock;  /* its vCPUs reach the platform from their own CPUs */
	uint64_t ram_size;
	uint64_t ram_hpa; /* one contiguous host-physical range, mapped at guest-physical 0 */
	uint64_t ram_low; /* bytes of it below 4 GiB: ram_size, or GUEST_LOW_RAM_MAX (rest at 4 GiB) */
	bool ram_clean;      /* all zero: scrubbed since its last run (nothing to do at start) */
	uint64_t scrub_done; /* bytes of the scrub in progress already zeroed */
	uint64_t scrub_start_tsc, scrub_ticks; /* the last complete scrub took scrub_ticks */
	struct ept ept;
	struct ept_page_counts ept_pages; /* its RAM's EPT leaves by size */
	uint64_t eptp;
	uint32_t entry;   /* guest-physical entry point of the loaded image */
	uint32_t mbi_gpa; /* its Multiboot information block */
	struct vmachine *vm;       /* its virtual PC (LAPIC, I/O APIC, PIC, PIT, RTC, ACPI), or NULL */
	const struct boot_module *initrd; /* a Linux guest's initramfs, or NULL */
	bool is_linux;             /* its image is a bzImage: started by the Linux boot protocol */
	struct linux_entry linux_entry;
	enum guest_action on_poweroff, on_reboot, on_crash;
	enum guest_platform platform;
	bool restart_pending;      /* start again once the scrub of this stop is done */
	bool load_pending;         /* started at boot: its CPU zeroes its RAM and loads its image just
				    * before its first entry, so guests start while the next are built */
	bool preserved;            /* crashed with on_crash = preserve: kept for `info` until `stop` */
	bool panic_seen;           /* its console said "Kernel panic": the reset that follows is a crash */
	unsigned panic_match;      /* bytes of the panic banner matched so far */

	struct spinlock uart_lock; /* the guest's CPU and the console CPU both reach the UART */
	struct vuart uart;
	struct ring console;       /* everything the guest's UART sent, for `console GUEST` */
	uint8_t input[GUEST_INPUT_MAX]; /* typed for it, waiting for room in its UART's FIFO */
	unsigned input_head, input_count;
	bool console_prefixed;     /* also print each line on the main console as "[name] text" */
	volatile bool console_attached; /* set by the console while `console NAME` shows it raw */
	char line[GUEST_LINE_MAX];
	unsigned line_len;

	volatile enum guest_state state;
	volatile enum guest_request request;
	bool exited;      /* stopped by its own request: exit_code is valid */
	int exit_code;
	char stop_reason[GUEST_STOP_REASON_MAX];
	uint64_t start_tsc; /* just before the first VM entry of this run */
	uint64_t unhandled_io;
	uint64_t refused_msrs;
};

extern struct guest guests[MAX_GUESTS];
extern unsigned guest_count;

/* Creates a guest in the RAM the planner gave it; when gc->autostart, loads its image and queues
 * it on its CPU. On error prints why and returns < 0 (the caller frees the RAM). */
int guest_create(const struct guest_config *gc, uint64_t ram_hpa, const struct boot_module *image,
		 const struct boot_module *const *modules, const struct boot_module *initrd);
/* A Linux bzImage (boot.rst's magic numbers), and loading one with its initrd, ACPI tables and
 * virtual platform into the guest's zeroed RAM (kernel/guest_linux.c). */
bool guest_image_is_linux(const struct boot_module *image);
int guest_linux_load(struct guest *g);
/* Its virtual PC and the ACPI tables that describe it, in its zeroed RAM (any guest with
 * platform = pc). */
int guest_platform_setup(struct guest *g, uint64_t *rsdp);
/* What the guest asked of its platform (ACPI S5, a reset): its on_poweroff / on_reboot policy.
 * The guest leaves its CPU either way. */
void guest_platform_event(struct guest *g, enum vplat_event event);
/* The guest crashed (triple fault, unhandled exit, a reset after a kernel panic): on_crash. */
void guest_crash(struct guest *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Loads a stopped guest's image into freshly zeroed RAM and makes it runnable on its CPU. A guest
 * whose RAM is still being scrubbed is waited for (on its own CPU the rest is done here). */
int guest_start(struct guest *g);
/* Stops a guest for good with a reason printed on the console. It goes to GUEST_SCRUBBING at once
 * and its own CPU zeroes its RAM in 2 MiB steps between other work; only then is it GUEST_STOPPED
 * (so a stopped guest's RAM is always clean). No-op when it is stopped or scrubbing already.
 * @pre called on the guest's own CPU, or while it is not running. */
void guest_stop(struct guest *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void guest_exit(struct guest *g, int code, const char *how);
void guest_set_state(struct guest *g, enum guest_state state);
/* A vCPU blocks (HLT, waiting for its SIPI) or runs again; its CPU is woken when it may run. */
void vcpu_set_block(struct vcpu *v, enum vcpu_block block);
/* The vCPUs in mask got an interrupt, NMI, INIT or SIPI from their platform: the blocked ones
 * run again, those running on another CPU are made to exit so it is delivered. */
void guest_kick_vcpus(struct guest *g, uint32_t mask, const struct vcpu *self);
/* None of its vCPUs is on a CPU (after a stop or pause, once they have all left). */
bool guest_off_cpus(const struct guest *g);
/* The host-physical address of guest-physical [gpa, gpa + len) when all of it is the guest's
 * RAM (in one piece), else false. */
bool guest_gpa_to_hpa(const struct guest *g, uint64_t gpa, uint64_t len, uint64_t *hpa);
/* Sums of its vCPUs' figures. */
uint64_t guest_run_ticks(const struct guest *g);
uint64_t guest_exits(const struct guest *g);
bool guest_any_active(void);
/* Once no guest can run anywhere: say so and, with onidle=shutdown, power off. */
void guest_check_all_idle(void);
extern bool guest_power_off_when_idle;
extern bool guest_console_prefixed; /* console = prefixed in the configuration */
/* This CPU's scheduler loop: runs its guests round robin, sleeps in HLT when none can run. */
__attribute__((noreturn)) void guest_run_cpu(void);
/* The preemption timer fired for v, the vCPU running on this CPU (every guest register is
 * stored). When that ended v's slice and the vCPU the scheduler picks next needs nothing of
 * the run loop, the switch is made here, on the exit path: v is accounted, the next vCPU's
 * context and VMCS are loaded, its slice begins and its timer is armed; returns it, to be
 * entered at once. NULL: the run loop takes the exit (a poll step, a halted CPU-mate or scrub
 * to look at, or a next vCPU that needs more). */
struct vcpu *guest_switch_on_timer(struct vcpu *v);
/* Copies RIP, RSP, RFLAGS, CRs, EFER out of the current VMCS into vcpu->saved. */
void vcpu_save_state(struct vcpu *vcpu);
/* Brings the register copies of g's vCPUs (vcpu->saved) up to date for the console: this CPU
 * copies its own at once, the other CPUs at their next exit (kicked by an NMI); waits for them
 * at most timeout_us. Returns whether every copy is fresh (a stale one stays readable). */
bool guest_sync_regs(struct guest *g, uint64_t timeout_us);
/* Copies out of their VMCSs the vCPUs of this CPU whose guest the console asked for
 * (cpu->copy_guest), and makes the VMCS that was current current again. @pre interrupts off,
 * no VMCS access under way (the run loop between exits, or the console tick, which comes only
 * at such points) */
void cpu_take_copies(struct per_cpu *cpu);
/* Asks the guest's CPU to act on a request (IPI) and waits up to timeout_us for done() to hold. */
bool guest_wait(struct guest *g, bool (*done)(struct guest *g), uint64_t timeout_us);
/* Bytes typed for the guest go to its UART's receive FIFO, as fast as the guest empties it
 * (a serial line's pace): what does not fit waits in its input queue. */
void guest_console_input(struct guest *g, uint8_t byte);
/* Moves waiting input into the UART's FIFO while it has room. @pre g->uart_lock held */
void guest_uart_refill(struct guest *g);
/* The UART's transmit hook (vuart_init): bytes the guest sent, in order (kernel/guest_uart.c). */
void guest_uart_tx(void *ctx, const uint8_t *bytes, unsigned n);
/* Hands what the guest's UART has transmitted to its console ring, panic watch and prefixed
 * lines. The exit that sends a byte only queues it; this runs before anything else the guest
 * does is handled (vmx/fastpath.c) and at each console tick; returns whether there was
 * anything. @pre g->uart_lock not held */
bool guest_uart_drain(struct guest *g);
bool guest_uart_drain_all(void);
/* Drains, then prints the guest's unfinished prefixed line, if any. @pre g->uart_lock not held */
void guest_uart_flush(struct guest *g);

#endif
