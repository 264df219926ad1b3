/* cloison.efi: a UEFI application that loads Cloison, its modules and their configuration from its
 * own volume, builds the multiboot2 information GRUB would, exits boot services and enters
 * Cloison's multiboot2 entry (boot/entry.S) through boot/efi/efi_handoff.S. */
#include <efi.h>
#include "boot/efi/efi_cfg.h"
#include "boot/efi/efi_elf.h"
#include "boot/efi/efi_mb2.h"
#include "kernel/cmdline.h"
#include "kernel/fmt.h"
#include "kernel/lib.h"
#include "kernel/x86.h"

#define LOADER "cloison.efi"
#define DEFAULT_CFG "\\EFI\\cloison\\cloison.cfg"
#define CFG_NAME "cloison.cfg"
#define ERROR_WAIT_TENTHS 50 /* 5 s, or until a key */
#define FILE_MAX (256u << 20)
#define BELOW_4G 0xffffffffull
#define MAP_SLACK_DESCS 32 /* room for descriptors that our own allocations add */
#define EXIT_BS_TRIES 8
#define MAX_ALLOCS 48
#define COM_THR 0
#define COM_IER 1
#define COM_FCR 2
#define COM_LCR 3
#define COM_MCR 4
#define COM_LSR 5
#define COM_SCR 7
#define COM_LSR_THRE 0x20

/* The hand-off stub (efi_handoff.S): copied below 4 GiB and called there. */
extern const uint8_t efi_handoff_start[], efi_handoff_end[];
typedef void (*efi_handoff_fn)(uint64_t entry, uint64_t mbi);

static EFI_SYSTEM_TABLE *sys;
static EFI_BOOT_SERVICES *bs;
static EFI_HANDLE self;
static EFI_FILE_HANDLE root;
static bool boot_services_gone;
static bool serial_direct; /* the firmware's console does not already reach the serial port */
static uint16_t serial_port = 0x3f8;

/* Everything allocated, freed again when the loader gives up and returns to the firmware. */
static struct {
	EFI_PHYSICAL_ADDRESS addr;
	UINTN pages; /* 0: a pool allocation */
} allocs[MAX_ALLOCS];
static unsigned alloc_count;

static EFI_GUID loaded_image_guid = EFI_LOADED_IMAGE_PROTOCOL_GUID;
static EFI_GUID fs_guid = EFI_SIMPLE_FILE_SYSTEM_PROTOCOL_GUID;
static EFI_GUID file_info_guid = EFI_FILE_INFO_ID;
static EFI_GUID acpi20_guid = ACPI_20_TABLE_GUID;
static EFI_GUID acpi_guid = ACPI_TABLE_GUID;
static EFI_GUID global_var_guid = EFI_GLOBAL_VARIABLE;

static bool serial_present(uint16_t port)
{
	/* The scratch register keeps what is written only where a 16550 answers */
	outb((uint16_t)(port + COM_SCR), 0x5a);
	if (inb((uint16_t)(port + COM_SCR)) != 0x5a)
		return false;
	outb((uint16_t)(port + COM_SCR), 0xa5);
	return inb((uint16_t)(port + COM_SCR)) == 0xa5;
}

/* 115200 8N1, FIFOs on, no interrupts: what Cloison's console uses by default. */
static void serial_init(uint16_t port)
{
	outb((uint16_t)(port + COM_IER), 0);
	outb((uint16_t)(port + COM_LCR), 0x80);
	outb((uint16_t)(port + COM_THR), 1);
	outb((uint16_t)(port + COM_IER), 0);
	outb((uint16_t)(port + COM_LCR), 0x03);
	outb((uint16_t)(port + COM_FCR), 0xc7);
	outb((uint16_t)(port + COM_MCR), 0x03);
}

static void serial_putc(char c)
{
	/* Bounded: a missing or stuck UART must not hang the firmware */
	for (unsigned i = 0; i < 100000 && !(inb((uint16_t)(serial_port + COM_LSR)) & COM_LSR_THRE);
	     i++)
		cpu_relax();
	outb(serial_port, (uint8_t)c);
}

