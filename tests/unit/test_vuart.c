/* Host tests for the virtual 16550A: reset state, registers, interrupts, and Linux's 8250 probe. */
#include "tests/unit/test.h"
#include "drivers/virt/vuart.h"

#include <stdlib.h>

TEST_MAIN_GLOBALS;

struct tx_log {
	uint8_t bytes[1024];
	unsigned count;
	unsigned calls; /* batches handed over */
};

static void tx_record(void *ctx, const uint8_t *bytes, unsigned n)
{
	struct tx_log *log = ctx;

	CHECK(n > 0 && n <= VUART_TX_QUEUE);
	for (unsigned i = 0; i < n; i++) {
		if (log->count < sizeof(log->bytes))
			log->bytes[log->count] = bytes[i];
		log->count++;
	}
	log->calls++;
}

static void test_reset_values(void)
{
	struct vuart u;

	vuart_init(&u, NULL, NULL);
	CHECK_EQ(vuart_read(&u, UART_IER_DLM), 0);
	CHECK_EQ(vuart_read(&u, UART_IIR_FCR), 0x01);
	CHECK_EQ(vuart_read(&u, UART_LCR), 0);
	CHECK_EQ(vuart_read(&u, UART_MCR), 0);
	CHECK_EQ(vuart_read(&u, UART_LSR), 0x60);
	CHECK_EQ(vuart_read(&u, UART_MSR), 0xb0);
	CHECK_EQ(vuart_read(&u, UART_SCR), 0);
	CHECK_EQ(vuart_read(&u, UART_RBR_THR_DLL), 0);
	CHECK_EQ(u.dll, 12);
	CHECK_EQ(u.dlm, 0);
	CHECK(!vuart_irq(&u));
	CHECK_EQ(vuart_read(&u, 8), 0xff);
	CHECK_EQ(vuart_read(&u, 1000), 0xff);
	vuart_write(&u, 8, 0x12);
	vuart_write(&u, 0xffffffffu, 0x12);
	CHECK_EQ(vuart_read(&u, UART_SCR), 0);
}

static void test_dlab(void)
{
	struct tx_log log = { 0 };
	struct vuart u;

	vuart_init(&u, tx_record, &log);
	vuart_write(&u, UART_LCR, 0x83);
	CHECK_EQ(vuart_read(&u, UART_RBR_THR_DLL), 12);
	CHECK_EQ(vuart_read(&u, UART_IER_DLM), 0);
	vuart_write(&u, UART_RBR_THR_DLL, 0x01);
	vuart_write(&u, UART_IER_DLM, 0x02);
	CHECK_EQ(vuart_read(&u, UART_RBR_THR_DLL), 0x01);
	CHECK_EQ(vuart_read(&u, UART_IER_DLM), 0x02);
	CHECK_EQ(log.count, 0);
	CHECK_EQ(u.ier, 0);
	/* IIR stays readable with DLAB set: it does not share DLL/DLM's offsets */
	CHECK_EQ(vuart_read(&u, UART_IIR_FCR), 0x01);
	vuart_write(&u, UART_LCR, 0x03);
	CHECK_EQ(vuart_read(&u, UART_LCR), 0x03);
	CHECK_EQ(vuart_read(&u, UART_IER_DLM), 0);
	vuart_write(&u, UART_IER_DLM, 0xff);
	CHECK_EQ(vuart_read(&u, UART_IER_DLM), 0x0f);
	CHECK_EQ(u.dlm, 0x02);
	CHECK_EQ(u.dll, 0x01);
}

static void test_output(void)
{
	struct tx_log log = { 0 };
	struct vuart u;
	const char *msg = "hi\n";

	vuart_init(&u, tx_record, &log);
	for (const char *c = msg; *c; c++) {
		CHECK(vuart_read(&u, UART_LSR) & 0x20);
		vuart_write(&u, UART_RBR_THR_DLL, (uint8_t)*c);
	}
	/* Queued, not handed over, until the host side asks */
	CHECK_EQ(log.count, 0);
	CHECK_EQ(u.tx_queued, 3);
	vuart_tx_flush(&u);
	CHECK_EQ(log.calls, 1);
	CHECK_EQ(log.count, 3);
	CHECK(memcmp(log.bytes, msg, 3) == 0);
	CHECK_EQ(u.tx_bytes, 3);
	CHECK_EQ(vuart_read(&u, UART_LSR), 0x60);
	CHECK_EQ(u.rx_count, 0);

	/* A NULL callback still counts the byte as sent */
	vuart_init(&u, NULL, NULL);
	vuart_write(&u, UART_RBR_THR_DLL, 'x');
	CHECK_EQ(u.tx_bytes, 1);
	vuart_tx_flush(&u);
	CHECK_EQ(u.tx_queued, 0);
}

/* The transmit queue: bytes reach tx in order and in batches, a full queue is handed over
 * before the next byte joins it, nothing is lost, and a reset forgets what was queued. */
