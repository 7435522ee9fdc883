/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for common/key: TUF key objects as securesystemslib 0.26
 * writes them, every rejection, unsupported keys, key ids and key material
 * comparison.
 *
 * The keys, PEMs and key ids below were generated once with Debian's
 * python3-securesystemslib 0.26 / python3-cryptography 38 (generate_*_key,
 * key ids as hashlib.sha256(encode_canonical(key object))). The private
 * key in EC_PRIVATE_PEM is a throwaway made for this test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hex.h"
#include "key.h"

static const char ED_PUB[] = "299eef57c6eb8e23c032cbaf59a5f9c63190b388b0e779a7f3590c11e2e11b45";
static const char ED_KEYID[] = "ec770dd264fca85ea5e48d1d8a9667d5440716b27fefa2d1275221d424e3a122";
static const char ED_KEYID_WITH_EXTRA[] =
	"b90fce572c2ab2a19c1fd47fcfbe5918ad8690750c6cd75aecd76ad0ee576ccc";
static const char ED_KEYID_UPPER[] =
	"d3ae8b57a0b70242fdf31e500af04f322a7c7a7a144df4ed70cd8341e2a2ee79";
static const char EC_PEM[] = "-----BEGIN PUBLIC KEY-----\n"
			     "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE6V9ndG2D1kLD2u8sVBlm2/vQ4oBP\n"
			     "UmO1yuMl1ALcTeH3pVdsCU5EKfUca1IOfY1Amanrj1KZRUebulVyHBEpFA==\n"
			     "-----END PUBLIC KEY-----\n";
static const char EC_KEYID[] = "2844594351f15b34bec7ae5818ebae4bdf31350df942df67f601f424a058f28c";
static const char RSA_PEM[] = "-----BEGIN PUBLIC KEY-----\n"
			      "MIIBojANBgkqhkiG9w0BAQEFAAOCAY8AMIIBigKCAYEA7EA1peU4F2ScRDfG5XD8\n"
			      "Rr2tTagIXW0Ya4wmAIKB8nRDsUFoATTf2BZjHVwx//H86B/0xS34fA3vPsNWsAvQ\n"
			      "UjYMJQFAo+bFRd5ZImLBCLpixaxH04PSdwtOkb0I8GGBxwOl74tqaeWZvvAQJpBc\n"
			      "35BuCRiftlcWiQ4C7c3W9k2mT9vATxaaI4tUVgNGlLNPew/+TUghnhi9Hry5ePcn\n"
			      "vpOQv0UnSR0qHjs1+F2kEWddXmh/kMyQQ750XTWWqRwqbAUB4M3gLHehV7mIQQRD\n"
			      "SPj0dU5j2MYmykY5rZWaINmurwdQf5cD6bbNbASZMGhRFeCSDLVMc51/k+So8AZN\n"
			      "JG7zmO3QuNqJt1fdaOQN6sQvcVw5SmQwCRH8/vDMIgJTZinovyODKwplUxkhyyfl\n"
			      "5ewSC5ARvVyf2QBsRD5zlO2OyrnQyrkMpIJP4FS4O2DFOMyoi388Kloo5g4+jY8Y\n"
			      "A195d8Tr48qGI0G1lvc/iEyUUL9Bf2SFuy9rYzDVqtzJAgMBAAE=\n"
			      "-----END PUBLIC KEY-----";