static void conout(const char *s)
{
	CHAR16 buf[128];
	unsigned n = 0;

	for (;; s++) {
		if (!*s || n + 2 >= ARRAY_SIZE(buf)) {
			buf[n] = 0;
			uefi_call_wrapper(sys->ConOut->OutputString, 2, sys->ConOut, buf);
			n = 0;
			if (!*s)
				return;
		}
		buf[n++] = (CHAR16)(uint8_t)*s;
	}
}

/* One line on the firmware console and, unless that already reaches it, the serial port. */
__attribute__((format(printf, 1, 2))) static void say(const char *fmt, ...)
{
	char line[400];
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	str_copy(line + strlen(line), "\r\n", 3);
	if (!boot_services_gone)
		conout(line);
	if (serial_direct || boot_services_gone)
		for (const char *c = line; *c; c++)
			serial_putc(*c);
}

/* Does the firmware's console (the ConOut variable, UEFI spec 3.3) include a serial port? */
static void serial_setup(void)
{
	uint8_t path[1024];
	UINTN size = sizeof(path);
	EFI_STATUS st = uefi_call_wrapper(sys->RuntimeServices->GetVariable, 5, L"ConOut",
					  &global_var_guid, NULL, &size, path);

	serial_direct = !(st == EFI_SUCCESS && efi_devpath_has_uart(path, size)) &&
			serial_present(serial_port);
	if (serial_direct)
		serial_init(serial_port);
}

static const char *status_text(EFI_STATUS st)
{
	switch (st) {
	case EFI_NOT_FOUND: return "not found";
	case EFI_OUT_OF_RESOURCES: return "out of resources";
	case EFI_DEVICE_ERROR: return "device error";
	case EFI_VOLUME_CORRUPTED: return "volume corrupted";
	case EFI_NO_MEDIA: return "no media";
	case EFI_ACCESS_DENIED: return "access denied";
	case EFI_INVALID_PARAMETER: return "invalid parameter";
	case EFI_UNSUPPORTED: return "unsupported";
	case EFI_BUFFER_TOO_SMALL: return "buffer too small";
	default: return "error";
	}
}

static void free_all(void)
{
	while (alloc_count) {
		alloc_count--;
		if (allocs[alloc_count].pages)
			uefi_call_wrapper(bs->FreePages, 2, allocs[alloc_count].addr,
					  allocs[alloc_count].pages);
		else
			uefi_call_wrapper(bs->FreePool, 1, (void *)allocs[alloc_count].addr);
	}
}

/* The one line of an error, a pause to read it, everything freed, and back to the boot manager. */
__attribute__((format(printf, 2, 3))) static EFI_STATUS fail(EFI_STATUS status, const char *fmt,
							     ...)
{
	char line[360];
	EFI_INPUT_KEY key;
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* Keys typed before the line was shown do not skip the pause */
	uefi_call_wrapper(sys->ConIn->Reset, 2, sys->ConIn, FALSE);
	say(LOADER ": error: %s", line);
	if (root)
		uefi_call_wrapper(root->Close, 1, root);
	root = NULL;
	for (unsigned i = 0; i < ERROR_WAIT_TENTHS; i++) {
		if (uefi_call_wrapper(sys->ConIn->ReadKeyStroke, 2, sys->ConIn, &key) == EFI_SUCCESS)
			break;
		uefi_call_wrapper(bs->Stall, 1, 100000);
	}
	free_all();
	return status;
}

static void *pool_alloc(UINTN size)
{
	void *p = NULL;

	if (alloc_count >= MAX_ALLOCS ||
	    uefi_call_wrapper(bs->AllocatePool, 3, EfiLoaderData, size, &p) != EFI_SUCCESS)
		return NULL;
	allocs[alloc_count].addr = (EFI_PHYSICAL_ADDRESS)p;
	allocs[alloc_count++].pages = 0;
	return p;
}

