/* Positive control: with common/'s include path, common headers resolve. */
#include "err.h"
#include "meta.h"

int upk_layering_probe(void);
int upk_layering_probe(void)
{
	return UPK_OK;
}