static const char RSA_KEYID[] = "0805f4ab7c745a1ba47de78ce7bc16286dd4811f0b06ad89ea2cf81f4bc47476";
static const char RSA1024_PEM[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDIiQENm2DcomyRCP2NmSZe+9PV\n"
	"gEb0BVkIYhb79DliRRIjI/dP3TAOPNW6Z3Kc6+8sJqi2qIdBNxCoMGLk7leo/O07\n"
	"7ORUWD9zID7Qp9jqfxYCSi1HokDePJOQ3ybWOWM45fn1r7iIf30NzEzpG6Meql0n\n"
	"bt1kzBFqzwVEBnWiWwIDAQAB\n"
	"-----END PUBLIC KEY-----\n";
static const char RSA512_PEM[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAKLAUCkyn/AY7JKmZZpDOczJstKP2wW5\n"
	"Ap3dOn+b80/pLqxeVq/V4/QTjeN66Eb/esI++BRFBqgoosEoieOQKsMCAwEAAQ==\n"
	"-----END PUBLIC KEY-----\n";
static const char RSA_HUGE_PEM[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MIIIIzANBgkqhkiG9w0BAQEFAAOCCBAAMIIICwKCCAIA/TnGOf+LDZzgJc7SlfOs\n"
	"yvZonMnl1moRnsiPySvU6c8RzhKj8s/e3WXhF3kGuBm/bPI6IGiOu8TnBwLZUz3Y\n"
	"dR29IFNlahifm+DDwCC+A7uV47OmiIh0DA+SG/dYKBy5IaNAb0ttLetMyqm0Tey3\n"
	"/SMZQeWaQthu/PnhYTBLiTlk7bgtEgkjE0QQeQefFc70xaGPM8cXfWt332+rQvRd\n"
	"V7i42b2F/5HAjXiaVReB3BVZOcTEwuuTCRSSZ/ps7OOUxuyot2PSVQnPTYvsYbKv\n"
	"fMSzqfwBRdMzydlkIc0cgDznXclZnYNw2pXN7pYVhYG5l5i3/wmyzHB9HSujb7u0\n"
	"SJQ39d9aUoEJP9I4mzBGaqcGZt5GTBSAFVIkCBxcFxeJqfFwJS1XRPE5n6I52Meu\n"
	"vQJZUSXG/3TYYvaZbgQXiDBL6GnGhEjVCeNCu/+oJsQcFYoUVXWBd7UDE0XhDymw\n"
	"Oq0Hlw6UlLjOdWOciqqE62p+RzL6aDFgsb91WdvZ2CSrwxaGt6VNzneAV7vvxMJ/\n"
	"G3n71Lyt6Uv98uj6Ilo9ZgVNBatzwSD6Lu7MuzgD8LUCcKTqhtK0i1mtGJshfbAy\n"
	"nmJUYT6MgPUao762Lz2MjUj7ue8Ed7MImiUMa6IMPyoK46r+pCT6EZb8Fg3nxsFR\n"
	"yRVtNDH2axTh5xH4yqzkVrtNQgF9mIWysM1FB8jaHtK7UVIo4CLyDCox89DNYZvB\n"
	"EyUAiEhFwcoWkh9oIIlOlzy6hbGE+hy3w9Z91MF9fSFUHmr/U7s/dt+NB4ulVw3J\n"
	"LGE8zjwxr+DxlJjxhs2GCsOAPXiHTGgmavYu1YVa8J0dNYE9+j2M6HY7FiG2q5tI\n"
	"QkeSJaoaZfdbIVFxCquA0TbimvlLDYGQaiw5s9YBMLGUlfQv+dNKpit9W6ZBniMu\n"
	"48RQ/G/fqG7G9T8VhUq+z/RkH6GInan09J0oHlXnFjoc1zrwZKI9DetcRVokZD30\n"
	"jTgqtKFHJi9rOG3ABQ3+3+qKNSgeqNPTu/a/1zSH8JWLDr+gOh0wQjPMayYZuNdJ\n"
	"aL4j8LxILaF4+XEX5SJQAgX1H7U//0mWJt+//l3H5rDryBQyFJxXiedK6mInFvcP\n"
	"Rt/HeOMPCKJAHG6Rhc64NzSTbjCF0pfosEthLizIyUjZDMakuSMSAvzfyT2zioHj\n"
	"O0wbNpe+zoRN6RLMXXBK3MxxJF/z9+t92tF9C76C4X1DSd5LDkakrsMIjEjR0EF8\n"
	"mWWkM2kwF2CMxi5Q0fKU73k3Z7r/FQ4uIAs5KapLpFjAKmJQ7WBqAwjTIjJ5UBC5\n"
	"Ozb46CFuZ1qoPqrpCup200a8vbjbUDdz89piaiPTKOA/+zmWJn8vY1MuRYvztg4R\n"
	"f3qw+50/zmDUym/2SSRZf3dWzCaOfQ5s31Jz6OWupaSZypcL0c52xO8fo8d/oz1N\n"
	"egLXneCh9jcdw9857PERFZbziJKnihH850mA5LHZRqyLkjWtt2papwhFWIYhRc9O\n"
	"sgcniLvvGnwP3kSXGP7AgVQSre4u1OfTD+S7feDtjcZx5TilbmQD/pwg76SA72Hu\n"
	"1b15EULm5LNwQfBcZvViu2MFCOHN0VvM2bhgvq6apraJ1b0zFy63oM6PKi3iTS48\n"
	"oXHFTvZnkMGZ8MzNQvGcJaiTisByz15l6LLvX89W5g0f1zGhUUf5RwtaQJWB1KF6\n"
	"8Jjy/mJF44rIYgiOI5muin5moREaGiATg72PA5JY2YIooufiVTT83dBXWdgIB4S3\n"
	"ktDsK7Cn9tdBK6MUqn9VKRDKD7SsaU4dNNtdyHmsHYu7RqB3CR/uUv8EvmcwOssX\n"
	"XwWVLzHOU/p28Rr1PuneVnXGMnucHMd4fsa1aZAzi8D3u54yuV8UMCj6jATgMWO1\n"
	"CyvTEzJBLmEQGG9NabqzLqOZvDIItDzpflEyqdlLZggRXlUujTrmf0ZmiNyGFlzl\n"
	"1X+d8bF0jJbDzXq/folYJC2Qxzygza+4mxI46fRrJTdOt4smb1Tgz1RJnbk0ngzh\n"
	"iV5qdF9uhXw9PVcllV2vSAKFjWQioVsW9VlkGXBFfmsUWc9tSMMcYpyVshcfGXso\n"
	"t1KCIJFd7PlvYSrFg7ysR+JITEgZDNZzzRbEjmHRbJuYORMrzyANm3Q00LRr4Tdb\n"
	"DJK5jlVGsjUt4699rZyvzODnoiGHcio38C2oWGGwUUQu6O/is4u9hou9rLo2Ocyt\n"
	"OuWh1WSP3JUYMG2+dFft3xIT/8TvwBPu1RAS9CPnyY5O3AjBugxFo8WcmMbeFkUQ\n"
	"FHXlPim88CHbbEyhwkySrpodEZGD8AA3TCQsOUvxbZn71N/jsG3rwbi55ErwTIB8\n"
	"uXxtmCFCHq8Kr1iPO+p4Xy1c96CC8BtSB1zxlQSJXP1rLByW4kZoBEeVR4zWA9b2\n"
	"F0p5FlupP6wA1Dn8uJ321RBvdeQzYh49ZEm+TCArU3GA3Ozfsibq1dGXJKuSRiVU\n"
	"/eI3BLWeTgS40wqRG2njb7gtDs+Vqq86sgfJo5HMWFP3JBFzLIb6cLFGdI8s8UiU\n"
	"nzba9qe+YTCI5WVjGdmOcVb8ZpPA/gi91O5UkIgk4yduHb80mjmo9sYeJS4NPXI5\n"
	"hrlM4gRkSAwsQnUKVWgQ2H7ESONYRdoXtVPDPV4xosl4mUFFOGoBXSOIDU/6RcmQ\n"
	"NbyNv1KZPrWS+wU6DeMiQz/JVl7bTSl//1OwxQQVlI2ZZ03VucsikQoi42WimK9b\n"
	"cp/rXmPbCNxjDP6XC7mjCt6HAgMBAAE=\n"
	"-----END PUBLIC KEY-----\n";
static const char RSA_PSS_OID_PEM[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MIGdMAsGCSqGSIb3DQEBCgOBjQAwgYkCgYEAwPs96jy3YexB+iEyn7H4HMpe0yaG\n"
	"c72YneNh7IcXuYXOUOB8bTFoqdi0RLkoJGdGIgzU4GtHwBexhAg4qYldhHPDr+gP\n"
	"L+bKZzumLnUiACxt03M0K7W8Ilvc0uwIFvtO85CATruuRsP5xgnlkIYD6wSwWu+d\n"
	"anlr0zhBJ41lEZECAwEAAQ==\n"
	"-----END PUBLIC KEY-----\n";
static const char P384_PEM[] = "-----BEGIN PUBLIC KEY-----\n"
			       "MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEbJR75X0Aq6naiAWb3/BhqtMIIWnAxd1o\n"
			       "ku8OIpleZ7EXecURzta3oYWbAh5awnXE5zDa9FLmp9AmCpLOxV41acpPnQ704GIt\n"
			       "UYBoSUxbJ+MqgHCIi704a5tcUzdvntcO\n"
			       "-----END PUBLIC KEY-----\n";
static const char ED25519_SPKI_PEM[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MCowBQYDK2VwAyEA6Bswbic5gBf+ch2BOF2jUBpJzapLJJUk3dirQpOn0kE=\n"
	"-----END PUBLIC KEY-----\n";
static const char EC_PRIVATE_PEM[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgkzBTRx4P7D1XmVzH\n"
	"2ROYWRNTnuJeeG7w9zlSz0NlqpChRANCAAQ0qPxsQHlibuluwc78sgkPXGflOSo9\n"
	"gfV02EbAWwjApCFK3vCQqyfvUO6kGZKh9XZ6m8jVRqqIzObsNks+cjIu\n"
	"-----END PRIVATE KEY-----\n";
static const char EC_OFFCURVE_PEM[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEATssYSeDC8HX2/6LyJmQFbq4fMEK\n"
	"YgK+ihh0ier6JdYqamzV+GOtIdORKk4l3Dg5PIh2EGAtga48lrSEIdt+TQ==\n"
	"-----END PUBLIC KEY-----\n";
static const char EC_EXPLICIT_PEM[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MIIBSzCCAQMGByqGSM49AgEwgfcCAQEwLAYHKoZIzj0BAQIhAP////8AAAABAAAA\n"
	"AAAAAAAAAAAA////////////////MFsEIP////8AAAABAAAAAAAAAAAAAAAA////\n"
	"///////////8BCBaxjXYqjqT57PrvVV2mIa8ZR0GsMxTsPY7zjw+J9JgSwMVAMSd\n"
	"NgiG5wSTamZ44ROdJreBn36QBEEEaxfR8uEsQkf4vOblY6RA8ncDfYEt6zOg9KE5\n"
	"RdiYwpZP40Li/hp/m47n60p8D54WK84zV2sxXs7LtkBoN79R9QIhAP////8AAAAA\n"
	"//////////+85vqtpxeehPO5ysL8YyVRAgEBA0IABA970WMYT4L0OtLg9drXo8pl\n"
	"770PAa2mL6zg+RhK0/PxylhDYbGY28nw2uVbPnuK8qJ7fz7p4EOfcVwJM8QcjVs=\n"
	"-----END PUBLIC KEY-----\n";

static json_t *key_obj(const char *keytype, const char *scheme, const char *pub)
{
	json_t *o = json_pack("{s:s, s:s, s:{s:s}}", "keytype", keytype, "scheme", scheme, "keyval",
			      "public", pub);

	assert_non_null(o);
	return o;
}

/* Parse a key that must parse; the key owns a second reference to obj. */
static void parse_ok(json_t *obj, struct upk_key *k)
{
	struct upk_diag d = { 0 };
	size_t refs = obj->refcount;

	assert_int_equal(upk_key_parse(obj, k, &d), UPK_OK);
	assert_ptr_equal(k->obj, obj);
	assert_int_equal(obj->refcount, refs + 1);
	assert_string_equal(k->keyid, "");
}

/*
 * Parse a key that must fail with UPK_E_FORMAT, naming `where` in the
 * diagnostic; the output is zeroed and obj keeps its reference count.
 * Consumes obj.
 */
static void expect_format(json_t *obj, const char *where)
{
	struct upk_key k;
	struct upk_key zero;
	struct upk_diag d = { 0 };
	size_t refs = obj ? obj->refcount : 0;

	memset(&k, 0xaa, sizeof(k));
	memset(&zero, 0, sizeof(zero));
	assert_int_equal(upk_key_parse(obj, &k, &d), UPK_E_FORMAT);
	assert_int_equal(d.err, UPK_E_FORMAT);
	assert_memory_equal(&k, &zero, sizeof(k));
	assert_string_equal(d.where, where);
	assert_true(strlen(d.reason) > 0);
	if (obj) {
		assert_int_equal(obj->refcount, refs);
		json_decref(obj);
	}
	upk_key_done(&k); /* a zeroed key is safe to release */
}

static void test_ed25519_parses(void **state)
{
	struct upk_key k;
	uint8_t pub[32];
	size_t n = 0;
	json_t *obj = key_obj("ed25519", "ed25519", ED_PUB);

	(void)state;
	parse_ok(obj, &k);
	assert_int_equal(k.type, UPK_KEYTYPE_ED25519);
	assert_int_equal(k.scheme, UPK_SCHEME_ED25519);
	assert_true(k.supported);
	assert_null(k.pkey);
	assert_int_equal(upk_hex_decode(ED_PUB, 64, pub, sizeof(pub), &n), UPK_OK);
	assert_memory_equal(k.ed25519, pub, sizeof(pub));
	upk_key_done(&k);
	assert_null(k.obj);
	upk_key_done(&k); /* twice is harmless */
	assert_int_equal(obj->refcount, 1);
	json_decref(obj);
}

/*
 * securesystemslib 0.26 decodes keyval.public with binascii.unhexlify, which
 * takes upper-case digits (checked when the vectors were made: a signature
 * verifies under the upper-cased key). Upkeep accepts them too, so a root
 * python-tuf accepts is not refused; the key id differs, the material not.
 */
static void test_ed25519_upper_case_hex(void **state)
{
	char upper[65];
	struct upk_key lower_k, upper_k;
	json_t *lo = key_obj("ed25519", "ed25519", ED_PUB);
	json_t *up;
	char id[UPK_KEYID_HEX_LEN + 1];

	(void)state;
	for (size_t i = 0; i < 64; i++)
		upper[i] =
			(ED_PUB[i] >= 'a' && ED_PUB[i] <= 'f') ? (char)(ED_PUB[i] - 32) : ED_PUB[i];
	upper[64] = 0;
	assert_string_not_equal(upper, ED_PUB);
	up = key_obj("ed25519", "ed25519", upper);
	parse_ok(lo, &lower_k);
	parse_ok(up, &upper_k);
	assert_true(upk_key_same_material(&lower_k, &upper_k));
	assert_int_equal(upk_key_id(up, id, NULL), UPK_OK);
	assert_string_equal(id, ED_KEYID_UPPER);
	assert_int_equal(upk_key_id(lo, id, NULL), UPK_OK);
	assert_string_equal(id, ED_KEYID);
	upk_key_done(&lower_k);
	upk_key_done(&upper_k);
	json_decref(lo);
	json_decref(up);
}

static void test_ed25519_rejections(void **state)
{
	char buf[80];

	(void)state;
	/* odd length, short, long, empty */
	expect_format(key_obj("ed25519", "ed25519",
			      "bf54191d98c1ef5f9e939a4b639fcc65a0565c696a8a7f296082919aee88e6f"),
		      "keyval.public");
	expect_format(key_obj("ed25519", "ed25519",
			      "bf54191d98c1ef5f9e939a4b639fcc65a0565c696a8a7f296082919aee88e6"),
		      "keyval.public");
	snprintf(buf, sizeof(buf), "%s00", ED_PUB);
	expect_format(key_obj("ed25519", "ed25519", buf), "keyval.public");
	expect_format(key_obj("ed25519", "ed25519", ""), "keyval.public");
	/* a non-hex digit at the first, a middle and the last position */
	for (size_t pos = 0; pos < 64; pos += 21) {
		memcpy(buf, ED_PUB, 65);
		buf[pos] = 'g';
		expect_format(key_obj("ed25519", "ed25519", buf), "keyval.public");
	}
	memcpy(buf, ED_PUB, 65);
	buf[63] = ' ';
	expect_format(key_obj("ed25519", "ed25519", buf), "keyval.public");
	/* "0x" prefix (64 characters but not hex) */
	memcpy(buf, ED_PUB, 65);
	buf[0] = '0';
	buf[1] = 'x';
	expect_format(key_obj("ed25519", "ed25519", buf), "keyval.public");
	/* a NUL inside the string: 64 bytes long, but not 64 hex digits */
	memcpy(buf, ED_PUB, 65);
	buf[10] = 0;
	expect_format(json_pack("{s:s, s:s, s:{s:s#}}", "keytype", "ed25519", "scheme", "ed25519",
				"keyval", "public", buf, (int)64),
		      "keyval.public");
	/* public missing, not a string */
	expect_format(
		json_pack("{s:s, s:s, s:{}}", "keytype", "ed25519", "scheme", "ed25519", "keyval"),
		"keyval.public");
	expect_format(json_pack("{s:s, s:s, s:{s:i}}", "keytype", "ed25519", "scheme", "ed25519",
				"keyval", "public", 5),
		      "keyval.public");
	expect_format(json_pack("{s:s, s:s, s:{s:n}}", "keytype", "ed25519", "scheme", "ed25519",
				"keyval", "public"),
		      "keyval.public");
}

static void test_structure_rejections(void **state)
{
	(void)state;
	/* not an object */
	expect_format(json_pack("[s]", "ed25519"), "");
	expect_format(json_string("ed25519"), "");
	expect_format(NULL, "");
	/* keyval missing or not an object: for supported and unsupported keys alike */
	expect_format(json_pack("{s:s, s:s}", "keytype", "ed25519", "scheme", "ed25519"), "keyval");
	expect_format(json_pack("{s:s, s:s, s:s}", "keytype", "ed25519", "scheme", "ed25519",
				"keyval", ED_PUB),
		      "keyval");
	expect_format(json_pack("{s:s, s:s, s:[s]}", "keytype", "ed25519", "scheme", "ed25519",
				"keyval", ED_PUB),
		      "keyval");
	expect_format(json_pack("{s:s, s:s, s:n}", "keytype", "sphincs", "scheme",
				"sphincs-shake-128s", "keyval"),
		      "keyval");
	/* keytype / scheme missing or not strings */
	expect_format(json_pack("{s:s, s:{s:s}}", "scheme", "ed25519", "keyval", "public", ED_PUB),
		      "keytype");
	expect_format(json_pack("{s:i, s:s, s:{s:s}}", "keytype", 1, "scheme", "ed25519", "keyval",
				"public", ED_PUB),
		      "keytype");
	expect_format(json_pack("{s:s, s:{s:s}}", "keytype", "ed25519", "keyval", "public", ED_PUB),
		      "scheme");
	expect_format(json_pack("{s:s, s:[], s:{s:s}}", "keytype", "ed25519", "scheme", "keyval",
				"public", ED_PUB),
		      "scheme");
}

static void test_ecdsa_parses_both_keytypes(void **state)
{
	struct upk_key a, b, r;
	json_t *oa = key_obj("ecdsa", "ecdsa-sha2-nistp256", EC_PEM);
	json_t *ob = key_obj("ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256", EC_PEM);
	json_t *orsa = key_obj("rsa", "rsassa-pss-sha256", RSA_PEM);

	(void)state;
	parse_ok(oa, &a);
	parse_ok(ob, &b);
	parse_ok(orsa, &r);
	assert_int_equal(a.type, UPK_KEYTYPE_ECDSA_P256);
	assert_int_equal(b.type, UPK_KEYTYPE_ECDSA_P256);
	assert_int_equal(a.scheme, UPK_SCHEME_ECDSA_SHA2_NISTP256);
	assert_true(a.supported && b.supported);
	assert_non_null(a.pkey);
	/* the same key under both keytype spellings: one key material */
	assert_true(upk_key_same_material(&a, &b));
	assert_false(upk_key_same_material(&a, &r));
	assert_false(upk_key_same_material(&r, &a));
	upk_key_done(&a);
	upk_key_done(&b);
	upk_key_done(&r);
	json_decref(oa);
	json_decref(ob);
	json_decref(orsa);
}

static void test_ecdsa_rejections(void **state)
{
	char big[UPK_KEY_PEM_MAX + 2];

	(void)state;
	/* P-384 under the P-256 scheme (securesystemslib would take it; Upkeep does not) */
	expect_format(key_obj("ecdsa", "ecdsa-sha2-nistp256", P384_PEM), "keyval.public");
	/* P-256 with explicit curve parameters (OpenSSL itself would call them prime256v1) */
	expect_format(key_obj("ecdsa", "ecdsa-sha2-nistp256", EC_EXPLICIT_PEM), "keyval.public");
	/* a point that is not on the curve */
	expect_format(key_obj("ecdsa", "ecdsa-sha2-nistp256", EC_OFFCURVE_PEM), "keyval.public");
	/* the point at infinity (OpenSSL decodes it; the public key check refuses it) */
	expect_format(key_obj("ecdsa", "ecdsa-sha2-nistp256",
			      "-----BEGIN PUBLIC KEY-----\n"
			      "MBkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDAgAA\n"
			      "-----END PUBLIC KEY-----\n"),
		      "keyval.public");
	/* RSA and Ed25519 keys under an ecdsa keytype */
	expect_format(key_obj("ecdsa", "ecdsa-sha2-nistp256", RSA_PEM), "keyval.public");
	expect_format(key_obj("ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256", RSA1024_PEM),
		      "keyval.public");
	expect_format(key_obj("ecdsa", "ecdsa-sha2-nistp256", ED25519_SPKI_PEM), "keyval.public");
	/* a private key is not a public key */
	expect_format(key_obj("ecdsa", "ecdsa-sha2-nistp256", EC_PRIVATE_PEM), "keyval.public");
	/* garbage, hex instead of PEM, empty */
	expect_format(key_obj("ecdsa", "ecdsa-sha2-nistp256", "not a key"), "keyval.public");
	expect_format(key_obj("ecdsa", "ecdsa-sha2-nistp256", ED_PUB), "keyval.public");
	expect_format(key_obj("ecdsa", "ecdsa-sha2-nistp256", ""), "keyval.public");
	expect_format(key_obj("ecdsa", "ecdsa-sha2-nistp256",
			      "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n"),
		      "keyval.public");
	expect_format(key_obj("ecdsa", "ecdsa-sha2-nistp256",
			      "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n"
			      "-----END PUBLIC KEY-----\n"),
		      "keyval.public");
	/* over the size limit: padded with text, which is otherwise allowed around the block */
	memset(big, ' ', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	memcpy(big, EC_PEM, strlen(EC_PEM));
	expect_format(key_obj("ecdsa", "ecdsa-sha2-nistp256", big), "keyval.public");
	/* a NUL inside the PEM string */
	expect_format(json_pack("{s:s, s:s, s:{s:s#}}", "keytype", "ecdsa", "scheme",
				"ecdsa-sha2-nistp256", "keyval", "public", EC_PEM,
				(int)strlen(EC_PEM) + 1),
		      "keyval.public");
}

/* A PEM block that says it is encrypted is refused; it must not ask for a passphrase. */
static void test_pem_encrypted_header_refused(void **state)
{
	char pem[1024];
	const char *body = strchr(EC_PEM, '\n') + 1;

	(void)state;
	snprintf(pem, sizeof(pem),
		 "-----BEGIN PUBLIC KEY-----\nProc-Type: 4,ENCRYPTED\n"
		 "DEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\n%s",
		 body);
	expect_format(key_obj("ecdsa", "ecdsa-sha2-nistp256", pem), "keyval.public");
}

/* Text around the PEM block is ignored, as python-cryptography does; the material is the same. */
static void test_pem_surrounding_text(void **state)
{
	char pem[1024];
	struct upk_key a, b;
	json_t *oa = key_obj("ecdsa", "ecdsa-sha2-nistp256", EC_PEM);
	json_t *ob;

	(void)state;
	snprintf(pem, sizeof(pem), "comment line\n%strailing text\n", EC_PEM);
	ob = key_obj("ecdsa", "ecdsa-sha2-nistp256", pem);
	parse_ok(oa, &a);
	parse_ok(ob, &b);
	assert_true(upk_key_same_material(&a, &b));
	upk_key_done(&a);
	upk_key_done(&b);
	json_decref(oa);
	json_decref(ob);
}

static void test_rsa_parses_and_rejections(void **state)
{
	struct upk_key a, b;
	json_t *oa = key_obj("rsa", "rsassa-pss-sha256", RSA_PEM);
	json_t *ob = key_obj("rsa", "rsassa-pss-sha256", RSA1024_PEM);

	(void)state;
	parse_ok(oa, &a);
	parse_ok(ob, &b);
	assert_int_equal(a.type, UPK_KEYTYPE_RSA);
	assert_int_equal(a.scheme, UPK_SCHEME_RSASSA_PSS_SHA256);
	assert_true(a.supported && b.supported);
	assert_non_null(a.pkey);
	assert_false(upk_key_same_material(&a, &b));
	assert_true(upk_key_same_material(&a, &a));
	upk_key_done(&a);
	upk_key_done(&b);
	json_decref(oa);
	json_decref(ob);

	/* below 1024 bits, above OpenSSL's 16384-bit limit */
	expect_format(key_obj("rsa", "rsassa-pss-sha256", RSA512_PEM), "keyval.public");
	expect_format(key_obj("rsa", "rsassa-pss-sha256", RSA_HUGE_PEM), "keyval.public");
	/* an RSASSA-PSS-restricted key (id-RSASSA-PSS, not rsaEncryption), 1024 bits */
	expect_format(key_obj("rsa", "rsassa-pss-sha256", RSA_PSS_OID_PEM), "keyval.public");
	/* EC and Ed25519 keys under the rsa keytype */
	expect_format(key_obj("rsa", "rsassa-pss-sha256", EC_PEM), "keyval.public");
	expect_format(key_obj("rsa", "rsassa-pss-sha256", ED25519_SPKI_PEM), "keyval.public");
	expect_format(key_obj("rsa", "rsassa-pss-sha256", "-----BEGIN PUBLIC KEY-----\n"),
		      "keyval.public");
}

/*
 * Keys the client cannot use still parse (the spec lets a root list them),
 * never look into keyval, and never count as the same material.
 */
static void test_unsupported_keys_parse(void **state)
{
	static const struct {
		const char *keytype, *scheme;
		enum upk_keytype type;
		enum upk_scheme sch;
	} cases[] = {
		{ "sphincs", "sphincs-shake-128s", UPK_KEYTYPE_UNKNOWN, UPK_SCHEME_UNKNOWN },
		{ "ed25519", "ed448", UPK_KEYTYPE_ED25519, UPK_SCHEME_UNKNOWN },
		{ "rsa", "rsa-pkcs1v15-sha256", UPK_KEYTYPE_RSA, UPK_SCHEME_UNKNOWN },
		{ "rsa", "rsassa-pss-sha512", UPK_KEYTYPE_RSA, UPK_SCHEME_UNKNOWN },
		{ "ecdsa", "ecdsa-sha2-nistp384", UPK_KEYTYPE_ECDSA_P256, UPK_SCHEME_UNKNOWN },
		{ "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp384", UPK_KEYTYPE_UNKNOWN,
		  UPK_SCHEME_UNKNOWN },
		/* known names, inconsistent pairs */
		{ "ed25519", "ecdsa-sha2-nistp256", UPK_KEYTYPE_ED25519,
		  UPK_SCHEME_ECDSA_SHA2_NISTP256 },
		{ "rsa", "ed25519", UPK_KEYTYPE_RSA, UPK_SCHEME_ED25519 },
		{ "ecdsa", "rsassa-pss-sha256", UPK_KEYTYPE_ECDSA_P256,
		  UPK_SCHEME_RSASSA_PSS_SHA256 },
		/* case matters */
		{ "ED25519", "ed25519", UPK_KEYTYPE_UNKNOWN, UPK_SCHEME_ED25519 },
		{ "", "", UPK_KEYTYPE_UNKNOWN, UPK_SCHEME_UNKNOWN },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct upk_key k, k2;
		/* keyval contents are not looked at: garbage, or no public at all */
		json_t *o = key_obj(cases[i].keytype, cases[i].scheme, "garbage");
		json_t *o2 = json_pack("{s:s, s:s, s:{s:i}}", "keytype", cases[i].keytype, "scheme",
				       cases[i].scheme, "keyval", "x", 1);

		parse_ok(o, &k);
		parse_ok(o2, &k2);
		assert_false(k.supported);
		assert_int_equal(k.type, cases[i].type);
		assert_int_equal(k.scheme, cases[i].sch);
		assert_null(k.pkey);
		assert_false(upk_key_same_material(&k, &k));
		assert_false(upk_key_same_material(&k, &k2));
		upk_key_done(&k);
		upk_key_done(&k2);
		json_decref(o);
		json_decref(o2);
	}
}

/* A NUL inside keytype or scheme never matches a supported name. */
static void test_names_with_nul_are_unknown(void **state)
{
	struct upk_key k;
	json_t *o = json_pack("{s:s#, s:s, s:{s:s}}", "keytype", "ed25519\0x", (int)9, "scheme",
			      "ed25519", "keyval", "public", ED_PUB);
	json_t *o2 = json_pack("{s:s, s:s#, s:{s:s}}", "keytype", "ed25519", "scheme", "ed25519\0",
			       (int)8, "keyval", "public", ED_PUB);

	(void)state;
	assert_non_null(o);
	assert_non_null(o2);
	parse_ok(o, &k);
	assert_int_equal(k.type, UPK_KEYTYPE_UNKNOWN);
	assert_false(k.supported);
	upk_key_done(&k);
	parse_ok(o2, &k);
	assert_int_equal(k.scheme, UPK_SCHEME_UNKNOWN);
	assert_false(k.supported);
	upk_key_done(&k);
	json_decref(o);
	json_decref(o2);
}

/* Key ids agree with securesystemslib's sha256(encode_canonical(key)). */
static void test_key_ids_match_securesystemslib(void **state)
{
	char id[UPK_KEYID_HEX_LEN + 1];
	json_t *ed = key_obj("ed25519", "ed25519", ED_PUB);
	json_t *ec = key_obj("ecdsa", "ecdsa-sha2-nistp256", EC_PEM);
	json_t *rsa = key_obj("rsa", "rsassa-pss-sha256", RSA_PEM);
	json_t *extra = key_obj("ed25519", "ed25519", ED_PUB);
	struct upk_key a, b;

	(void)state;
	assert_int_equal(upk_key_id(ed, id, NULL), UPK_OK);
	assert_string_equal(id, ED_KEYID);
	assert_int_equal(upk_key_id(ec, id, NULL), UPK_OK);
	assert_string_equal(id, EC_KEYID);
	assert_int_equal(upk_key_id(rsa, id, NULL), UPK_OK);
	assert_string_equal(id, RSA_KEYID);
	/* members beyond the three are part of the id (older python-tuf wrote this one) */
	assert_int_equal(json_object_set_new(extra, "keyid_hash_algorithms",
					     json_pack("[s, s]", "sha256", "sha512")),
			 0);
	assert_int_equal(upk_key_id(extra, id, NULL), UPK_OK);
	assert_string_equal(id, ED_KEYID_WITH_EXTRA);
	/* ...and the material is still the same key */
	parse_ok(ed, &a);
	parse_ok(extra, &b);
	assert_true(upk_key_same_material(&a, &b));
	upk_key_done(&a);
	upk_key_done(&b);
	json_decref(ed);
	json_decref(ec);
	json_decref(rsa);
	json_decref(extra);
}

static void test_key_id_rejections(void **state)
{
	char id[UPK_KEYID_HEX_LEN + 1] = "untouched";
	struct upk_diag d = { 0 };
	json_t *arr = json_pack("[s]", "x");
	json_t *real = json_pack("{s:s, s:s, s:{s:s}, s:f}", "keytype", "ed25519", "scheme",
				 "ed25519", "keyval", "public", ED_PUB, "x", 1.5);

	(void)state;
	assert_int_equal(upk_key_id(arr, id, &d), UPK_E_FORMAT);
	assert_int_equal(d.err, UPK_E_FORMAT);
	assert_int_equal(upk_key_id(NULL, id, NULL), UPK_E_FORMAT);
	/* canonical JSON has no reals */
	assert_int_equal(upk_key_id(real, id, &d), UPK_E_FORMAT);
	assert_string_equal(id, "untouched");
	json_decref(arr);
	json_decref(real);
}

static void test_ed25519_object(void **state)
{
	uint8_t pub[32];
	size_t n = 0;
	json_t *obj = NULL;
	struct upk_key k;
	char id[UPK_KEYID_HEX_LEN + 1];

	(void)state;
	assert_int_equal(upk_hex_decode(ED_PUB, 64, pub, sizeof(pub), &n), UPK_OK);
	assert_int_equal(upk_key_ed25519_object(pub, &obj), UPK_OK);
	assert_non_null(obj);
	assert_string_equal(json_string_value(json_object_get(obj, "keytype")), "ed25519");
	assert_string_equal(json_string_value(json_object_get(obj, "scheme")), "ed25519");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(obj, "keyval"), "public")),
		ED_PUB);
	assert_int_equal(json_object_size(obj), 3);
	assert_int_equal(upk_key_id(obj, id, NULL), UPK_OK);
	assert_string_equal(id, ED_KEYID);
	parse_ok(obj, &k);
	assert_memory_equal(k.ed25519, pub, sizeof(pub));
	upk_key_done(&k);
	json_decref(obj);
}

static void test_same_material_ed25519(void **state)
{
	struct upk_key a, b;
	char other[65];
	json_t *oa = key_obj("ed25519", "ed25519", ED_PUB);
	json_t *ob;

	(void)state;
	memcpy(other, ED_PUB, 65);
	other[63] = other[63] == '0' ? '1' : '0';
	ob = key_obj("ed25519", "ed25519", other);
	parse_ok(oa, &a);
	parse_ok(ob, &b);
	assert_false(upk_key_same_material(&a, &b));
	assert_true(upk_key_same_material(&b, &b));
	upk_key_done(&a);
	upk_key_done(&b);
	json_decref(oa);
	json_decref(ob);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(upk_keytype_name(UPK_KEYTYPE_ED25519), "ed25519");
	assert_string_equal(upk_keytype_name(UPK_KEYTYPE_ECDSA_P256), "ecdsa");
	assert_string_equal(upk_keytype_name(UPK_KEYTYPE_RSA), "rsa");
	assert_string_equal(upk_keytype_name(UPK_KEYTYPE_UNKNOWN), "unknown");
	assert_string_equal(upk_keytype_name((enum upk_keytype)99), "unknown");
	assert_string_equal(upk_scheme_name(UPK_SCHEME_ED25519), "ed25519");
	assert_string_equal(upk_scheme_name(UPK_SCHEME_ECDSA_SHA2_NISTP256), "ecdsa-sha2-nistp256");
	assert_string_equal(upk_scheme_name(UPK_SCHEME_RSASSA_PSS_SHA256), "rsassa-pss-sha256");
	assert_string_equal(upk_scheme_name(UPK_SCHEME_UNKNOWN), "unknown");
	assert_string_equal(upk_scheme_name((enum upk_scheme) - 3), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ed25519_parses),
		cmocka_unit_test(test_ed25519_upper_case_hex),
		cmocka_unit_test(test_ed25519_rejections),
		cmocka_unit_test(test_structure_rejections),
		cmocka_unit_test(test_ecdsa_parses_both_keytypes),
		cmocka_unit_test(test_ecdsa_rejections),
		cmocka_unit_test(test_pem_encrypted_header_refused),
		cmocka_unit_test(test_pem_surrounding_text),
		cmocka_unit_test(test_rsa_parses_and_rejections),
		cmocka_unit_test(test_unsupported_keys_parse),
		cmocka_unit_test(test_names_with_nul_are_unknown),
		cmocka_unit_test(test_key_ids_match_securesystemslib),
		cmocka_unit_test(test_key_id_rejections),
		cmocka_unit_test(test_ed25519_object),
		cmocka_unit_test(test_same_material_ed25519),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