static EFI_STATUS pages_alloc(EFI_ALLOCATE_TYPE type, EFI_MEMORY_TYPE mem, UINTN pages,
			      EFI_PHYSICAL_ADDRESS *addr)
{
	EFI_STATUS st;

	if (alloc_count >= MAX_ALLOCS)
		return EFI_OUT_OF_RESOURCES;
	st = uefi_call_wrapper(bs->AllocatePages, 4, type, mem, pages, addr);
	if (st == EFI_SUCCESS) {
		allocs[alloc_count].addr = *addr;
		allocs[alloc_count++].pages = pages;
	}
	return st;
}

static const char *mem_type_name(uint32_t type)
{
	static const char *const names[] = {
		"reserved", "loader code", "loader data", "boot services code",
		"boot services data", "runtime services code", "runtime services data",
		"free memory", "unusable memory", "ACPI tables", "ACPI NVS", "MMIO",
		"MMIO port space", "PAL code", "persistent memory",
	};

	return type < ARRAY_SIZE(names) ? names[type] : "firmware-specific memory";
}

/* What the firmware's map says lies at addr, for the message when it is taken. */
static const char *mem_owner(uint64_t addr)
{
	UINTN size = 0, key, dsize = 0;
	UINT32 dver;
	uint8_t *map;
	const char *owner = "not in the memory map";

	uefi_call_wrapper(bs->GetMemoryMap, 5, &size, NULL, &key, &dsize, &dver);
	size += 8 * dsize;
	map = pool_alloc(size);
	if (!map || uefi_call_wrapper(bs->GetMemoryMap, 5, &size, (EFI_MEMORY_DESCRIPTOR *)map, &key,
				      &dsize, &dver) != EFI_SUCCESS)
		return "unknown";
	for (UINTN off = 0; off + dsize <= size; off += dsize) {
		EFI_MEMORY_DESCRIPTOR *d = (EFI_MEMORY_DESCRIPTOR *)(map + off);

		if (d->PhysicalStart <= addr && addr - d->PhysicalStart < d->NumberOfPages * 4096)
			owner = mem_type_name(d->Type);
	}
	return owner;
}

static void to_ucs2(const char *s, CHAR16 *out, size_t n)
{
	size_t i = 0;

	for (; s[i] && i + 1 < n; i++)
		out[i] = (CHAR16)(uint8_t)s[i];
	out[i] = 0;
}

/* Opens path on the loader's volume; its size in *size. */
static EFI_STATUS file_open(const char *path, EFI_FILE_HANDLE *fh, UINT64 *size)
{
	CHAR16 name[EFI_CFG_PATH_MAX];
	union {
		EFI_FILE_INFO info;
		uint8_t bytes[sizeof(EFI_FILE_INFO) + 2 * EFI_CFG_PATH_MAX];
	} info;
	UINTN info_size = sizeof(info);
	EFI_STATUS st;

	to_ucs2(path, name, ARRAY_SIZE(name));
	st = uefi_call_wrapper(root->Open, 5, root, fh, name, EFI_FILE_MODE_READ, 0);
	if (st != EFI_SUCCESS)
		return st;
	st = uefi_call_wrapper((*fh)->GetInfo, 4, *fh, &file_info_guid, &info_size, &info);
	if (st == EFI_SUCCESS && (info.info.Attribute & EFI_FILE_DIRECTORY))
		st = EFI_NOT_FOUND;
	if (st != EFI_SUCCESS) {
		uefi_call_wrapper((*fh)->Close, 1, *fh);
		return st;
	}
	*size = info.info.FileSize;
	return EFI_SUCCESS;
}

static EFI_STATUS file_read(EFI_FILE_HANDLE fh, void *buf, UINT64 size)
{
	uint8_t *p = buf;

	while (size) {
		UINTN n = size;
		EFI_STATUS st = uefi_call_wrapper(fh->Read, 3, fh, &n, p);

		if (st != EFI_SUCCESS)
			return st;
		if (n == 0)
			return EFI_END_OF_FILE;
		p += n;
		size -= n;
	}
	return EFI_SUCCESS;
}

