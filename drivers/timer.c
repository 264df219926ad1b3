/* TSC calibration against PIT channel 2 (the speaker gate), the way firmware-independent kernels do it. */
#include "drivers/timer.h"
#include "kernel/x86.h"

#define PIT_HZ 1193182u
#define PIT_CH2_DATA 0x42
#define PIT_COMMAND 0x43
#define PIT_GATE_PORT 0x61 /* bit 0: channel 2 gate, bit 5: channel 2 output */
#define CALIBRATION_MS 10

uint64_t tsc_per_ms;

uint64_t tsc_calibrate(void)
{
	uint16_t count = (uint16_t)(PIT_HZ / 1000 * CALIBRATION_MS);
	uint8_t gate = inb(PIT_GATE_PORT);
	uint64_t start, end;
	unsigned long spins = 0;
	bool timed_out = false;

	outb(PIT_GATE_PORT, (uint8_t)((gate & ~0x02) | 0x01)); /* gate on, speaker off */
	outb(PIT_COMMAND, 0xb0); /* channel 2, lobyte/hibyte, mode 0 (interrupt on terminal count) */
	outb(PIT_CH2_DATA, (uint8_t)count);
	outb(PIT_CH2_DATA, (uint8_t)(count >> 8));
	start = rdtsc();
	while (!(inb(PIT_GATE_PORT) & 0x20)) {
		if (++spins > 100000000ul) {
			timed_out = true; /* no PIT answering */
			break;
		}
	}
	end = rdtsc();
	outb(PIT_GATE_PORT, gate);
	tsc_per_ms = timed_out ? 1000000 : (end - start) / CALIBRATION_MS; /* else assume 1 GHz */
	if (tsc_per_ms == 0)
		tsc_per_ms = 1;
	return tsc_per_ms;
}
