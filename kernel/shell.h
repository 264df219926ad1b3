/* The management shell on the serial console: commands over an abstract interface to the kernel. */
#ifndef CLOISON_SHELL_H
#define CLOISON_SHELL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kernel/line_edit.h"

#define SHELL_PROMPT "cloison> "
#define SHELL_DETACH_KEY 0x1d /* Ctrl-] as in telnet and virsh */

#define SHELL_NAME_MAX 32
#define SHELL_TEXT_MAX 160    /* stop reason, image name */
#define SHELL_CMDLINE_MAX 256
#define SHELL_EXIT_REASONS 70 /* basic exit reasons, SDM Vol. 3D Appendix C (EXIT_REASON_MAX) */
#define SHELL_GPRS 16
#define SHELL_MAX_GUESTS 64   /* ids beyond are never asked for */
#define SHELL_MAX_CPUS 256
#define SHELL_CPU_GUESTS_MAX 64 /* MAX_GUESTS: every guest may share one CPU */
#define SHELL_MEM_RANGES_MAX 64 /* MAX_GUESTS */
#define SHELL_LOG_MAX 16384   /* log bytes shown at most (the size of the kernel's log ring) */
#define SHELL_OUT_MAX 256     /* output is passed to write() in pieces of at most this */
#define SHELL_ARGS_MAX 8

enum shell_guest_state {
	SHELL_GUEST_STOPPED, /* never started, or stopped: see exited and stop_reason */
	SHELL_GUEST_RUNNING,
	SHELL_GUEST_PAUSED,  /* kept as it is, not scheduled, until resumed */
	SHELL_GUEST_HALTED,  /* executed HLT with nothing to wake it */
	SHELL_GUEST_SCRUBBING, /* stopped, its RAM still being zeroed; start waits for that */
};

/* Registers in the SDM's numbering (Vol. 3C Table 28-3), the order of enum guest_gpr. */
enum shell_gpr {
	SHELL_RAX, SHELL_RCX, SHELL_RDX, SHELL_RBX, SHELL_RSP, SHELL_RBP, SHELL_RSI, SHELL_RDI,
	SHELL_R8, SHELL_R9, SHELL_R10, SHELL_R11, SHELL_R12, SHELL_R13, SHELL_R14, SHELL_R15,
};

/* A snapshot of one guest, filled by guest_get(); strings are NUL-terminated. */
#define SHELL_VCPUS_MAX 16

/* One vCPU of a guest, for `info`. */
struct shell_vcpu {
	unsigned cpu;        /* the physical CPU it is pinned to */
	unsigned block;      /* 0 runnable, 1 halted (HLT), 2 waiting for its SIPI */
	bool started;        /* has run since the guest started */
	uint64_t rip, run_ticks, exits;
};

struct shell_guest {
	unsigned id;
	char name[SHELL_NAME_MAX];
	char image[SHELL_TEXT_MAX];        /* the boot module it was loaded from */
	char cmdline[SHELL_CMDLINE_MAX];
	enum shell_guest_state state;
	bool exited;                       /* stopped by its own request: exit_code is valid */
	int exit_code;
	char stop_reason[SHELL_TEXT_MAX];  /* why it stopped, cause first: "EPT violation: ..." */
	uint64_t cpu_mask;                 /* physical CPUs its vCPUs run on, bit n = CPU n */
	uint64_t ram_bytes;
	uint64_t ram_base;                 /* host-physical start of its partition */
	uint64_t uptime_ms;                /* since the last start; not shown while stopped */
	unsigned weight;                   /* scheduler weight on its CPUs */
	uint64_t run_ticks;                /* scheduler ticks it has run */
	unsigned share_permille;           /* its share of its CPUs' time since boot */
	uint64_t switches;                 /* times it was scheduled in */
	uint64_t exits_total;
	uint64_t exits[SHELL_EXIT_REASONS]; /* by basic exit reason */
	uint32_t last_exit_reason;         /* as in the VMCS, bit 31 set for a failed VM entry */
	uint64_t last_exit_qualification;
	bool regs_valid;                   /* false until the vCPU has run */
	bool long_mode;                    /* IA32_EFER.LMA: show 64-bit registers */
	uint64_t gpr[SHELL_GPRS];          /* gpr[SHELL_RSP] from the VMCS */
	uint64_t rip, rflags, cr0, cr3, cr4;
	uint64_t console_buffered;         /* bytes of its console output kept for 'console' */
	uint64_t console_dropped;          /* bytes lost because nobody read them in time */
	bool has_platform;                 /* a virtual PC (Linux guests): the figures below */
	uint64_t irqs_injected, timer_irqs, pit_irqs, extint_irqs; /* interrupts delivered */
	uint64_t io_accesses, mmio_accesses; /* to its platform's devices */
	uint64_t timer_next_us;            /* its LAPIC timer's next expiry from now, ~0 if none */
	uint64_t timer_latency_avg, timer_latency_max; /* ticks from due to injection */
	bool preserved;                    /* kept after a crash (on_crash = preserve) */
	unsigned nr_vcpus;
	struct shell_vcpu vcpus[SHELL_VCPUS_MAX];
};

