/* Guest text made inert for the main console and the log ring: printable ASCII passes, every
 * other byte becomes a visible escape. Pure logic. */
#ifndef CLOISON_SANITIZE_H
#define CLOISON_SANITIZE_H

#include <stddef.h>
#include <stdint.h>

/* Longest form of one input byte: "\xHH". */
#define SANITIZE_MAX_EXPANSION 4

/* Output bytes sanitize_text writes for len input bytes. */
size_t sanitize_len(const char *text, size_t len);

/* Hands put each output byte: 0x20..0x7e pass as they are, except '\' which becomes "\\";
 * every other byte (controls, ESC, DEL, 0x80..0xff) becomes "\xHH" in lower-case hex, so no
 * byte of a guest can move the cursor, erase, or start a terminal escape sequence. */
void sanitize_text(const char *text, size_t len, void (*put)(void *ctx, char c), void *ctx);

/* sanitize_text into buf, cut at a whole escape, always terminated; returns the bytes written
 * (without the terminator). */
size_t sanitize_to_buf(const char *text, size_t len, char *buf, size_t size);

#endif
