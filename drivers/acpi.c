/* ACPI table parsing over a caller's memory accessor: every signature, length and checksum is
 * checked, a bad table is noted and skipped, and nothing is read outside what map() returned. */
#include <stdarg.h>
#include "drivers/acpi.h"
#include "drivers/acpi_layout.h"
#include "kernel/fmt.h"
#include "kernel/lib.h"

#define LAPIC_DEFAULT_BASE 0xfee00000u
#define IO_PORT_MAX 0xffffu

struct acpi_walk {
	acpi_map_fn map;
	void *ctx;
	struct acpi_info *out;
};

/* A table mapped whole; data is valid until the next map() call. */
struct acpi_table {
	const uint8_t *data;
	uint32_t len;
	uint64_t phys;
	char sig[5];
};

/* Copies n bytes of a name for printing; anything not printable becomes '?'. */
static void acpi_name_copy(char *dst, const uint8_t *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? (char)src[i] : '?';
	dst[n] = '\0';
}

static unsigned long long ull(uint64_t v)
{
	return (unsigned long long)v;
}

__attribute__((format(printf, 2, 3)))
static void acpi_note(struct acpi_info *out, const char *fmt, ...)
{
	va_list ap;

	if (out->note_count >= ACPI_MAX_NOTES) {
		out->notes_dropped++;
		return;
	}
	va_start(ap, fmt);
	fmt_vsnprintf(out->notes[out->note_count++], ACPI_NOTE_LEN, fmt, ap);
	va_end(ap);
}

/* Maps [phys, phys+len) unless the range wraps around the address space. */
static const uint8_t *acpi_map(struct acpi_walk *w, uint64_t phys, size_t len)
{
	if (len == 0 || phys > UINT64_MAX - (len - 1))
		return NULL;
	return w->map(w->ctx, phys, len);
}

/* Maps the table at phys whole once its header is sane and checks it; false (noted) if unusable.
 * expect: the signature wanted, or NULL for any. */
static bool acpi_table_load(struct acpi_walk *w, uint64_t phys, const char *expect,
			    struct acpi_table *t)
{
	const char *what = expect ? expect : "table";
	const uint8_t *hdr = acpi_map(w, phys, ACPI_HEADER_LEN);
	uint32_t len;

	t->data = NULL;
	t->len = 0;
	t->phys = phys;
	if (!hdr) {
		acpi_note(w->out, "%s at 0x%llx: not accessible", what, ull(phys));
		return false;
	}
	acpi_name_copy(t->sig, hdr, 4);
	len = get_le32(hdr + HDR_LENGTH);
	if (expect && memcmp(hdr, expect, 4) != 0) {
		acpi_note(w->out, "%s at 0x%llx: signature '%s', skipped", what, ull(phys), t->sig);
		return false;
	}
	if (len < ACPI_HEADER_LEN) {
		acpi_note(w->out, "%s at 0x%llx: length %u shorter than its header, skipped", t->sig,
			  ull(phys), len);
		return false;
	}
	if (len > ACPI_TABLE_MAX_LEN) {
		acpi_note(w->out, "%s at 0x%llx: length %u over the %u limit, skipped", t->sig,
			  ull(phys), len, ACPI_TABLE_MAX_LEN);
		return false;
	}
	t->data = acpi_map(w, phys, len);
	if (!t->data) {
		acpi_note(w->out, "%s at 0x%llx: %u bytes not accessible, skipped", t->sig, ull(phys),
			  len);
		return false;
	}
	if (acpi_sum(t->data, len) != 0) {
		acpi_note(w->out, "%s at 0x%llx: checksum bad, skipped", t->sig, ull(phys));
		t->data = NULL;
		return false;
	}
	t->len = len;
	return true;
}

/* A 32-bit port field as an I/O port; 0 (noted) when it does not fit in 16 bits. */
static uint16_t acpi_port(struct acpi_walk *w, const char *field, uint64_t value)
{
	if (value > IO_PORT_MAX) {
		acpi_note(w->out, "FADT: %s 0x%llx is not an I/O port, ignored", field, ull(value));
		return 0;
	}
	return (uint16_t)value;
}