static void test_tx_queue(void)
{
	struct tx_log log = { 0 };
	struct vuart u;
	unsigned sent = 3 * VUART_TX_QUEUE + 5;

	vuart_init(&u, tx_record, &log);
	vuart_tx_flush(&u); /* nothing queued: no call */
	CHECK_EQ(log.calls, 0);
	for (unsigned i = 0; i < sent; i++) {
		vuart_write(&u, UART_RBR_THR_DLL, (uint8_t)(i * 7));
		/* The guest never sees the queue: THR is empty again at once */
		CHECK_EQ(vuart_read(&u, UART_LSR) & 0x60, 0x60);
		CHECK(u.tx_queued >= 1 && u.tx_queued <= VUART_TX_QUEUE);
	}
	CHECK_EQ(log.calls, 3);
	CHECK_EQ(log.count, 3 * VUART_TX_QUEUE);
	CHECK_EQ(u.tx_queued, 5);
	CHECK_EQ(u.tx_bytes, sent);
	vuart_tx_flush(&u);
	CHECK_EQ(log.calls, 4);
	CHECK_EQ(log.count, sent);
	for (unsigned i = 0; i < sent; i++)
		CHECK_EQ(log.bytes[i], (uint8_t)(i * 7));
	vuart_tx_flush(&u);
	CHECK_EQ(log.calls, 4);

	/* Loopback bytes go to the receiver, never to the queue */
	vuart_write(&u, UART_MCR, 0x10);
	vuart_write(&u, UART_RBR_THR_DLL, 'L');
	CHECK_EQ(u.tx_queued, 0);
	vuart_write(&u, UART_MCR, 0x00);

	/* Divisor writes with DLAB set are no transmission either */
	vuart_write(&u, UART_LCR, 0x80);
	vuart_write(&u, UART_RBR_THR_DLL, 1);
	CHECK_EQ(u.tx_queued, 0);
	vuart_write(&u, UART_LCR, 0x03);

	/* A new run starts with an empty queue: what the last one left is not the next one's */
	vuart_write(&u, UART_RBR_THR_DLL, 'q');
	CHECK_EQ(u.tx_queued, 1);
	vuart_init(&u, tx_record, &log);
	CHECK_EQ(u.tx_queued, 0);
	vuart_tx_flush(&u);
	CHECK_EQ(log.count, sent);
}

static void test_receive(void)
{
	struct vuart u;

	vuart_init(&u, NULL, NULL);
	CHECK(vuart_receive(&u, 'a'));
	CHECK(vuart_receive(&u, 'b'));
	CHECK_EQ(vuart_read(&u, UART_LSR), 0x61);
	CHECK_EQ(vuart_read(&u, UART_RBR_THR_DLL), 'a');
	CHECK_EQ(vuart_read(&u, UART_LSR), 0x61);
	CHECK_EQ(vuart_read(&u, UART_RBR_THR_DLL), 'b');
	CHECK_EQ(vuart_read(&u, UART_LSR), 0x60);
	CHECK_EQ(vuart_read(&u, UART_RBR_THR_DLL), 0);
	/* Reading RBR with DLAB set reads DLL and leaves the FIFO alone */
	vuart_receive(&u, 'c');
	vuart_write(&u, UART_LCR, 0x80);
	CHECK_EQ(vuart_read(&u, UART_RBR_THR_DLL), 12);
	vuart_write(&u, UART_LCR, 0x00);
	CHECK_EQ(vuart_read(&u, UART_RBR_THR_DLL), 'c');
}

static void test_loopback(void)
{
	struct tx_log log = { 0 };
	struct vuart u;

	vuart_init(&u, tx_record, &log);
	vuart_write(&u, UART_MCR, 0x10);
	vuart_write(&u, UART_RBR_THR_DLL, 0x5a);
	CHECK_EQ(log.count, 0);
	CHECK_EQ(u.tx_bytes, 0);
	CHECK_EQ(vuart_read(&u, UART_LSR) & 0x01, 0x01);
	CHECK_EQ(vuart_read(&u, UART_RBR_THR_DLL), 0x5a);

	/* Each MCR output shows on its MSR input; entering loopback dropped DCD|DSR|CTS */
	CHECK_EQ(vuart_read(&u, UART_MSR), 0x0b);
	vuart_write(&u, UART_MCR, 0x11);
	CHECK_EQ(vuart_read(&u, UART_MSR), 0x22);
	vuart_write(&u, UART_MCR, 0x12);
	CHECK_EQ(vuart_read(&u, UART_MSR), 0x13);
	vuart_write(&u, UART_MCR, 0x14);
	CHECK_EQ(vuart_read(&u, UART_MSR), 0x41);
	/* RI's trailing edge sets TERI; its leading edge above did not */
	vuart_write(&u, UART_MCR, 0x18);
	CHECK_EQ(vuart_read(&u, UART_MSR), 0x8c);
	CHECK_EQ(vuart_read(&u, UART_MSR), 0x80);
	vuart_write(&u, UART_MCR, 0x1f);
	CHECK_EQ(vuart_read(&u, UART_MSR), 0xf3);
	vuart_write(&u, UART_MCR, 0xff);
	CHECK_EQ(vuart_read(&u, UART_MCR), 0x1f);
	/* Leaving loopback shows the connected line again */
	vuart_write(&u, UART_MCR, 0x00);
	CHECK_EQ(vuart_read(&u, UART_MSR) & 0xf0, 0xb0);
	vuart_write(&u, UART_RBR_THR_DLL, 'z');
	vuart_tx_flush(&u);
	CHECK_EQ(log.count, 1);
	CHECK_EQ(log.bytes[0], 'z');
}

