/* Virtual 16550A UART: the register model a guest's 8250 driver probes and drives. */
#include "drivers/virt/vuart.h"
#include "kernel/lib.h"

/* Register bits, as in the PC16550D data sheet's register descriptions. */
#define IER_RDI 0x01  /* received data available */
#define IER_THRI 0x02 /* transmitter holding register empty */
#define IER_RLSI 0x04 /* receiver line status */
#define IER_MSI 0x08  /* modem status */
#define IER_MASK 0x0f

#define IIR_NO_INT 0x01
#define IIR_MSI 0x00
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_RLSI 0x06
#define IIR_RX_TIMEOUT 0x0c
#define IIR_ID_MASK 0x0f
#define IIR_FIFO_ENABLED 0xc0

#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define FCR_CLEAR_TX 0x04
#define FCR_STORED 0xc9 /* enable, DMA mode and trigger level; bits 1-2 self-clear, 4-5 reserved */
#define FCR_TRIGGER_SHIFT 6

#define LCR_DLAB 0x80

#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define MCR_MASK 0x1f

#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

#define MSR_DCTS 0x01
#define MSR_DDSR 0x02
#define MSR_TERI 0x04
#define MSR_DDCD 0x08
#define MSR_DELTA 0x0f
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80
#define MSR_STATUS 0xf0

/* A host-side line with a terminal attached: carrier, data set ready, clear to send. */
#define MSR_LINE_CONNECTED (MSR_DCD | MSR_DSR | MSR_CTS)

#define DIVISOR_9600 12 /* 1.8432 MHz / (16 * 9600) */

static void vuart_rx_clear(struct vuart *uart)
{
	uart->rx_head = 0;
	uart->rx_count = 0;
	uart->lsr &= (uint8_t)~LSR_DR;
}

static bool vuart_rx_push(struct vuart *uart, uint8_t byte)
{
	/* On overrun the FIFO keeps its contents and the new byte is lost, PC16550D LSR bit 1 */
	if (uart->rx_count == VUART_FIFO_SIZE) {
		uart->rx_overruns++;
		uart->lsr |= LSR_OE;
		return false;
	}
	uart->rx[(uart->rx_head + uart->rx_count) % VUART_FIFO_SIZE] = byte;
	uart->rx_count++;
	uart->lsr |= LSR_DR;
	return true;
}

static uint8_t vuart_rx_pop(struct vuart *uart)
{
	uint8_t byte;

	if (uart->rx_count == 0)
		return 0;
	byte = uart->rx[uart->rx_head];
	uart->rx_head = (uart->rx_head + 1) % VUART_FIFO_SIZE;
	if (--uart->rx_count == 0)
		uart->lsr &= (uint8_t)~LSR_DR;
	return byte;
}

/* Modem status inputs: wired back to the MCR outputs in loopback, PC16550D MCR bit 4 */
static uint8_t vuart_msr_inputs(const struct vuart *uart)
{
	uint8_t in = 0;

	if (!(uart->mcr & MCR_LOOP))
		return MSR_LINE_CONNECTED;
	if (uart->mcr & MCR_DTR)
		in |= MSR_DSR;
	if (uart->mcr & MCR_RTS)
		in |= MSR_CTS;
	if (uart->mcr & MCR_OUT1)
		in |= MSR_RI;
	if (uart->mcr & MCR_OUT2)
		in |= MSR_DCD;
	return in;
}

/* Latches the delta bits for inputs that changed; TERI only on RI's trailing edge, PC16550D MSR */
static void vuart_msr_update(struct vuart *uart)
{
	uint8_t old = uart->msr & MSR_STATUS;
	uint8_t now = vuart_msr_inputs(uart);
	uint8_t changed = old ^ now;
	uint8_t delta = 0;

	if (changed & MSR_CTS)
		delta |= MSR_DCTS;
	if (changed & MSR_DSR)
		delta |= MSR_DDSR;
	if ((old & MSR_RI) && !(now & MSR_RI))
		delta |= MSR_TERI;
	if (changed & MSR_DCD)
		delta |= MSR_DDCD;
	uart->msr = (uint8_t)(now | (uart->msr & MSR_DELTA) | delta);
}

/* Receive FIFO trigger levels selected by FCR bits 7:6, PC16550D FCR */
static unsigned vuart_rx_trigger(const struct vuart *uart)
{
	static const uint8_t levels[4] = { 1, 4, 8, 14 };

	return levels[uart->fcr >> FCR_TRIGGER_SHIFT];
}

/* Received data: "available" at the trigger level; below it, with FIFOs on, a character timeout.
 * The model has no character clock, so the four-character timeout counts as already expired. */
static uint8_t vuart_rx_condition(const struct vuart *uart)
{
	if (!uart->rx_count)
		return IIR_NO_INT;
	if (!(uart->fcr & FCR_ENABLE) || uart->rx_count >= vuart_rx_trigger(uart))
		return IIR_RDI;
	return IIR_RX_TIMEOUT;
}

/* Highest-priority pending interrupt without side effects, PC16550D IIR */
static uint8_t vuart_iir(const struct vuart *uart)
{
	uint8_t iir;

	if ((uart->ier & IER_RLSI) && (uart->lsr & LSR_OE))
		iir = IIR_RLSI;
	else if ((uart->ier & IER_RDI) && uart->rx_count)
		iir = vuart_rx_condition(uart);
	else if ((uart->ier & IER_THRI) && uart->thr_interrupt)
		iir = IIR_THRI;
	else if ((uart->ier & IER_MSI) && (uart->msr & MSR_DELTA))
		iir = IIR_MSI;
	else
		iir = IIR_NO_INT;
	if (uart->fcr & FCR_ENABLE)
		iir |= IIR_FIFO_ENABLED;
	return iir;
}