static struct acpi_gas acpi_gas_read(const uint8_t *p)
{
	return (struct acpi_gas){
		.space_id = p[0],
		.bit_width = p[1],
		.bit_offset = p[2],
		.access_size = p[3],
		.address = get_le64(p + 4),
	};
}

/* An X_ block in I/O space replaces the 32-bit port; anything else keeps the port (noted). */
static uint16_t acpi_x_port(struct acpi_walk *w, const char *field, const uint8_t *gas_bytes,
			    uint16_t port)
{
	struct acpi_gas gas = acpi_gas_read(gas_bytes);

	if (gas.address == 0)
		return port;
	if (gas.space_id == ACPI_GAS_IO && gas.address <= IO_PORT_MAX)
		return (uint16_t)gas.address;
	acpi_note(w->out, "FADT: X_%s in space %u at 0x%llx not usable, using the 32-bit field",
		  field, gas.space_id, ull(gas.address));
	return port;
}

static bool acpi_cpu_usable(const struct acpi_cpu *cpu)
{
	return cpu->enabled || cpu->online_capable;
}

bool acpi_needs_x2apic(const struct acpi_info *info)
{
	for (unsigned i = 0; i < info->cpu_count && i < ACPI_MAX_CPUS; i++)
		if (acpi_cpu_usable(&info->cpus[i]) && info->cpus[i].apic_id > 254)
			return true;
	return false;
}

/* Records a CPU; when cpus[] is full a usable CPU displaces the last unusable one. */
static void acpi_add_cpu(struct acpi_walk *w, uint32_t apic_id, uint32_t uid, uint32_t flags,
			 bool x2apic)
{
	struct acpi_info *out = w->out;
	struct acpi_cpu cpu = {
		.apic_id = apic_id,
		.acpi_uid = uid,
		.enabled = (flags & MADT_CPU_ENABLED) != 0,
		.online_capable = (flags & MADT_CPU_ONLINE_CAPABLE) != 0,
		.x2apic = x2apic,
	};

	for (unsigned i = 0; i < out->cpu_count; i++) {
		if (out->cpus[i].apic_id == apic_id) {
			acpi_note(out, "MADT: APIC id %u listed twice, second ignored", apic_id);
			out->cpus_ignored++;
			return;
		}
	}
	if (out->cpu_count < ACPI_MAX_CPUS) {
		out->cpus[out->cpu_count++] = cpu;
		return;
	}
	out->cpus_ignored++;
	if (!acpi_cpu_usable(&cpu))
		return;
	for (unsigned i = ACPI_MAX_CPUS; i-- > 0;) {
		if (!acpi_cpu_usable(&out->cpus[i])) {
			memmove(&out->cpus[i], &out->cpus[i + 1],
				(ACPI_MAX_CPUS - 1 - i) * sizeof(out->cpus[0]));
			out->cpus[ACPI_MAX_CPUS - 1] = cpu;
			return;
		}
	}
}

/* Minimum length of each structure type the parser reads. */
static uint8_t madt_min_len(uint8_t type)
{
	switch (type) {
	case MADT_LAPIC:
		return 8;
	case MADT_IOAPIC:
		return 12;
	case MADT_ISO:
		return 10;
	case MADT_LAPIC_OVERRIDE:
		return 12;
	case MADT_X2APIC:
		return 16;
	default:
		return 2;
	}
}