enum probe_type { PROBE_NONE, PROBE_8250, PROBE_16450, PROBE_16550, PROBE_16550A, PROBE_OTHER };

/* Linux 8250_port.c size_fifo(): loop back 256 bytes at full speed and count what stays. */
static int probe_size_fifo(struct vuart *u)
{
	uint8_t old_lcr, old_fcr, old_mcr, old_dll, old_dlm;
	int count;

	old_lcr = vuart_read(u, UART_LCR);
	vuart_write(u, UART_LCR, 0);
	old_fcr = vuart_read(u, UART_IIR_FCR);
	old_mcr = vuart_read(u, UART_MCR);
	vuart_write(u, UART_IIR_FCR, 0x07);
	vuart_write(u, UART_MCR, 0x10);
	vuart_write(u, UART_LCR, 0x80);
	old_dll = vuart_read(u, UART_RBR_THR_DLL);
	old_dlm = vuart_read(u, UART_IER_DLM);
	vuart_write(u, UART_RBR_THR_DLL, 1);
	vuart_write(u, UART_IER_DLM, 0);
	vuart_write(u, UART_LCR, 0x03);
	for (count = 0; count < 256; count++)
		vuart_write(u, UART_RBR_THR_DLL, (uint8_t)count);
	for (count = 0; (vuart_read(u, UART_LSR) & 0x01) && count < 256; count++)
		vuart_read(u, UART_RBR_THR_DLL);
	vuart_write(u, UART_IIR_FCR, old_fcr);
	vuart_write(u, UART_MCR, old_mcr);
	vuart_write(u, UART_LCR, 0x80);
	vuart_write(u, UART_RBR_THR_DLL, old_dll);
	vuart_write(u, UART_IER_DLM, old_dlm);
	vuart_write(u, UART_LCR, old_lcr);
	return count;
}

/* Linux 8250_port.c autoconfig_16550a(): everything that could make a 16550A look like a cousin. */
static enum probe_type probe_16550a(struct vuart *u)
{
	uint8_t status1, status2, ier_save;

	/* EFR visible with DLAB set: ST16C650V1 */
	vuart_write(u, UART_LCR, 0x80);
	if (vuart_read(u, UART_IIR_FCR) == 0)
		return PROBE_OTHER;
	/* EFR behind LCR=0xBF: ST16C650V2, TI16C752 */
	vuart_write(u, UART_LCR, 0xbf);
	if (vuart_read(u, UART_IIR_FCR) == 0)
		return PROBE_OTHER;
	/* National SuperIO: MCR.LOOP mirrored in EXCR1 behind LCR=0xE0 */
	vuart_write(u, UART_LCR, 0);
	status1 = vuart_read(u, UART_MCR);
	vuart_write(u, UART_LCR, 0xe0);
	status2 = vuart_read(u, UART_IIR_FCR);
	if (!((status2 ^ status1) & 0x10)) {
		vuart_write(u, UART_LCR, 0);
		vuart_write(u, UART_MCR, status1 ^ 0x10);
		vuart_write(u, UART_LCR, 0xe0);
		status2 = vuart_read(u, UART_IIR_FCR);
		vuart_write(u, UART_LCR, 0);
		vuart_write(u, UART_MCR, status1);
		if ((status2 ^ status1) & 0x10)
			return PROBE_OTHER;
	}
	/* TI16750: 64-byte FIFO bit in IIR */
	vuart_write(u, UART_LCR, 0);
	vuart_write(u, UART_IIR_FCR, 0x21);
	status1 = vuart_read(u, UART_IIR_FCR) >> 5;
	vuart_write(u, UART_IIR_FCR, 0x01);
	vuart_write(u, UART_LCR, 0x80);
	vuart_write(u, UART_IIR_FCR, 0x21);
	status2 = vuart_read(u, UART_IIR_FCR) >> 5;
	vuart_write(u, UART_IIR_FCR, 0x01);
	vuart_write(u, UART_LCR, 0);
	if (status1 == 6 && status2 == 7)
		return PROBE_OTHER;
	/* XScale: IER bit 6 sticks */
	ier_save = vuart_read(u, UART_IER_DLM);
	vuart_write(u, UART_IER_DLM, ier_save & ~0x40);
	if (!(vuart_read(u, UART_IER_DLM) & 0x40)) {
		vuart_write(u, UART_IER_DLM, ier_save | 0x40);
		if (vuart_read(u, UART_IER_DLM) & 0x40)
			return PROBE_OTHER;
	}
	vuart_write(u, UART_IER_DLM, ier_save);
	/* U6 16550A: 64-byte FIFO */
	if (probe_size_fifo(u) == 64)
		return PROBE_OTHER;
	return PROBE_16550A;
}

/* Linux 8250_port.c autoconfig(), register access for register access. */
static enum probe_type probe_autoconfig(struct vuart *u)
{
	uint8_t scratch, scratch2, scratch3, save_mcr, save_lcr, status1;
	enum probe_type type;