/* Reads a whole file into pool memory (NUL-terminated); EFI_NOT_FOUND is left to the caller. */
static EFI_STATUS file_load(const char *what, const char *path, void **data, UINT64 *size)
{
	EFI_FILE_HANDLE fh;
	EFI_STATUS st = file_open(path, &fh, size);

	if (st == EFI_NOT_FOUND)
		return st;
	if (st != EFI_SUCCESS)
		return fail(st, "%s %s: cannot open it: %s", what, path, status_text(st));
	if (*size > FILE_MAX) {
		uefi_call_wrapper(fh->Close, 1, fh);
		return fail(EFI_LOAD_ERROR, "%s %s: %lu MiB is too large", what, path,
			    (unsigned long)(*size >> 20));
	}
	*data = pool_alloc(*size + 1);
	if (!*data) {
		uefi_call_wrapper(fh->Close, 1, fh);
		return fail(EFI_OUT_OF_RESOURCES, "%s %s: not enough memory for its %lu KiB", what,
			    path, (unsigned long)(*size >> 10));
	}
	st = file_read(fh, *data, *size);
	uefi_call_wrapper(fh->Close, 1, fh);
	if (st != EFI_SUCCESS)
		return fail(st, "%s %s: read failed: %s", what, path, status_text(st));
	((char *)*data)[*size] = '\0';
	return EFI_SUCCESS;
}

/* Loads the hypervisor's segments at their physical addresses (multiboot2 loads ELF this way). */
static EFI_STATUS load_hypervisor(const char *path, uint32_t *entry)
{
	struct efi_elf_image img;
	char why[160];
	void *file;
	UINT64 size;
	uint64_t lo = UINT64_MAX, hi = 0;
	EFI_PHYSICAL_ADDRESS addr;
	EFI_STATUS st = file_load("hypervisor", path, &file, &size);

	if (st == EFI_NOT_FOUND)
		return fail(st, "hypervisor %s: no such file", path);
	if (st != EFI_SUCCESS)
		return st;
	if (efi_elf_check(file, size, &img, why, sizeof(why)) < 0)
		return fail(EFI_LOAD_ERROR, "hypervisor %s: %s", path, why);
	for (unsigned i = 0; i < img.segment_count; i++) {
		lo = MIN(lo, img.segments[i].paddr);
		hi = MAX(hi, img.segments[i].paddr + img.segments[i].memsz);
	}
	lo = ALIGN_DOWN(lo, 4096);
	hi = ALIGN_UP(hi, 4096);
	addr = lo;
	st = pages_alloc(AllocateAddress, EfiLoaderData, (hi - lo) / 4096, &addr);
	if (st != EFI_SUCCESS)
		return fail(EFI_OUT_OF_RESOURCES, "hypervisor %s: cannot load it at 0x%lx-0x%lx: the "
			    "firmware holds that memory (%s at 0x%lx)", path, (unsigned long)lo,
			    (unsigned long)hi, mem_owner(lo), (unsigned long)lo);
	for (unsigned i = 0; i < img.segment_count; i++) {
		const struct efi_elf_segment *s = &img.segments[i];

		memcpy((void *)s->paddr, (const uint8_t *)file + s->offset, s->filesz);
		memset((uint8_t *)s->paddr + s->filesz, 0, s->memsz - s->filesz);
	}
	*entry = img.entry;
	return EFI_SUCCESS;
}

/* Reads a module into loader-data pages below 4 GiB (multiboot2 module addresses are 32-bit). */
static EFI_STATUS load_module(const char *path, struct efi_mb2_module *mod)
{
	EFI_FILE_HANDLE fh;
	UINT64 size;
	EFI_PHYSICAL_ADDRESS addr = BELOW_4G;
	EFI_STATUS st = file_open(path, &fh, &size);

	if (st != EFI_SUCCESS)
		return fail(st, "module %s: %s", path,
			    st == EFI_NOT_FOUND ? "no such file" : status_text(st));
	if (size > FILE_MAX ||
	    pages_alloc(AllocateMaxAddress, EfiLoaderData, MAX(1, ALIGN_UP(size, 4096) / 4096),
			&addr) != EFI_SUCCESS) {
		uefi_call_wrapper(fh->Close, 1, fh);
		return fail(EFI_OUT_OF_RESOURCES, "module %s: not enough memory below 4 GiB for its "
			    "%lu KiB", path, (unsigned long)(size >> 10));
	}
	st = file_read(fh, (void *)addr, size);
	uefi_call_wrapper(fh->Close, 1, fh);
	if (st != EFI_SUCCESS)
		return fail(st, "module %s: read failed: %s", path, status_text(st));
	mod->start = (uint32_t)addr;
	mod->end = (uint32_t)(addr + size);
	return EFI_SUCCESS;
}