/* One physical CPU, filled by cpu_get(). */
struct shell_cpu {
	unsigned id;
	unsigned apic_id;
	bool online;
	unsigned nr_guests;
	unsigned guests[SHELL_CPU_GUESTS_MAX];         /* guest ids */
	unsigned share_permille[SHELL_CPU_GUESTS_MAX]; /* of this CPU's time, per guest above */
	unsigned idle_permille;
};

struct shell_mem_range {
	unsigned guest_id;
	uint64_t base; /* host-physical */
	uint64_t size;
};

/* Physical memory, filled by mem_get(). */
struct shell_mem {
	uint64_t total_bytes;      /* usable RAM the firmware reported */
	uint64_t hypervisor_bytes; /* kept by Cloison: image, page tables, VMCSs, stacks */
	uint64_t free_bytes;
	unsigned nr_ranges;
	struct shell_mem_range ranges[SHELL_MEM_RANGES_MAX]; /* the guest partitions */
};

/* What the shell needs from the kernel (and the tests fake); all calls come from shell_input. */
struct shell_ops {
	void *ctx;
	/* Console output; "\n" ends a line, the console driver adds the carriage return. */
	void (*write)(void *ctx, const char *s, size_t n);
	/* Guests have ids 0..guest_count()-1. */
	unsigned (*guest_count)(void *ctx);
	/* A consistent snapshot; false when there is no such guest. */
	bool (*guest_get)(void *ctx, unsigned id, struct shell_guest *out);
	/* Optional: brings the registers that the next guest_get reports up to date (may wait for
	 * the guest's CPUs); false when some stayed as they were. */
	bool (*guest_sync)(void *ctx, unsigned id);
	/* Each returns 0 once the action is done, or -E_xxx; the shell checks the state first. */
	int (*guest_start)(void *ctx, unsigned id);
	int (*guest_stop)(void *ctx, unsigned id);
	int (*guest_pause)(void *ctx, unsigned id);
	int (*guest_resume)(void *ctx, unsigned id);
	/* On 0, the kernel streams the guest's buffered, then new, console output to write(). */
	int (*console_attach)(void *ctx, unsigned id);
	void (*console_input)(void *ctx, unsigned id, uint8_t byte);
	void (*console_detach)(void *ctx, unsigned id);
	/* Copies the newest min(kept, size) bytes of the hypervisor log, oldest first. */
	size_t (*log_read)(void *ctx, char *buf, size_t size);
	/* false when cpu is not below the number of CPUs. */
	bool (*cpu_get)(void *ctx, unsigned cpu, struct shell_cpu *out);
	bool (*mem_get)(void *ctx, struct shell_mem *out);
	void (*reboot)(void *ctx);
	void (*halt)(void *ctx);
};

struct shell {
	const struct shell_ops *ops;
	struct line_edit edit;
	bool attached;            /* bytes go to the guest console until SHELL_DETACH_KEY */
	unsigned attached_id;
	char attached_name[SHELL_NAME_MAX];
	bool attach_after_cr;     /* the attaching line ended in CR: a following LF is its own */
	char out[SHELL_OUT_MAX];  /* output gathered for one write() */
	size_t out_len;
	char args_buf[LINE_EDIT_MAX + 1];
	struct shell_guest guest; /* scratch snapshot, kept off the small hypervisor stacks */
	union {
		struct shell_cpu cpu;
		struct shell_mem mem;
	} scratch;
	char log[SHELL_LOG_MAX];
};

/* One console, one CPU: shell_input and shell_redraw must not run concurrently. */

/* Prints the prompt. @pre every op is set. */
void shell_init(struct shell *sh, const struct shell_ops *ops);
/* Feeds one byte from the console: to the line editor, or to the attached guest. */
void shell_input(struct shell *sh, uint8_t byte);
/* Prints the prompt and the line being typed again, after the kernel printed over them. */
void shell_redraw(struct shell *sh);
/* Whether a guest console is attached, and which. */
bool shell_attached(const struct shell *sh, unsigned *id);

/* Between kernel/shell.c (input, dispatch, output) and kernel/shell_cmds.c (the commands) only. */
struct shell_cmd {
	const char *name;
	const char *args; /* as in the usage line, "" when none */
	unsigned min_args, max_args;
	const char *summary;
	const char *detail;
	void (*run)(struct shell *sh, unsigned argc, char **argv);
};
extern const struct shell_cmd shell_cmds[];
extern const unsigned shell_cmd_count;
void shell_flush(struct shell *sh);
void shell_write(struct shell *sh, const char *s, size_t n);
void shell_printf(struct shell *sh, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool shell_parse_uint(const char *s, unsigned *out);
unsigned shell_guest_count(struct shell *sh);
bool shell_guest_get(struct shell *sh, unsigned id, struct shell_guest *g);
/* Resolves a name or id into sh->guest; otherwise prints why and returns false. */
bool shell_find_guest(struct shell *sh, const char *arg);
void shell_attach(struct shell *sh, unsigned id, const char *name);
void shell_cmd_help(struct shell *sh, unsigned argc, char **argv);

#endif
