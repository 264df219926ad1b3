/* ports: pokes the legacy devices a host depends on — the PICs, the PIT, the CMOS/RTC and PCI
 * configuration space — and prints what it reads back (all-ones under Cloison, which emulates
 * none of them). The test checks that the host and the other guests notice nothing.
 * Command line: NAME [reset] — reset adds the reset ports 0xcf9, 0x92 and 0x64 (a bare machine
 * reboots). Ends with "ports: done" and exit 0. */
#include "tests/guests/lib/guest.h"

enum {
	PIC1_CMD = 0x20, PIC1_DATA = 0x21, PIC2_CMD = 0xa0, PIC2_DATA = 0xa1,
	PIT_CH0 = 0x40, PIT_MODE = 0x43,
	CMOS_INDEX = 0x70, CMOS_DATA = 0x71,
	PCI_CONFIG_ADDRESS = 0xcf8, PCI_CONFIG_DATA = 0xcfc,
	RESET_CONTROL = 0xcf9, SYSTEM_CONTROL_A = 0x92, KBC_COMMAND = 0x64,
};

#define CMOS_NMI_DISABLE 0x80
#define CMOS_STATUS_B 0x0b
#define CMOS_STATUS_B_SET 0x80      /* stops the RTC's updates */
#define CMOS_SHUTDOWN_STATUS 0x0f
#define CMOS_SHUTDOWN_JMP_467 0x0a  /* next reset jumps through 40:67 instead of POST */

static uint8_t cmos_read(uint8_t index)
{
	outb(CMOS_INDEX, index);
	return inb(CMOS_DATA);
}

static void poke_pic(void)
{
	printf("ports: PIC masks before: 0x%02x 0x%02x\n", inb(PIC1_DATA), inb(PIC2_DATA));
	/* The full initialisation sequence, vectors 0x20/0x28, then every line masked, 8259A
	 * datasheet ICW1-ICW4. */
	outb(PIC1_CMD, 0x11);
	outb(PIC1_DATA, 0x20);
	outb(PIC1_DATA, 0x04);
	outb(PIC1_DATA, 0x01);
	outb(PIC2_CMD, 0x11);
	outb(PIC2_DATA, 0x28);
	outb(PIC2_DATA, 0x02);
	outb(PIC2_DATA, 0x01);
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);
	outb(PIC1_CMD, 0x0a); /* OCW3: read IRR */
	printf("ports: PIC masks after: 0x%02x 0x%02x, IRR 0x%02x\n", inb(PIC1_DATA),
	       inb(PIC2_DATA), inb(PIC1_CMD));
}

static void poke_pit(void)
{
	/* Channel 0, lobyte/hibyte, mode 2, divisor 2: an interrupt storm for anyone listening. */
	outb(PIT_MODE, 0x34);
	outb(PIT_CH0, 0x02);
	outb(PIT_CH0, 0x00);
	outb(PIT_MODE, 0x00); /* latch channel 0 */
	uint8_t lo = inb(PIT_CH0), hi = inb(PIT_CH0);
	printf("ports: PIT channel 0 reprogrammed, counter reads 0x%02x%02x\n", hi, lo);
}

static void poke_cmos(void)
{
	uint8_t seconds = cmos_read(0x00), status_b = cmos_read(CMOS_STATUS_B);

	printf("ports: CMOS seconds 0x%02x, status B 0x%02x, shutdown status 0x%02x\n", seconds,
	       status_b, cmos_read(CMOS_SHUTDOWN_STATUS));
	outb(CMOS_INDEX, CMOS_NMI_DISABLE | CMOS_SHUTDOWN_STATUS);
	outb(CMOS_DATA, CMOS_SHUTDOWN_JMP_467);
	outb(CMOS_INDEX, CMOS_NMI_DISABLE | CMOS_STATUS_B);
	outb(CMOS_DATA, (uint8_t)(status_b | CMOS_STATUS_B_SET));
	printf("ports: CMOS written (NMI off, RTC stopped, shutdown 0x%02x), reads back 0x%02x 0x%02x\n",
	       CMOS_SHUTDOWN_JMP_467, cmos_read(CMOS_SHUTDOWN_STATUS), cmos_read(CMOS_STATUS_B));
}

static void poke_pci(void)
{
	outl(PCI_CONFIG_ADDRESS, 0x80000000u); /* bus 0, device 0, function 0, register 0 */
	uint32_t address = inl(PCI_CONFIG_ADDRESS), id = inl(PCI_CONFIG_DATA);
	printf("ports: PCI 0:0.0 vendor/device 0x%08x (address reads 0x%08x)\n", id, address);
}

static void poke_reset(void)
{
	printf("ports: writing the reset ports 0xcf9, 0x92, 0x64\n");
	uart_flush();
	outb(RESET_CONTROL, 0x06);
	outb(SYSTEM_CONTROL_A, 0x01);
	outb(KBC_COMMAND, 0xfe);
	printf("ports: reset ports did nothing\n");
}

void guest_main(uint32_t magic, const struct mb_info *mbi)
{
	guest_boot("ports", magic);
	idt_init(0xee);
	poke_pic();
	poke_pit();
	poke_cmos();
	poke_pci();
	if (cmdline_flag(guest_cmdline(mbi), "reset"))
		poke_reset();
	printf("ports: done\n");
	guest_exit(0);
}