/* The ACPI RSDP from the UEFI configuration table (UEFI spec 4.6), checked by its signature. */
static void find_rsdp(struct efi_mb2_input *in)
{
	for (UINTN i = 0; i < sys->NumberOfTableEntries; i++) {
		EFI_CONFIGURATION_TABLE *t = &sys->ConfigurationTable[i];
		const uint8_t *r = t->VendorTable;

		if (!r || memcmp(r, "RSD PTR ", 8) != 0)
			continue;
		if (memcmp(&t->VendorGuid, &acpi20_guid, sizeof(EFI_GUID)) == 0 && r[15] >= 2) {
			in->rsdp_v2 = r;
			in->rsdp_v2_length = EFI_MB2_RSDP_V2_MAX;
		} else if (memcmp(&t->VendorGuid, &acpi_guid, sizeof(EFI_GUID)) == 0) {
			in->rsdp_v1 = r;
		}
	}
	if (in->rsdp_v2 && !in->rsdp_v1)
		in->rsdp_v1 = in->rsdp_v2; /* its first 20 bytes are the v1 structure */
}

/* Finds and parses the configuration: -cfg=, then beside the loader, then \EFI\cloison. */
static EFI_STATUS load_config(const struct efi_args *args, const char *image_dir, char *cfg_path,
			      struct efi_cfg *cfg)
{
	char tried[2][EFI_CFG_PATH_MAX], err[EFI_CFG_ERR_MAX];
	unsigned n = 0;
	void *text = NULL;
	UINT64 size = 0;
	EFI_STATUS st = EFI_NOT_FOUND;

	if (args->cfg_path[0]) {
		if (efi_path_resolve(image_dir, args->cfg_path, tried[n++], EFI_CFG_PATH_MAX) < 0)
			return fail(EFI_INVALID_PARAMETER, "-cfg=%s: path too long", args->cfg_path);
	} else {
		if (efi_path_resolve(image_dir, CFG_NAME, tried[n], EFI_CFG_PATH_MAX) == 0)
			n++;
		if (!n || strcmp(tried[0], DEFAULT_CFG) != 0)
			str_copy(tried[n++], DEFAULT_CFG, EFI_CFG_PATH_MAX);
	}
	for (unsigned i = 0; i < n && st == EFI_NOT_FOUND; i++) {
		st = file_load("configuration", tried[i], &text, &size);
		str_copy(cfg_path, tried[i], EFI_CFG_PATH_MAX);
	}
	if (st == EFI_NOT_FOUND)
		return fail(st, "no loader configuration: %s%s%s not found", tried[0],
			    n > 1 ? " and " : "", n > 1 ? tried[1] : "");
	if (st != EFI_SUCCESS)
		return st;
	if (efi_cfg_parse(text, size, cfg, err, sizeof(err)) < 0)
		return fail(EFI_INVALID_PARAMETER, "%s: %s", cfg_path, err);
	return EFI_SUCCESS;
}

/* Cloison's console port (console=PORT[,BAUD]) for the loader's own serial lines. */
static void serial_follow(const char *cmdline)
{
	char value[32];
	uint64_t port;

	if (!cmdline_get(cmdline, "console", value, sizeof(value)))
		return;
	for (char *c = value; *c; c++)
		if (*c == ',')
			*c = '\0';
	if (!parse_u64(value, &port) || port > 0xfff8 || port == serial_port)
		return;
	serial_port = (uint16_t)port;
	if (serial_direct && !serial_present(serial_port))
		serial_direct = false;
	else if (serial_direct)
		serial_init(serial_port);
}