	scratch = vuart_read(u, UART_IER_DLM);
	vuart_write(u, UART_IER_DLM, 0);
	scratch2 = vuart_read(u, UART_IER_DLM) & 0x0f;
	vuart_write(u, UART_IER_DLM, 0x0f);
	scratch3 = vuart_read(u, UART_IER_DLM) & 0x0f;
	vuart_write(u, UART_IER_DLM, scratch);
	if (scratch2 != 0 || scratch3 != 0x0f)
		return PROBE_NONE;

	save_mcr = vuart_read(u, UART_MCR);
	save_lcr = vuart_read(u, UART_LCR);
	vuart_write(u, UART_MCR, 0x10 | 0x0a);
	status1 = vuart_read(u, UART_MSR) & 0xf0;
	vuart_write(u, UART_MCR, save_mcr);
	if (status1 != 0x90)
		return PROBE_NONE;

	vuart_write(u, UART_LCR, 0xbf);
	vuart_write(u, UART_IIR_FCR, 0);
	vuart_write(u, UART_LCR, 0);
	vuart_write(u, UART_IIR_FCR, 0x01);
	switch (vuart_read(u, UART_IIR_FCR) >> 6) {
	case 0: {
		uint8_t s1, s2;

		scratch = vuart_read(u, UART_SCR);
		vuart_write(u, UART_SCR, 0xa5);
		s1 = vuart_read(u, UART_SCR);
		vuart_write(u, UART_SCR, 0x5a);
		s2 = vuart_read(u, UART_SCR);
		vuart_write(u, UART_SCR, scratch);
		type = (s1 == 0xa5 && s2 == 0x5a) ? PROBE_16450 : PROBE_8250;
		break;
	}
	case 2:
		type = PROBE_16550;
		break;
	case 3:
		type = probe_16550a(u);
		break;
	default:
		type = PROBE_OTHER;
		break;
	}
	vuart_write(u, UART_LCR, save_lcr);

	/* Reset: serial8250_clear_fifos(), drain RX, mask interrupts */
	vuart_write(u, UART_MCR, save_mcr);
	vuart_write(u, UART_IIR_FCR, 0x01);
	vuart_write(u, UART_IIR_FCR, 0x07);
	vuart_write(u, UART_IIR_FCR, 0);
	vuart_read(u, UART_RBR_THR_DLL);
	vuart_write(u, UART_IER_DLM, 0);
	return type;
}

static void test_linux_probe(void)
{
	struct tx_log log = { 0 };
	struct vuart u;

	vuart_init(&u, tx_record, &log);
	vuart_write(&u, UART_SCR, 0x42);
	CHECK_EQ(probe_autoconfig(&u), PROBE_16550A);
	CHECK_EQ(log.count, 0);
	CHECK_EQ(u.tx_bytes, 0);
	CHECK_EQ(vuart_read(&u, UART_SCR), 0x42);
	CHECK_EQ(u.dll, 12);
	CHECK_EQ(vuart_read(&u, UART_LCR), 0);
	CHECK_EQ(vuart_read(&u, UART_MCR), 0);
	CHECK_EQ(vuart_read(&u, UART_IER_DLM), 0);
	CHECK_EQ(vuart_read(&u, UART_IIR_FCR), 0x01);
	/* Its FIFO measures 16 whatever the FIFOs' state before */
	CHECK_EQ(probe_size_fifo(&u), 16);
	CHECK_EQ(probe_size_fifo(&u), 16);
	CHECK_EQ(u.dll, 12);
	vuart_write(&u, UART_IIR_FCR, 0);
	/* size_fifo overran the FIFO; the reset read of LSR clears OE */
	CHECK(u.rx_overruns > 0);
	vuart_read(&u, UART_LSR);
	CHECK_EQ(vuart_read(&u, UART_LSR), 0x60);
	CHECK_EQ(u.rx_count, 0);

	/* serial8250_startup(): THRE must re-assert each time THRI is enabled (no UART_BUG_THRE) */
	vuart_write(&u, UART_IER_DLM, 0x02);
	CHECK_EQ(vuart_read(&u, UART_IIR_FCR) & 0x01, 0);
	vuart_write(&u, UART_IER_DLM, 0);
	vuart_write(&u, UART_IER_DLM, 0x02);
	CHECK_EQ(vuart_read(&u, UART_IIR_FCR) & 0x01, 0);
	vuart_write(&u, UART_IER_DLM, 0);

	/* Then the normal set-up: 8N1, FIFOs on with trigger 8, OUT2 so interrupts reach the PIC */
	vuart_write(&u, UART_LCR, 0x03);
	vuart_write(&u, UART_IIR_FCR, 0x81);
	vuart_write(&u, UART_MCR, 0x0b);
	vuart_write(&u, UART_IER_DLM, 0x05);
	CHECK_EQ(vuart_read(&u, UART_IIR_FCR), 0xc1);
	CHECK(!vuart_irq(&u));
	vuart_receive(&u, 'k');
	CHECK(vuart_irq(&u));
	/* One byte under the trigger level of 8: a character timeout */
	CHECK_EQ(vuart_read(&u, UART_IIR_FCR), 0xcc);
	CHECK_EQ(vuart_read(&u, UART_RBR_THR_DLL), 'k');
	CHECK(!vuart_irq(&u));
}

