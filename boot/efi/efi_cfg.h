/* cloison.efi's configuration file (xen.cfg-like sections) and its own arguments: pure parsers. */
#ifndef CLOISON_EFI_CFG_H
#define CLOISON_EFI_CFG_H

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include "boot/boot_info.h"

#define EFI_CFG_MAX_SECTIONS 8
#define EFI_CFG_MAX_MODULES BOOT_MAX_MODULES
#define EFI_CFG_NAME_MAX 32
#define EFI_CFG_PATH_MAX 256
#define EFI_CFG_ARGS_MAX BOOT_CMDLINE_MAX
#define EFI_CFG_STRING_MAX BOOT_MODULE_STRING_MAX
#define EFI_CFG_FILE_MAX (64 * 1024)
#define EFI_CFG_ERR_MAX 192

struct efi_cfg_module {
	char path[EFI_CFG_PATH_MAX];
	char string[EFI_CFG_STRING_MAX]; /* the module string, as in GRUB's module2 line */
	unsigned line;
};

/* One bootable set: [NAME] with a hypervisor line and module lines. */
struct efi_cfg_section {
	char name[EFI_CFG_NAME_MAX];
	unsigned line; /* of its [NAME] header; 0 for the implicit [global] */
	bool has_hypervisor;
	unsigned hypervisor_line;
	char hypervisor_path[EFI_CFG_PATH_MAX];
	char hypervisor_args[EFI_CFG_ARGS_MAX];
	struct efi_cfg_module modules[EFI_CFG_MAX_MODULES];
	unsigned module_count;
};

/* sections[0] is always [global]: lines before any header belong to it. */
struct efi_cfg {
	char default_name[EFI_CFG_NAME_MAX];
	unsigned default_line;
	struct efi_cfg_section sections[EFI_CFG_MAX_SECTIONS];
	unsigned section_count;
};

/* Parses len bytes of text. Returns 0, or a negative error with a "line N: ..." message in err. */
int efi_cfg_parse(const char *text, size_t len, struct efi_cfg *cfg, char *err, size_t err_size);

/* The section to boot: name when given (the loader's argument), else [global]'s default=, else
 * [global] when it has a hypervisor line, else the first section that has one. NULL with err set. */
const struct efi_cfg_section *efi_cfg_select(const struct efi_cfg *cfg, const char *name, char *err,
					     size_t err_size);

/* The loader's own arguments (load options from the boot entry, the UEFI shell or GRUB's
 * chainloader): [IMAGE.efi] [-cfg=PATH] [SECTION] [-- HYPERVISOR OPTIONS...]. */
struct efi_args {
	char cfg_path[EFI_CFG_PATH_MAX];
	char section[EFI_CFG_NAME_MAX];
	char extra[EFI_CFG_ARGS_MAX]; /* appended to the hypervisor's command line */
};
int efi_args_parse(const char *options, struct efi_args *out, char *err, size_t err_size);

/* UCS-2 load options (size in bytes, NUL-terminated or not) to ASCII. False when they are not
 * printable text: boot entries may carry binary data, which the loader then ignores. */
bool efi_args_from_ucs2(const uint16_t *options, size_t size, char *out, size_t out_size);

/* A config path on the loader's volume: '/' becomes '\'; a path without a leading separator is
 * relative to dir (a directory such as "\EFI\cloison"). Returns -E_RANGE when it does not fit. */
int efi_path_resolve(const char *dir, const char *path, char *out, size_t out_size);

/* The directory part of a volume path ("\EFI\BOOT\BOOTX64.EFI" -> "\EFI\BOOT"; "X.EFI" -> ""). */
void efi_path_dir(const char *path, char *out, size_t out_size);

/* Walks a device path (UEFI spec 10.3): true when it holds a UART node (messaging type 3,
 * subtype 14), i.e. the firmware's console already writes to a serial port. */
bool efi_devpath_has_uart(const void *path, size_t size);

/* The file path of a device path's media file-path nodes (type 4, subtype 4) as ASCII, joined
 * with '\'. False when there is none or it does not fit. */
bool efi_devpath_file(const void *path, size_t size, char *out, size_t out_size);

#endif
