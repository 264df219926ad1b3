/* The management console: the shell on COM1, served by CPU 0. */
#ifndef CLOISON_CONSOLE_H
#define CLOISON_CONSOLE_H

#include <stdint.h>
#include <stdbool.h>

/* Prints the prompt and starts CPU 0's console tick. @pre on CPU 0, guests created. */
void console_start(void);
/* Reads typed bytes into the shell, streams the attached guest's output and feeds COM1;
 * returns whether anything was typed or printed (or is still queued). */
bool console_poll(void);

#endif