static void test_not_detected_as_others(void)
{
	struct vuart u;

	/* Reads that Linux uses to spot other chips must give a 16550A's answers */
	vuart_init(&u, NULL, NULL);
	vuart_write(&u, UART_IIR_FCR, 0x01);
	vuart_write(&u, UART_LCR, 0xbf);
	CHECK(vuart_read(&u, UART_IIR_FCR) != 0);
	vuart_write(&u, UART_LCR, 0x80);
	CHECK(vuart_read(&u, UART_IIR_FCR) != 0);
	vuart_write(&u, UART_IIR_FCR, 0x21);
	CHECK_EQ(vuart_read(&u, UART_IIR_FCR) >> 5, 6);
	vuart_write(&u, UART_LCR, 0);
	vuart_write(&u, UART_IER_DLM, 0x4f);
	CHECK_EQ(vuart_read(&u, UART_IER_DLM), 0x0f);
}

static void test_iir_priority(void)
{
	struct vuart u;

	vuart_init(&u, NULL, NULL);
	vuart_write(&u, UART_IER_DLM, 0x0f);
	/* Fresh THRI enable: THRE pending */
	for (int i = 0; i < VUART_FIFO_SIZE + 1; i++)
		vuart_receive(&u, (uint8_t)i);
	vuart_write(&u, UART_MCR, 0x10);
	CHECK(u.msr & 0x0f);
	CHECK(u.thr_interrupt);
	CHECK(u.lsr & 0x02);
	/* All four pending: receiver line status first */
	CHECK_EQ(vuart_read(&u, UART_IIR_FCR), 0x06);
	CHECK_EQ(vuart_read(&u, UART_IIR_FCR), 0x06);
	CHECK_EQ(vuart_read(&u, UART_LSR) & 0x03, 0x03);
	/* LSR read cleared OE: data available next */
	CHECK_EQ(vuart_read(&u, UART_IIR_FCR), 0x04);
	for (int i = 0; i < VUART_FIFO_SIZE; i++)
		vuart_read(&u, UART_RBR_THR_DLL);
	/* Then THRE, cleared by reading IIR */
	CHECK_EQ(vuart_read(&u, UART_IIR_FCR), 0x02);
	CHECK(!u.thr_interrupt);
	/* Then modem status, cleared by reading MSR */
	CHECK_EQ(vuart_read(&u, UART_IIR_FCR), 0x00);
	CHECK_EQ(vuart_read(&u, UART_IIR_FCR), 0x00);
	vuart_read(&u, UART_MSR);
	CHECK_EQ(vuart_read(&u, UART_IIR_FCR), 0x01);

	/* Conditions masked by IER do not show */
	vuart_init(&u, NULL, NULL);
	vuart_receive(&u, 1);
	vuart_write(&u, UART_MCR, 0x10);
	CHECK_EQ(vuart_read(&u, UART_IIR_FCR), 0x01);
	vuart_write(&u, UART_IER_DLM, 0x08);
	CHECK_EQ(vuart_read(&u, UART_IIR_FCR), 0x00);
	vuart_write(&u, UART_IER_DLM, 0x01);
	CHECK_EQ(vuart_read(&u, UART_IIR_FCR), 0x04);

	/* FIFO-enabled bits ride along with every identification */
	vuart_write(&u, UART_IIR_FCR, 0xc1);
	CHECK_EQ(vuart_read(&u, UART_IIR_FCR), 0xc1);
	vuart_receive(&u, 2);
	CHECK_EQ(vuart_read(&u, UART_IIR_FCR), 0xcc); /* 2 bytes, trigger 14: timeout */
	CHECK_EQ(u.fcr, 0xc1);
	vuart_write(&u, UART_IIR_FCR, 0x00);
	CHECK_EQ(u.fcr, 0);
	CHECK_EQ(vuart_read(&u, UART_IIR_FCR), 0x01);
}

static void test_thre_interrupt(void)
{
	struct tx_log log = { 0 };
	struct vuart u;

	vuart_init(&u, tx_record, &log);
	vuart_write(&u, UART_MCR, 0x08);
	CHECK(!u.thr_interrupt);
	vuart_write(&u, UART_IER_DLM, 0x02);
	CHECK(u.thr_interrupt);
	CHECK(vuart_irq(&u));
	CHECK_EQ(vuart_read(&u, UART_IIR_FCR), 0x02);
	CHECK(!vuart_irq(&u));
	CHECK_EQ(vuart_read(&u, UART_IIR_FCR), 0x01);
	/* Re-writing IER with THRI already set does not re-raise it */
	vuart_write(&u, UART_IER_DLM, 0x02);
	CHECK(!u.thr_interrupt);
	/* Each transmit empties THR at once and raises THRE again */
	vuart_write(&u, UART_RBR_THR_DLL, 'a');
	CHECK(u.thr_interrupt);
	CHECK(vuart_irq(&u));
	CHECK_EQ(vuart_read(&u, UART_IIR_FCR), 0x02);
	/* Masked then unmasked: raised again because THR is empty */
	vuart_write(&u, UART_IER_DLM, 0x00);
	CHECK(!vuart_irq(&u));
	vuart_write(&u, UART_IER_DLM, 0x02);
	CHECK(vuart_irq(&u));
	/* A THR write with THRI masked leaves the condition latched for later */
	vuart_write(&u, UART_IER_DLM, 0x00);
	vuart_write(&u, UART_RBR_THR_DLL, 'b');
	CHECK(!vuart_irq(&u));
	vuart_tx_flush(&u);
	CHECK_EQ(log.count, 2);
	/* Reading IIR while another source wins leaves THRE pending */
	vuart_write(&u, UART_IER_DLM, 0x03);
	vuart_receive(&u, 'x');
	CHECK_EQ(vuart_read(&u, UART_IIR_FCR), 0x04);
	CHECK(u.thr_interrupt);
	vuart_read(&u, UART_RBR_THR_DLL);
	CHECK_EQ(vuart_read(&u, UART_IIR_FCR), 0x02);
	CHECK(!u.thr_interrupt);
}

