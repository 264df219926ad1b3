/* The management console: the shell on COM1, served by CPU 0. */
#ifndef CLOISON_CONSOLE_H
#define CLOISON_CONSOLE_H

#include <stdint.h>
#include <stdbool.h>

/* Prints the prompt and starts CPU 0's 1 ms console tick. @pre on CPU 0, guests created. */
void console_start(void);
/* Reads typed bytes into the shell and streams the attached guest's output. */
void console_poll(void);
/* TSC ticks between two looks at interrupts and console requests by each CPU, even while a
 * guest holds it. */
extern uint64_t request_poll_ticks;

#endif