static EFI_STATUS boot(const struct efi_cfg_section *sec, const char *cfg_dir,
		       const struct efi_args *args)
{
	static char cmdline[EFI_CFG_ARGS_MAX];
	static char paths[EFI_CFG_MAX_MODULES + 1][EFI_CFG_PATH_MAX];
	static struct efi_mb2_module mods[EFI_CFG_MAX_MODULES];
	struct efi_mb2_input in = { .loader_name = EFI_MB2_LOADER_NAME };
	EFI_PHYSICAL_ADDRESS stub = BELOW_4G, mbi = BELOW_4G;
	UINTN map_size = 0, map_cap, key = 0, dsize = 0;
	UINT32 dver = 0;
	uint8_t *map;
	uint32_t entry = 0;
	size_t mbi_cap, mbi_len;
	EFI_STATUS st;

	if (fmt_snprintf(cmdline, sizeof(cmdline), "%s%s%s", sec->hypervisor_args,
			 sec->hypervisor_args[0] && args->extra[0] ? " " : "", args->extra) >=
	    (int)sizeof(cmdline))
		return fail(EFI_INVALID_PARAMETER, "[%s]: the hypervisor's command line is longer "
			    "than %d characters", sec->name, EFI_CFG_ARGS_MAX - 1);
	serial_follow(cmdline);
	for (unsigned i = 0; i <= sec->module_count; i++) {
		const char *p = i ? sec->modules[i - 1].path : sec->hypervisor_path;

		if (efi_path_resolve(cfg_dir, p, paths[i], EFI_CFG_PATH_MAX) < 0)
			return fail(EFI_INVALID_PARAMETER, "[%s]: path %s is too long", sec->name, p);
	}
	say(LOADER ": booting [%s]: %s %s (%u modules)", sec->name, paths[0], cmdline,
	    sec->module_count);
	st = load_hypervisor(paths[0], &entry);
	if (st != EFI_SUCCESS)
		return st;
	for (unsigned i = 0; i < sec->module_count; i++) {
		st = load_module(paths[i + 1], &mods[i]);
		if (st != EFI_SUCCESS)
			return st;
		mods[i].string = sec->modules[i].string;
	}
	in.cmdline = cmdline;
	in.modules = mods;
	in.module_count = sec->module_count;
	in.efi_system_table = (uint64_t)sys;
	find_rsdp(&in);

	/* Everything the hand-off needs is allocated before the final memory map is taken */
	st = uefi_call_wrapper(bs->GetMemoryMap, 5, &map_size, NULL, &key, &dsize, &dver);
	if (st != EFI_BUFFER_TOO_SMALL || dsize < EFI_MB2_DESC_MIN)
		return fail(EFI_UNSUPPORTED, "GetMemoryMap: %s", status_text(st));
	map_cap = map_size + MAP_SLACK_DESCS * dsize;
	in.desc_size = dsize;
	mbi_cap = efi_mb2_size_bound(&in, map_cap);
	map = pool_alloc(map_cap);
	if (!map || pages_alloc(AllocateMaxAddress, EfiLoaderCode, 1, &stub) != EFI_SUCCESS ||
	    pages_alloc(AllocateMaxAddress, EfiLoaderData, ALIGN_UP(mbi_cap, 4096) / 4096, &mbi) !=
		    EFI_SUCCESS)
		return fail(EFI_OUT_OF_RESOURCES, "not enough memory below 4 GiB for the boot "
			    "information (%lu KiB)", (unsigned long)(mbi_cap >> 10));
	say(LOADER ": entering Cloison at 0x%x; boot information at 0x%lx", entry,
	    (unsigned long)mbi);

	/* A stale map key means the map changed: take it again, UEFI spec 7.4 ExitBootServices() */
	for (unsigned tries = 1;; tries++) {
		map_size = map_cap;
		st = uefi_call_wrapper(bs->GetMemoryMap, 5, &map_size, (EFI_MEMORY_DESCRIPTOR *)map,
				       &key, &dsize, &dver);
		if (st == EFI_SUCCESS)
			st = uefi_call_wrapper(bs->ExitBootServices, 2, self, key);
		if (st == EFI_SUCCESS)
			break;
		if (tries == 1 && st != EFI_INVALID_PARAMETER)
			return fail(st, "ExitBootServices: %s", status_text(st));
		if (tries >= EXIT_BS_TRIES) {
			/* Boot services may be partly gone: only the serial port is left to tell */
			boot_services_gone = true;
			say(LOADER ": error: ExitBootServices still failing after %u tries: %s", tries,
			    status_text(st));
			return st;
		}
	}
	boot_services_gone = true;
	serial_direct = serial_present(serial_port);

	in.efi_mmap = map;
	in.efi_mmap_size = map_size;
	in.desc_size = dsize;
	in.desc_version = dver;
	if (efi_mb2_build(&in, (void *)mbi, mbi_cap, &mbi_len) < 0) {
		say(LOADER ": error: the boot information does not fit in %lu bytes; halting",
		    (unsigned long)mbi_cap);
		halt_forever();
	}
	memcpy((void *)stub, efi_handoff_start, (size_t)(efi_handoff_end - efi_handoff_start));
	((efi_handoff_fn)stub)(entry, mbi);
	halt_forever();
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab);

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	static struct efi_args args;
	static char options[EFI_CFG_ARGS_MAX + 2 * EFI_CFG_PATH_MAX], image_path[EFI_CFG_PATH_MAX];
	static char image_dir[EFI_CFG_PATH_MAX], cfg_path[EFI_CFG_PATH_MAX], cfg_dir[EFI_CFG_PATH_MAX];
	char err[EFI_CFG_ERR_MAX];
	EFI_LOADED_IMAGE *li = NULL;
	EFI_FILE_IO_INTERFACE *fs = NULL;
	const struct efi_cfg_section *sec;
	struct efi_cfg *cfg;
	EFI_STATUS st;

	sys = systab;
	bs = systab->BootServices;
	self = image;
	alloc_count = 0;
	root = NULL;
	serial_setup();
	st = uefi_call_wrapper(bs->HandleProtocol, 3, image, &loaded_image_guid, (void **)&li);
	if (st != EFI_SUCCESS)
		return fail(st, "no loaded-image protocol: %s", status_text(st));
	if (!efi_devpath_file(li->FilePath, 4096, image_path, sizeof(image_path)))
		str_copy(image_path, "\\EFI\\cloison\\cloison.efi", sizeof(image_path));
	efi_path_dir(image_path, image_dir, sizeof(image_dir));
	if (li->LoadOptionsSize &&
	    !efi_args_from_ucs2(li->LoadOptions, li->LoadOptionsSize, options, sizeof(options)))
		options[0] = '\0'; /* binary boot-entry data, not arguments */
	if (efi_args_parse(options, &args, err, sizeof(err)) < 0)
		return fail(EFI_INVALID_PARAMETER, "arguments '%s': %s", options, err);
	say(LOADER ": Cloison's UEFI loader, started as %s%s%s", image_path,
	    options[0] ? " with " : "", options);

	st = uefi_call_wrapper(bs->HandleProtocol, 3, li->DeviceHandle, &fs_guid, (void **)&fs);
	if (st == EFI_SUCCESS)
		st = uefi_call_wrapper(fs->OpenVolume, 2, fs, &root);
	if (st != EFI_SUCCESS) {
		root = NULL;
		return fail(st, "cannot open the volume the loader came from: %s", status_text(st));
	}
	cfg = pool_alloc(sizeof(*cfg));
	if (!cfg)
		return fail(EFI_OUT_OF_RESOURCES, "not enough memory for the configuration");
	st = load_config(&args, image_dir, cfg_path, cfg);
	if (st != EFI_SUCCESS)
		return st;
	sec = efi_cfg_select(cfg, args.section, err, sizeof(err));
	if (!sec)
		return fail(EFI_INVALID_PARAMETER, "%s: %s", cfg_path, err);
	efi_path_dir(cfg_path, cfg_dir, sizeof(cfg_dir));
	return boot(sec, cfg_dir, &args);
}