static void test_fifo_overflow(void)
{
	struct vuart u;

	vuart_init(&u, NULL, NULL);
	vuart_write(&u, UART_IIR_FCR, 0x01);
	for (int i = 0; i < VUART_FIFO_SIZE; i++)
		CHECK(vuart_receive(&u, (uint8_t)('A' + i)));
	CHECK_EQ(u.rx_overruns, 0);
	CHECK_EQ(vuart_read(&u, UART_LSR), 0x61);
	CHECK(!vuart_receive(&u, '!'));
	CHECK(!vuart_receive(&u, '?'));
	CHECK_EQ(u.rx_overruns, 2);
	CHECK_EQ(u.rx_count, VUART_FIFO_SIZE);
	/* OE reads once, then clears */
	CHECK_EQ(vuart_read(&u, UART_LSR), 0x63);
	CHECK_EQ(vuart_read(&u, UART_LSR), 0x61);
	/* The FIFO kept the first 16; the overflowing bytes are gone */
	for (int i = 0; i < VUART_FIFO_SIZE; i++)
		CHECK_EQ(vuart_read(&u, UART_RBR_THR_DLL), 'A' + i);
	CHECK_EQ(vuart_read(&u, UART_LSR), 0x60);
	/* Wraps around the ring */
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 10; i++)
			CHECK(vuart_receive(&u, (uint8_t)(round * 10 + i)));
		for (int i = 0; i < 10; i++)
			CHECK_EQ(vuart_read(&u, UART_RBR_THR_DLL), round * 10 + i);
	}
	/* FCR bit 1 clears the receive FIFO; bit 2 has nothing to clear */
	vuart_receive(&u, 1);
	vuart_receive(&u, 2);
	vuart_write(&u, UART_IIR_FCR, 0x05);
	CHECK_EQ(u.rx_count, 2);
	vuart_write(&u, UART_IIR_FCR, 0x03);
	CHECK_EQ(u.rx_count, 0);
	CHECK_EQ(vuart_read(&u, UART_LSR), 0x60);
	CHECK_EQ(u.fcr, 0x01);
	/* Turning the FIFOs off empties them too */
	vuart_receive(&u, 3);
	vuart_write(&u, UART_IIR_FCR, 0x00);
	CHECK_EQ(u.rx_count, 0);
}

static void test_irq_out2(void)
{
	struct vuart u;

	vuart_init(&u, NULL, NULL);
	vuart_write(&u, UART_IER_DLM, 0x01);
	vuart_receive(&u, 'q');
	CHECK_EQ(vuart_read(&u, UART_IIR_FCR), 0x04);
	CHECK(!vuart_irq(&u));
	vuart_write(&u, UART_MCR, 0x08);
	CHECK(vuart_irq(&u));
	vuart_write(&u, UART_MCR, 0x03);
	CHECK(!vuart_irq(&u));
	vuart_write(&u, UART_MCR, 0x0b);
	CHECK(vuart_irq(&u));
	vuart_write(&u, UART_IER_DLM, 0x00);
	CHECK(!vuart_irq(&u));
}

static void test_rx_trigger_and_timeout(void)
{
	static const struct { uint8_t fcr; unsigned level; } triggers[] = {
		{ 0x01, 1 }, { 0x41, 4 }, { 0x81, 8 }, { 0xc1, 14 },
	};
	struct vuart u;

	for (unsigned t = 0; t < 4; t++) {
		vuart_init(&u, NULL, NULL);
		vuart_write(&u, UART_MCR, 0x08);
		vuart_write(&u, UART_IER_DLM, 0x01);
		vuart_write(&u, UART_IIR_FCR, triggers[t].fcr);
		CHECK(!vuart_irq(&u));
		for (unsigned i = 1; i <= VUART_FIFO_SIZE; i++) {
			vuart_receive(&u, (uint8_t)i);
			CHECK(vuart_irq(&u));
			CHECK_EQ(vuart_read(&u, UART_IIR_FCR), i >= triggers[t].level ? 0xc4 : 0xcc);
		}
		/* Draining below the level turns "data available" into a timeout, then nothing */
		for (unsigned i = VUART_FIFO_SIZE; i > 0; i--) {
			CHECK_EQ(vuart_read(&u, UART_IIR_FCR), i >= triggers[t].level ? 0xc4 : 0xcc);
			vuart_read(&u, UART_RBR_THR_DLL);
		}
		CHECK_EQ(vuart_read(&u, UART_IIR_FCR), 0xc1);
		CHECK(!vuart_irq(&u));
	}
	/* FIFOs off: one byte is "data available" */
	vuart_init(&u, NULL, NULL);
	vuart_write(&u, UART_IER_DLM, 0x01);
	vuart_receive(&u, 'z');
	CHECK_EQ(vuart_read(&u, UART_IIR_FCR), 0x04);
	/* ERBFI off: neither shows */
	vuart_write(&u, UART_IIR_FCR, 0xc1);
	vuart_receive(&u, 'z');
	vuart_write(&u, UART_IER_DLM, 0x00);
	CHECK_EQ(vuart_read(&u, UART_IIR_FCR), 0xc1);
}