static void acpi_madt_entry(struct acpi_walk *w, const uint8_t *e, uint8_t len, size_t offset)
{
	struct acpi_info *out = w->out;
	uint8_t type = e[0];

	if (len < madt_min_len(type)) {
		acpi_note(out, "MADT: type %u entry at offset %zu is %u bytes, too short, ignored",
			  type, offset, len);
		return;
	}
	switch (type) {
	case MADT_LAPIC: /* Processor Local APIC, ACPI 6.5 5.2.12.2 */
		acpi_add_cpu(w, e[3], e[2], get_le32(e + 4), false);
		break;
	case MADT_X2APIC: /* Processor Local x2APIC, ACPI 6.5 5.2.12.12 */
		acpi_add_cpu(w, get_le32(e + 4), get_le32(e + 12), get_le32(e + 8), true);
		break;
	case MADT_IOAPIC:
		if (out->ioapic_count < ACPI_MAX_IOAPICS)
			out->ioapics[out->ioapic_count++] = (struct acpi_ioapic){
				.id = e[2], .address = get_le32(e + 4), .gsi_base = get_le32(e + 8)
			};
		else
			out->ioapics_ignored++;
		break;
	case MADT_ISO:
		if (out->irq_override_count < ACPI_MAX_IRQ_OVERRIDES)
			out->irq_overrides[out->irq_override_count++] = (struct acpi_irq_override){
				.bus = e[2], .source = e[3], .gsi = get_le32(e + 4), .flags = get_le16(e + 8)
			};
		else
			acpi_note(out, "MADT: interrupt source override for IRQ %u ignored (table full)",
				  e[3]);
		break;
	case MADT_LAPIC_OVERRIDE: /* 64-bit local APIC address, ACPI 6.5 5.2.12.8 */
		out->lapic_base = get_le64(e + 4);
		break;
	default:
		break;
	}
}

static void acpi_parse_madt(struct acpi_walk *w, const struct acpi_table *t)
{
	struct acpi_info *out = w->out;
	const uint8_t *d = t->data;
	size_t off = MADT_ENTRIES;
	bool have_override = false;

	if (t->len < MADT_ENTRIES) {
		acpi_note(out, "MADT at 0x%llx: %u bytes, too short, skipped", ull(t->phys), t->len);
		return;
	}
	out->has_madt = true;
	out->lapic_base = get_le32(d + MADT_LAPIC_ADDR);
	out->pcat_compat = (get_le32(d + MADT_FLAGS) & MADT_PCAT_COMPAT) != 0;
	while (off < t->len) {
		size_t left = t->len - off;
		if (left < 2) {
			acpi_note(out, "MADT: %zu stray byte(s) at the end, ignored", left);
			break;
		}
		uint8_t len = d[off + 1];
		if (len < 2) {
			acpi_note(out, "MADT: entry at offset %zu has length %u, rest ignored", off, len);
			break;
		}
		if (len > left) {
			acpi_note(out, "MADT: type %u entry at offset %zu runs past the end, rest ignored",
				  d[off], off);
			break;
		}
		if (d[off] == MADT_LAPIC_OVERRIDE && len >= madt_min_len(MADT_LAPIC_OVERRIDE))
			have_override = true;
		acpi_madt_entry(w, d + off, len, off);
		off += len;
	}
	if (!have_override && out->lapic_base == 0) {
		acpi_note(out, "MADT: local APIC address 0, assuming 0x%x", LAPIC_DEFAULT_BASE);
		out->lapic_base = LAPIC_DEFAULT_BASE;
	}
	for (unsigned i = 0; i < out->cpu_count; i++)
		if (acpi_cpu_usable(&out->cpus[i]))
			out->cpus_usable++;
}

/* Reads one AML integer that ends before end: ZeroOp, OneOp or a Byte/Word/DWord constant. */
static bool aml_integer(const uint8_t *p, size_t end, size_t *off, uint32_t *value)
{
	size_t o = *off;

	if (o >= end)
		return false;
	switch (p[o]) {
	case AML_ZERO_OP:
	case AML_ONE_OP:
		*value = p[o];
		*off = o + 1;
		return true;
	case AML_BYTE_PREFIX:
		if (end - o < 2)
			return false;
		*value = p[o + 1];
		*off = o + 2;
		return true;
	case AML_WORD_PREFIX:
		if (end - o < 3)
			return false;
		*value = get_le16(p + o + 1);
		*off = o + 3;
		return true;
	case AML_DWORD_PREFIX:
		if (end - o < 5)
			return false;
		*value = get_le32(p + o + 1);
		*off = o + 5;
		return true;
	default:
		return false;
	}
}

