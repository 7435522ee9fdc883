/* SPDX-License-Identifier: Apache-2.0 */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct err_row {
	const char *name;
	const char *msg;
	int exit_code;
	int valid;
};

static const struct err_row err_table[] = {
#define UPK_ERR_ROW_(name, num, exitc, msg) [num] = { #name, msg, exitc, 1 },
	UPK_ERR_MAP(UPK_ERR_ROW_)
#undef UPK_ERR_ROW_
};

static const struct err_row *err_row(enum upk_err err)
{
	size_t i = (size_t)err;

	if ((int)err < 0 || i >= sizeof(err_table) / sizeof(err_table[0]) || !err_table[i].valid)
		return NULL;
	return &err_table[i];
}

const char *upk_strerror(enum upk_err err)
{
	const struct err_row *r = err_row(err);

	return r ? r->msg : "unknown error";
}

const char *upk_err_name(enum upk_err err)
{
	const struct err_row *r = err_row(err);

	return r ? r->name : "UNKNOWN";
}

int upk_err_exit_code(enum upk_err err)
{
	const struct err_row *r = err_row(err);

	return r ? r->exit_code : 1;
}

/* Append src to dst (capacity size, NUL-terminated), truncating. */
static void append_trunc(char *dst, size_t size, const char *src)
{
	size_t have = strnlen(dst, size);
	size_t n = strlen(src);

	if (have + 1 >= size)
		return;
	if (n > size - 1 - have)
		n = size - 1 - have;
	memcpy(dst + have, src, n);
	dst[have + n] = 0;
}

enum upk_err upk_diag_set(struct upk_diag *diag, enum upk_err err, const char *where,
			  int64_t offset, const char *fmt, ...)
{
	va_list ap;

	if (!diag)
		return err;
	diag->err = err;
	diag->offset = offset;
	if (where) {
		diag->where[0] = 0;
		append_trunc(diag->where, sizeof(diag->where), where);
	}
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(diag->reason, sizeof(diag->reason), fmt, ap);
		va_end(ap);
	} else {
		diag->reason[0] = 0;
		append_trunc(diag->reason, sizeof(diag->reason), upk_strerror(err));
	}
	return err;
}

void upk_diag_clear(struct upk_diag *diag)
{
	if (!diag)
		return;
	memset(diag, 0, sizeof(*diag));
	diag->offset = -1;
}

void upk_diag_prefix_where(struct upk_diag *diag, const char *prefix)
{
	char tmp[sizeof(diag->where)] = "";

	if (!diag || !prefix || !*prefix)
		return;
	append_trunc(tmp, sizeof(tmp), prefix);
	if (diag->where[0]) {
		append_trunc(tmp, sizeof(tmp), ": ");
		append_trunc(tmp, sizeof(tmp), diag->where);
	}
	memcpy(diag->where, tmp, sizeof(tmp));
}

void upk_diag_format(const struct upk_diag *diag, char *buf, size_t size)
{
	const char *reason;

	if (!size)
		return;
	char at[40] = "";

	reason = diag->reason[0] ? diag->reason : upk_strerror(diag->err);
	if (diag->offset >= 0)
		snprintf(at, sizeof(at), " at byte %lld", (long long)diag->offset);
	buf[0] = 0;
	if (diag->where[0]) {
		append_trunc(buf, size, diag->where);
		append_trunc(buf, size, ": ");
	}
	append_trunc(buf, size, reason);
	append_trunc(buf, size, at);
	append_trunc(buf, size, " (");
	append_trunc(buf, size, upk_err_name(diag->err));
	append_trunc(buf, size, ")");
}