static void vuart_transmit(struct vuart *uart, uint8_t byte)
{
	/* Writing THR clears the THRE interrupt, PC16550D IIR */
	uart->thr_interrupt = false;
	if (uart->mcr & MCR_LOOP) {
		/* Loopback feeds the transmitter straight into the receiver, PC16550D MCR bit 4 */
		vuart_rx_push(uart, byte);
	} else {
		uart->tx_bytes++;
		if (uart->tx_queued == VUART_TX_QUEUE)
			vuart_tx_flush(uart);
		uart->tx_queue[uart->tx_queued++] = byte;
	}
	/* Transmission is instant (the host takes the queue later), so THR is empty again and
	 * raises THRE as after a real send */
	uart->thr_interrupt = true;
}

static void vuart_write_fcr(struct vuart *uart, uint8_t value)
{
	/* The other FCR bits are programmed only together with FCR0, PC16550D FCR */
	if (!(value & FCR_ENABLE))
		value = 0;
	/* Changing FCR0 empties both FIFOs, PC16550D FCR */
	if ((value ^ uart->fcr) & FCR_ENABLE)
		value |= FCR_CLEAR_RX | FCR_CLEAR_TX;
	if (value & FCR_CLEAR_RX)
		vuart_rx_clear(uart);
	uart->fcr = value & FCR_STORED;
}

void vuart_tx_flush(struct vuart *uart)
{
	if (uart->tx_queued && uart->tx)
		uart->tx(uart->tx_ctx, uart->tx_queue, uart->tx_queued);
	uart->tx_queued = 0;
}

void vuart_init(struct vuart *uart, void (*tx)(void *ctx, const uint8_t *bytes, unsigned n),
		void *tx_ctx)
{
	memset(uart, 0, sizeof(*uart));
	uart->tx = tx;
	uart->tx_ctx = tx_ctx;
	uart->dll = DIVISOR_9600;
	uart->lsr = LSR_THRE | LSR_TEMT;
	uart->msr = vuart_msr_inputs(uart);
}

uint8_t vuart_read(struct vuart *uart, unsigned offset)
{
	uint8_t value;

	switch (offset) {
	case UART_RBR_THR_DLL:
		if (uart->lcr & LCR_DLAB)
			return uart->dll;
		return vuart_rx_pop(uart);
	case UART_IER_DLM:
		if (uart->lcr & LCR_DLAB)
			return uart->dlm;
		return uart->ier;
	case UART_IIR_FCR:
		value = vuart_iir(uart);
		/* Reading IIR while it reports THRE clears that interrupt, PC16550D IIR */
		if ((value & IIR_ID_MASK) == IIR_THRI)
			uart->thr_interrupt = false;
		return value;
	case UART_LCR:
		return uart->lcr;
	case UART_MCR:
		return uart->mcr;
	case UART_LSR:
		value = uart->lsr;
		/* Reading LSR clears the error bits, PC16550D LSR bit 1 */
		uart->lsr &= (uint8_t)~LSR_OE;
		return value;
	case UART_MSR:
		value = uart->msr;
		/* Reading MSR clears the delta bits, PC16550D MSR */
		uart->msr &= (uint8_t)~MSR_DELTA;
		return value;
	case UART_SCR:
		return uart->scr;
	default:
		/* Nothing decodes there: an open ISA bus reads all ones */
		return 0xff;
	}
}

void vuart_write(struct vuart *uart, unsigned offset, uint8_t value)
{
	uint8_t changed;

	switch (offset) {
	case UART_RBR_THR_DLL:
		if (uart->lcr & LCR_DLAB)
			uart->dll = value;
		else
			vuart_transmit(uart, value);
		break;
	case UART_IER_DLM:
		if (uart->lcr & LCR_DLAB) {
			uart->dlm = value;
			break;
		}
		changed = (uint8_t)((uart->ier ^ value) & IER_MASK);
		uart->ier = value & IER_MASK;
		/* Enabling THRI while THR is empty raises THRE at once, PC16550D IIR */
		if (changed & IER_THRI)
			uart->thr_interrupt = (uart->ier & IER_THRI) && (uart->lsr & LSR_THRE);
		break;
	case UART_IIR_FCR:
		vuart_write_fcr(uart, value);
		break;
	case UART_LCR:
		uart->lcr = value;
		break;
	case UART_MCR:
		uart->mcr = value & MCR_MASK;
		vuart_msr_update(uart);
		break;
	case UART_SCR:
		uart->scr = value;
		break;
	default:
		/* LSR and MSR are read-only here; nothing decodes beyond offset 7 */
		break;
	}
}

bool vuart_receive(struct vuart *uart, uint8_t byte)
{
	return vuart_rx_push(uart, byte);
}

bool vuart_irq(const struct vuart *uart)
{
	/* A PC gates INTR onto the ISA IRQ line with the OUT2 pin, which loopback holds inactive, PC16550D MCR bit 4 */
	if (!(uart->mcr & MCR_OUT2) || (uart->mcr & MCR_LOOP))
		return false;
	return !(vuart_iir(uart) & IIR_NO_INT);
}