/* Decodes Package(){SLP_TYPa, SLP_TYPb, ...} at p: PackageOp PkgLength NumElements elements. */
static bool aml_s5_package(const uint8_t *p, size_t len, uint8_t *typa, uint8_t *typb)
{
	size_t off = 1, end;
	uint32_t pkg_len, value[2];
	unsigned follow, count;

	if (len < 3 || p[0] != AML_PACKAGE_OP)
		return false;
	/* PkgLength: bits 7:6 of the lead byte count the bytes that follow, ACPI 6.5 20.2.4 */
	follow = p[off] >> 6;
	if (len - off < 1 + follow + 1)
		return false;
	pkg_len = follow ? (p[off] & 0x0fu) : (p[off] & 0x3fu);
	for (unsigned k = 1; k <= follow; k++)
		pkg_len |= (uint32_t)p[off + k] << (4 + 8 * (k - 1));
	/* The length counts itself and everything up to the end of the package. */
	if (pkg_len < 1 + follow + 1 || pkg_len > len - off)
		return false;
	end = off + pkg_len;
	off += 1 + follow;
	count = p[off++];
	if (count == 0)
		return false;
	for (unsigned i = 0; i < 2 && i < count; i++)
		if (!aml_integer(p, end, &off, &value[i]))
			return false;
	if (count == 1) { /* one integer: SLP_TYPa in bits 7:0, SLP_TYPb in bits 15:8 (ACPICA) */
		value[1] = (value[0] >> 8) & 0xff;
		value[0] &= 0xff;
	}
	if (value[0] > 7 || value[1] > 7)
		return false;
	*typa = (uint8_t)value[0];
	*typb = (uint8_t)value[1];
	return true;
}

/* Finds Name(\_S5_, Package...) by scanning the AML bytes, without an interpreter: each "_S5_"
 * preceded by NameOp (optionally with the root prefix) is tried until one decodes. */
static bool aml_find_s5(const uint8_t *aml, size_t len, uint8_t *typa, uint8_t *typb)
{
	for (size_t i = 1; i + 4 < len; i++) {
		if (memcmp(aml + i, "_S5_", 4) != 0)
			continue;
		bool named = aml[i - 1] == AML_NAME_OP ||
			     (i >= 2 && aml[i - 1] == AML_ROOT_CHAR && aml[i - 2] == AML_NAME_OP);
		if (named && aml_s5_package(aml + i + 4, len - i - 4, typa, typb))
			return true;
	}
	return false;
}

static bool acpi_load_dsdt(struct acpi_walk *w, uint64_t phys)
{
	struct acpi_info *out = w->out;
	struct acpi_table t;

	if (!acpi_table_load(w, phys, "DSDT", &t))
		return false;
	out->dsdt = phys;
	out->has_dsdt = true;
	out->s5_valid = aml_find_s5(t.data + ACPI_HEADER_LEN, t.len - ACPI_HEADER_LEN,
				    &out->s5_slp_typa, &out->s5_slp_typb);
	if (!out->s5_valid)
		acpi_note(out, "DSDT at 0x%llx: no \\_S5 package found", ull(phys));
	return true;
}

