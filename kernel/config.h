/* The guest configuration file: an INI-like text module, parsed and checked against the machine. */
#ifndef CLOISON_CONFIG_H
#define CLOISON_CONFIG_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include "kernel/limits.h"

#define CONFIG_NAME_MAX 32      /* a guest name and its NUL */
#define CONFIG_IMAGE_MAX 64     /* a module name (first word of its GRUB string) and its NUL */
#define CONFIG_CMDLINE_MAX 256
#define CONFIG_MODULES_MAX 8
#define CONFIG_LINE_MAX 255     /* longer lines are reported and skipped */
#define CONFIG_MESSAGE_MAX 256  /* a reported message, NUL included */

#define CONFIG_SLICE_DEFAULT_US 10000
#define CONFIG_SLICE_MIN_US 100
#define CONFIG_SLICE_MAX_US 1000000
#define CONFIG_WEIGHT_DEFAULT 256
#define CONFIG_WEIGHT_MAX 65535
#define CONFIG_CONSOLE_BUFFER_DEFAULT (16 * 1024)
#define CONFIG_CONSOLE_BUFFER_MIN 1024
#define CONFIG_CONSOLE_BUFFER_MAX (1024 * 1024)
#define CONFIG_MEMORY_ALIGN (2 * 1024 * 1024) /* guest RAM is mapped with 2 MiB EPT pages */
#define CONFIG_MEMORY_MAX (1024ULL * 1024 * 1024 * 1024)
#define CONFIG_CPUS_MAX 64      /* bits of cpu_mask (MAX_CPUS) */
#define CONFIG_VCPUS_MAX 16     /* vCPUs of one guest (GUEST_MAX_VCPUS) */

/* The keys of the file, for guest_config.key_lines. */
enum config_key {
	CONFIG_KEY_SLICE,
	CONFIG_KEY_CONSOLE,
	CONFIG_KEY_IMAGE,
	CONFIG_KEY_CMDLINE,
	CONFIG_KEY_MODULES,
	CONFIG_KEY_MEMORY,
	CONFIG_KEY_ADDRESS,
	CONFIG_KEY_CPUS,
	CONFIG_KEY_WEIGHT,
	CONFIG_KEY_AUTOSTART,
	CONFIG_KEY_CONSOLE_BUFFER,
	CONFIG_KEY_INITRD,
	CONFIG_KEY_ON_POWEROFF,
	CONFIG_KEY_ON_REBOOT,
	CONFIG_KEY_ON_CRASH,
	CONFIG_KEY_PLATFORM,
	CONFIG_KEY_COUNT,
};

/* The virtual devices a guest gets: a PC (LAPIC per vCPU, I/O APIC, PIC, PIT, RTC, ACPI) or
 * only its UART. Linux guests need the PC; Multiboot guests get it when they ask. */
enum guest_platform {
	GUEST_PLATFORM_DEFAULT, /* pc for a Linux image, none for a Multiboot one */
	GUEST_PLATFORM_PC,
	GUEST_PLATFORM_NONE,
};

/* What happens when a guest powers off, reboots or crashes (xl's on_poweroff/on_reboot/on_crash). */
enum guest_action {
	GUEST_ACTION_STOP,     /* stopped, RAM scrubbed */
	GUEST_ACTION_RESTART,  /* stopped, then started afresh from its image */
	GUEST_ACTION_PRESERVE, /* kept as it was (RAM and registers) for `info`, until `stop` */
};

struct guest_config {
	char name[CONFIG_NAME_MAX];
	char image[CONFIG_IMAGE_MAX];     /* default: the guest's name */
	char cmdline[CONFIG_CMDLINE_MAX]; /* default: the guest's name */
	char modules[CONFIG_MODULES_MAX][CONFIG_IMAGE_MAX];
	unsigned module_count;
	uint64_t memory;  /* bytes, a multiple of CONFIG_MEMORY_ALIGN */
	uint64_t address; /* fixed host-physical base, 0 = any */
	uint64_t cpu_mask;
	unsigned weight;
	bool autostart;
	uint32_t console_buffer;
	char initrd[CONFIG_IMAGE_MAX]; /* module handed to a Linux guest as its initramfs, "" = none */
	enum guest_action on_poweroff, on_reboot, on_crash;
	enum guest_platform platform;
	unsigned line; /* of the [guest] header */
	unsigned key_lines[CONFIG_KEY_COUNT]; /* where each key was given, 0 = not given */
	bool refused;  /* some error was reported for it: do not start it */
};

struct config {
	uint64_t slice_us;
	bool console_prefixed; /* guest lines go to the main console as "[name] text" */
	struct guest_config guests[MAX_GUESTS];
	unsigned guest_count;
	unsigned error_count; /* errors reported so far, by parse, validate and the planner */
};

/* Receives one error: a single line without a newline, "config:LINE: ...". */
typedef void (*config_report_fn)(void *ctx, const char *message);

/* What the machine offers, for config_validate. */
struct config_env {
	unsigned cpu_count;
	const char *const *module_names; /* the first word of each GRUB module's string */
	unsigned module_count;
};

void config_defaults(struct config *c);

/* Parses len bytes of text (NULs, CR/LF and a missing last newline are fine) into *out, calling
 * report once per error (report may be NULL). A guest with an error stays in out->guests with
 * refused set; an error in [hypervisor] keeps that key's default. Returns 0, or -E_INVAL when
 * anything was reported: the guests that are not refused are usable either way. */
int config_parse(const char *text, size_t len, struct config *out, config_report_fn report,
		 void *ctx);

/* Checks the guests that are not refused against env: the image and modules exist, and the one
 * CPU exists. Refuses and reports the bad ones. Returns 0, or -E_INVAL when it reported any. */
int config_validate(struct config *c, const struct config_env *env, config_report_fn report,
		    void *ctx);

/* Refuses guest g of c: counts the error and reports "config:LINE: guest NAME: KEY: text", LINE
 * being where key was given, else the [guest] header (and no "KEY: " when key is NULL). For the
 * later checks (the planner) to report alike. */
void config_refuse(struct config *c, struct guest_config *g, config_report_fn report, void *ctx,
		   const char *key, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

#endif
