/* Console and log: every line goes to the serial console and into a ring buffer the shell can show. */
#ifndef CLOISON_LOG_H
#define CLOISON_LOG_H

#include <stddef.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

enum log_level { LOG_INFO, LOG_WARN, LOG_ERR };

#define LOG_RING_SIZE 16384
#define LOG_TXQ_SIZE 8192 /* console bytes waiting for the UART */

void log_printf(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vprintf(enum log_level level, const char *fmt, va_list ap);
#define log_info(...) log_printf(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_printf(LOG_WARN, __VA_ARGS__)
#define log_err(...) log_printf(LOG_ERR, __VA_ARGS__)

/* One line of a guest's console output, shown as "[name] text" with the text made inert
 * (kernel/sanitize.h) when the guest's share of the transmit queue has room (kernel/txq_share.h),
 * kept in the log ring in any case. @pre guest_name is the guest's own, lasting string: it
 * identifies the guest's share. */
void log_guest_line(const char *guest_name, const char *text, size_t len);
#define LOG_NOTICE_MAX 512 /* the "[console] N guest lines not shown" line, cut to this */

/* Console output that is not a log line (the shell's, an attached guest's): not kept in the ring.
 * ends_at_prompt: the line now ends with the shell's prompt, which a log line may erase. */
void log_console_write(const char *s, size_t n, bool ends_at_prompt);
/* Whether a log line erased the prompt since the last call (the console then redraws it). */
bool log_take_prompt_damage(void);

/* Moves the transmit queue into a larger buffer (from the frame pool, once memory is up). */
void log_grow_queue(char *buf, uint64_t size);
/* Feeds the UART what it can take now (CPU 0's console tick calls it); returns whether
 * anything was queued. */
bool log_drain(void);
/* Sends everything queued, waiting for the line: before power-off, reset or halting a CPU. */
void log_flush(void);
void log_flush_unlocked(void);

/* Copies the ring's oldest-first contents into buf; returns the length. */
size_t log_ring_copy(char *buf, size_t size);

#endif
