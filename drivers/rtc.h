/* The machine's CMOS real-time clock, read once at boot for the guests' clocks. */
#ifndef CLOISON_RTC_H
#define CLOISON_RTC_H

#include <stdint.h>

/* Seconds since 1970-01-01 00:00 UTC as the CMOS clock says (it is taken to run in UTC),
 * or 0 when it cannot be read. */
uint64_t rtc_read_unix_time(void);

#endif
