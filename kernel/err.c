/* Names of Cloison's error codes, for messages. */
#include "kernel/lib.h"

const char *err_name(int err)
{
	static const char *const names[] = {
		[E_OK] = "ok",
		[E_INVAL] = "invalid",
		[E_RANGE] = "out of range",
		[E_NOMEM] = "out of memory",
		[E_EXIST] = "already present",
		[E_NOENT] = "not found",
		[E_TRUNC] = "truncated",
		[E_NOTSUP] = "not supported",
		[E_FULL] = "table full",
		[E_TIMEOUT] = "timed out",
	};
	unsigned idx = (unsigned)(err < 0 ? -err : err);

	if (idx < ARRAY_SIZE(names) && names[idx])
		return names[idx];
	return "unknown error";
}