static void acpi_parse_fadt(struct acpi_walk *w, const struct acpi_table *t)
{
	struct acpi_info *out = w->out;
	const uint8_t *d = t->data;
	uint32_t len = t->len;
	uint64_t dsdt32, x_dsdt = 0;

	if (len < FADT_PM1B_CNT_BLK + 4) {
		acpi_note(out, "FADT at 0x%llx: %u bytes, too short, skipped", ull(t->phys), len);
		return;
	}
	out->has_fadt = true;
	out->fadt_revision = d[HDR_REVISION];
	dsdt32 = get_le32(d + FADT_DSDT);
	out->sci_irq = get_le16(d + FADT_SCI_INT);
	out->smi_cmd = get_le32(d + FADT_SMI_CMD);
	out->acpi_enable = d[FADT_ACPI_ENABLE];
	out->acpi_disable = d[FADT_ACPI_DISABLE];
	out->pm1a_cnt = acpi_port(w, "PM1a_CNT_BLK", get_le32(d + FADT_PM1A_CNT_BLK));
	out->pm1b_cnt = acpi_port(w, "PM1b_CNT_BLK", get_le32(d + FADT_PM1B_CNT_BLK));
	if (len >= FADT_PM_TMR_BLK + 4)
		out->pm_timer = acpi_port(w, "PM_TMR_BLK", get_le32(d + FADT_PM_TMR_BLK));
	if (len >= FADT_FLAGS + 4)
		out->fadt_flags = get_le32(d + FADT_FLAGS);
	out->pm_timer_32bit = (out->fadt_flags & ACPI_FADT_TMR_VAL_EXT) != 0;
	if (len >= FADT_RESET_VALUE + 1) {
		out->reset_reg = acpi_gas_read(d + FADT_RESET_REG);
		out->reset_value = d[FADT_RESET_VALUE];
		out->reset_supported = (out->fadt_flags & ACPI_FADT_RESET_REG_SUP) != 0;
		if (out->reset_supported && out->reset_reg.address == 0) {
			acpi_note(out, "FADT: RESET_REG_SUP set but the reset register is 0, ignored");
			out->reset_supported = false;
		}
	}
	if (len >= FADT_X_DSDT + 8)
		x_dsdt = get_le64(d + FADT_X_DSDT);
	if (len >= FADT_X_PM1A_CNT_BLK + GAS_LEN)
		out->pm1a_cnt = acpi_x_port(w, "PM1a_CNT_BLK", d + FADT_X_PM1A_CNT_BLK, out->pm1a_cnt);
	if (len >= FADT_X_PM1B_CNT_BLK + GAS_LEN)
		out->pm1b_cnt = acpi_x_port(w, "PM1b_CNT_BLK", d + FADT_X_PM1B_CNT_BLK, out->pm1b_cnt);
	if (len >= FADT_X_PM_TMR_BLK + GAS_LEN)
		out->pm_timer = acpi_x_port(w, "PM_TMR_BLK", d + FADT_X_PM_TMR_BLK, out->pm_timer);
	if (out->fadt_flags & ACPI_FADT_HW_REDUCED)
		acpi_note(out, "FADT: hardware-reduced ACPI, no PM1 power-off");

	/* d is not used past here: the DSDT's map() may replace it. X_DSDT wins, ACPI 6.5 5.2.9 */
	if (x_dsdt) {
		if (acpi_load_dsdt(w, x_dsdt) || !dsdt32 || dsdt32 == x_dsdt)
			return;
		acpi_note(out, "FADT: trying the 32-bit DSDT address 0x%llx", ull(dsdt32));
	}
	if (dsdt32)
		acpi_load_dsdt(w, dsdt32);
	else if (!x_dsdt)
		acpi_note(out, "FADT: no DSDT address");
}

static void acpi_visit_table(struct acpi_walk *w, unsigned index, uint64_t phys)
{
	struct acpi_info *out = w->out;
	const uint8_t *hdr;
	struct acpi_table t;
	char sig[5];

	if (phys == 0) {
		acpi_note(out, "root table entry %u is 0, skipped", index);
		return;
	}
	hdr = acpi_map(w, phys, ACPI_HEADER_LEN);
	if (!hdr) {
		acpi_note(out, "root table entry %u: 0x%llx not accessible", index, ull(phys));
		return;
	}
	acpi_name_copy(sig, hdr, 4);
	if (index < ACPI_MAX_TABLES)
		memcpy(out->tables[index], sig, sizeof(sig));
	if (memcmp(sig, "APIC", 4) == 0) {
		if (out->has_madt)
			acpi_note(out, "second MADT at 0x%llx ignored", ull(phys));
		else if (acpi_table_load(w, phys, "APIC", &t))
			acpi_parse_madt(w, &t);
	} else if (memcmp(sig, "FACP", 4) == 0) {
		if (out->has_fadt)
			acpi_note(out, "second FADT at 0x%llx ignored", ull(phys));
		else if (acpi_table_load(w, phys, "FACP", &t))
			acpi_parse_fadt(w, &t);
	}
}

/* Walks an RSDT (4-byte entries) or XSDT (8-byte entries); entries are mapped one at a time
 * because visiting a table may invalidate the root table's mapping. */