static void test_line_status_interrupt(void)
{
	struct vuart u;

	vuart_init(&u, NULL, NULL);
	vuart_write(&u, UART_MCR, 0x08);
	vuart_write(&u, UART_IER_DLM, 0x04);
	for (int i = 0; i < VUART_FIFO_SIZE; i++)
		vuart_receive(&u, 0);
	CHECK(!vuart_irq(&u)); /* data alone: ERBFI is off */
	vuart_receive(&u, 0);
	CHECK(vuart_irq(&u));
	CHECK_EQ(vuart_read(&u, UART_IIR_FCR), 0x06);
	/* Reading LSR is what clears it */
	CHECK_EQ(vuart_read(&u, UART_LSR) & 0x02, 0x02);
	CHECK(!vuart_irq(&u));
	CHECK_EQ(vuart_read(&u, UART_IIR_FCR), 0x01);
}

static void test_modem_status_interrupt_and_loopback_gate(void)
{
	struct vuart u;

	vuart_init(&u, NULL, NULL);
	vuart_write(&u, UART_IER_DLM, 0x08);
	/* Loopback: MCR drives the modem inputs, deltas latch, but the IRQ gate is closed */
	vuart_write(&u, UART_MCR, 0x18);
	CHECK_EQ(vuart_read(&u, UART_IIR_FCR), 0x00);
	CHECK(!vuart_irq(&u));
	vuart_read(&u, UART_MSR);
	CHECK_EQ(vuart_read(&u, UART_IIR_FCR), 0x01);
	vuart_write(&u, UART_MCR, 0x1b); /* DTR and RTS: DSR and CTS change */
	CHECK_EQ(vuart_read(&u, UART_IIR_FCR), 0x00);
	CHECK(!vuart_irq(&u));
	/* Out of loopback: the connected line's inputs differ, so MSR deltas; OUT2 now reaches the PIC */
	vuart_write(&u, UART_MCR, 0x08);
	CHECK_EQ(vuart_read(&u, UART_IIR_FCR), 0x00);
	CHECK(vuart_irq(&u));
	CHECK(vuart_read(&u, UART_MSR) & 0x0f);
	CHECK(!vuart_irq(&u));
	/* Receive and THRE conditions in loopback are identified but gated too */
	vuart_write(&u, UART_IER_DLM, 0x03);
	vuart_write(&u, UART_MCR, 0x18);
	vuart_write(&u, UART_RBR_THR_DLL, 'L');
	CHECK_EQ(vuart_read(&u, UART_IIR_FCR), 0x04);
	CHECK(!vuart_irq(&u));
}