static int acpi_walk_root(struct acpi_walk *w, uint64_t phys, bool xsdt)
{
	struct acpi_info *out = w->out;
	size_t entry_size = xsdt ? 8 : 4;
	struct acpi_table t;
	uint32_t entries;

	if (!acpi_table_load(w, phys, xsdt ? "XSDT" : "RSDT", &t))
		return -E_NOENT;
	out->used_xsdt = xsdt;
	out->root_table = phys;
	entries = (uint32_t)((t.len - ACPI_HEADER_LEN) / entry_size);
	out->table_count = entries;
	if ((t.len - ACPI_HEADER_LEN) % entry_size)
		acpi_note(out, "%s: length %u is not a whole number of entries", t.sig, t.len);
	if (entries > ACPI_ROOT_MAX_ENTRIES) {
		acpi_note(out, "%s: %u entries, only the first %u looked at", t.sig, entries,
			  ACPI_ROOT_MAX_ENTRIES);
		entries = ACPI_ROOT_MAX_ENTRIES;
	}
	for (uint32_t i = 0; i < entries; i++) {
		const uint8_t *e = acpi_map(w, phys + ACPI_HEADER_LEN + i * entry_size, entry_size);
		if (!e) {
			acpi_note(out, "%s: entry %u not accessible", t.sig, i);
			break;
		}
		acpi_visit_table(w, i, xsdt ? get_le64(e) : get_le32(e));
	}
	return 0;
}

/* The XSDT address of a v2+ RSDP whose extended checksum holds, else 0 (noted). */
static uint64_t acpi_rsdp_xsdt(struct acpi_info *out, const uint8_t *rsdp, size_t rsdp_len)
{
	uint32_t length;

	if (rsdp_len < RSDP_V2_LEN) {
		acpi_note(out, "RSDP revision %u but only %zu bytes, using the RSDT", out->rsdp_revision,
			  rsdp_len);
		return 0;
	}
	length = get_le32(rsdp + RSDP_LENGTH);
	if (length < RSDP_V2_LEN || length > rsdp_len) {
		acpi_note(out, "RSDP length %u, expected %u, using the RSDT", length, RSDP_V2_LEN);
		return 0;
	}
	if (acpi_sum(rsdp, length) != 0) {
		acpi_note(out, "RSDP extended checksum bad, using the RSDT");
		return 0;
	}
	return get_le64(rsdp + RSDP_XSDT);
}

int acpi_parse(const uint8_t *rsdp, size_t rsdp_len, acpi_map_fn map, void *ctx,
	       struct acpi_info *out)
{
	struct acpi_walk w = { .map = map, .ctx = ctx, .out = out };
	uint64_t rsdt, xsdt = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!rsdp || rsdp_len < RSDP_V1_LEN) {
		acpi_note(out, "RSDP: %zu bytes, need %u", rsdp ? rsdp_len : 0, RSDP_V1_LEN);
		return -E_TRUNC;
	}
	if (memcmp(rsdp, "RSD PTR ", 8) != 0) {
		acpi_note(out, "RSDP: bad signature");
		return -E_INVAL;
	}
	if (acpi_sum(rsdp, RSDP_V1_LEN) != 0) {
		acpi_note(out, "RSDP: checksum bad");
		return -E_INVAL;
	}
	out->rsdp_revision = rsdp[RSDP_REVISION];
	acpi_name_copy(out->oem_id, rsdp + RSDP_OEM_ID, 6);
	rsdt = get_le32(rsdp + RSDP_RSDT);
	if (out->rsdp_revision >= 2)
		xsdt = acpi_rsdp_xsdt(out, rsdp, rsdp_len);

	if (xsdt) {
		rc = acpi_walk_root(&w, xsdt, true);
		if (rc == 0)
			return 0;
		if (!rsdt)
			return rc;
		acpi_note(out, "falling back to the RSDT at 0x%llx", ull(rsdt));
	}
	if (!rsdt) {
		acpi_note(out, "RSDP: no RSDT address");
		return -E_NOENT;
	}
	return acpi_walk_root(&w, rsdt, false);
}