/* serial8250_do_startup(): the "THRE test" and the UART_BUG_TXEN test, then transmission by interrupt */
static void test_linux_thre_test_and_tx_irq(void)
{
	struct tx_log log = { 0 };
	struct vuart u;
	uint8_t iir1, iir, lsr;

	vuart_init(&u, tx_record, &log);
	/* Clear the FIFOs and pending conditions as startup does */
	vuart_write(&u, UART_IIR_FCR, 0x01);
	vuart_write(&u, UART_IIR_FCR, 0x07);
	vuart_write(&u, UART_IIR_FCR, 0x00);
	vuart_read(&u, UART_LSR);
	vuart_read(&u, UART_RBR_THR_DLL);
	vuart_read(&u, UART_IIR_FCR);
	vuart_read(&u, UART_MSR);
	CHECK(vuart_read(&u, UART_LSR) != 0xff);
	vuart_write(&u, UART_LCR, 0x03);
	/* The THRE test, with the IRQ line gated (OUT2 still off) */
	CHECK(vuart_read(&u, UART_LSR) & 0x20);
	vuart_write(&u, UART_IER_DLM, 0x02);
	iir1 = vuart_read(&u, UART_IIR_FCR);
	vuart_write(&u, UART_IER_DLM, 0x00);
	vuart_write(&u, UART_IER_DLM, 0x02);
	iir = vuart_read(&u, UART_IIR_FCR);
	vuart_write(&u, UART_IER_DLM, 0x00);
	CHECK_EQ(iir1 & 0x01, 0);
	CHECK_EQ(iir & 0x01, 0);
	CHECK(!((!(iir1 & 0x01)) && (iir & 0x01))); /* no UART_BUG_THRE */
	CHECK(!vuart_irq(&u));
	/* set_mctrl with OUT2, then the quick TX-enable test */
	vuart_write(&u, UART_MCR, 0x0b);
	CHECK(!vuart_irq(&u));
	vuart_write(&u, UART_IER_DLM, 0x02);
	CHECK(vuart_irq(&u));
	lsr = vuart_read(&u, UART_LSR);
	iir = vuart_read(&u, UART_IIR_FCR);
	vuart_write(&u, UART_IER_DLM, 0x00);
	CHECK(!((lsr & 0x40) && (iir & 0x01))); /* no UART_BUG_TXEN */
	CHECK(!vuart_irq(&u));
	/* Interrupts on: FIFOs, receive and line status */
	vuart_write(&u, UART_IIR_FCR, 0xc7);
	vuart_write(&u, UART_IER_DLM, 0x05);
	CHECK(!vuart_irq(&u));
	/* start_tx: THRI on raises the line; the handler reads IIR, fills THR, stops when done */
	vuart_write(&u, UART_IER_DLM, 0x07);
	for (const char *c = "boot"; *c; c++) {
		CHECK(vuart_irq(&u));
		CHECK_EQ(vuart_read(&u, UART_IIR_FCR), 0xc2);
		CHECK(!vuart_irq(&u));
		vuart_write(&u, UART_RBR_THR_DLL, (uint8_t)*c);
	}
	CHECK(vuart_irq(&u));
	CHECK_EQ(vuart_read(&u, UART_IIR_FCR), 0xc2);
	vuart_write(&u, UART_IER_DLM, 0x05); /* __stop_tx */
	CHECK(!vuart_irq(&u));
	vuart_tx_flush(&u);
	CHECK_EQ(log.count, 4);
	CHECK(memcmp(log.bytes, "boot", 4) == 0);
	/* Input raises the line; reading the byte lowers it */
	vuart_receive(&u, 'y');
	CHECK(vuart_irq(&u));
	CHECK_EQ(vuart_read(&u, UART_IIR_FCR), 0xcc);
	CHECK_EQ(vuart_read(&u, UART_RBR_THR_DLL), 'y');
	CHECK(!vuart_irq(&u));
}

static void test_scratch(void)
{
	struct vuart u;

	vuart_init(&u, NULL, NULL);
	for (unsigned v = 0; v < 256; v++) {
		vuart_write(&u, UART_SCR, (uint8_t)v);
		CHECK_EQ(vuart_read(&u, UART_SCR), v);
	}
	/* LSR and MSR ignore writes */
	vuart_write(&u, UART_LSR, 0x00);
	vuart_write(&u, UART_MSR, 0x0f);
	CHECK_EQ(vuart_read(&u, UART_LSR), 0x60);
	CHECK_EQ(vuart_read(&u, UART_MSR), 0xb0);
}

static void test_fuzz(void)
{
	struct tx_log log = { 0 };
	struct vuart u;

	srand(12345);
	vuart_init(&u, tx_record, &log);
	for (int i = 0; i < 200000; i++) {
		unsigned offset = (unsigned)rand() % 10;
		uint8_t value = (uint8_t)rand();

		switch (rand() % 4) {
		case 0:
			vuart_write(&u, offset, value);
			break;
		case 1:
			vuart_receive(&u, value);
			break;
		default: {
			uint8_t r = vuart_read(&u, offset);

			if (offset == UART_IIR_FCR)
				CHECK_EQ(r & 0x30, 0);
			if (offset == UART_LSR)
				CHECK_EQ(r & 0x60, 0x60);
			if (offset == UART_IER_DLM && !(u.lcr & 0x80))
				CHECK_EQ(r & 0xf0, 0);
			break;
		}
		}
		CHECK(u.rx_count <= VUART_FIFO_SIZE);
		CHECK(u.rx_head < VUART_FIFO_SIZE);
		CHECK_EQ(!!(u.lsr & 0x01), u.rx_count != 0);
		CHECK_EQ(u.mcr & 0xe0, 0);
		/* The line is OUT2 (outside loopback) and any IER-enabled condition */
		{
			bool cond = ((u.ier & 0x01) && u.rx_count) || ((u.ier & 0x04) && (u.lsr & 0x02)) ||
				    ((u.ier & 0x02) && u.thr_interrupt) || ((u.ier & 0x08) && (u.msr & 0x0f));

			CHECK_EQ(vuart_irq(&u), (u.mcr & 0x18) == 0x08 && cond);
		}
	}
}

int main(void)
{
	RUN_TEST(test_reset_values);
	RUN_TEST(test_dlab);
	RUN_TEST(test_output);
	RUN_TEST(test_tx_queue);
	RUN_TEST(test_receive);
	RUN_TEST(test_loopback);
	RUN_TEST(test_linux_probe);
	RUN_TEST(test_not_detected_as_others);
	RUN_TEST(test_iir_priority);
	RUN_TEST(test_thre_interrupt);
	RUN_TEST(test_fifo_overflow);
	RUN_TEST(test_irq_out2);
	RUN_TEST(test_rx_trigger_and_timeout);
	RUN_TEST(test_line_status_interrupt);
	RUN_TEST(test_modem_status_interrupt_and_loopback_gate);
	RUN_TEST(test_linux_thre_test_and_tx_irq);
	RUN_TEST(test_scratch);
	RUN_TEST(test_fuzz);
	return test_any_failed;
}
