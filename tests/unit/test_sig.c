/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for common/sig: RFC 8032 Ed25519 vectors 1 and 2, signatures
 * made by securesystemslib 0.26 for each TUF scheme, and every way a
 * signature can be wrong.
 *
 * The keys and signatures below were generated once with Debian's
 * python3-securesystemslib 0.26 / python3-cryptography 38: keys by
 * generate_ed25519_key / generate_ecdsa_key / generate_rsa_key(3072),
 * signatures by keys.create_signature over MSG (each checked there with
 * SSlibKey.verify_signature). The RSA variants (maximum and zero salt, PKCS#1
 * v1.5, MGF1-SHA-1) and the 1024-bit key were made with python-cryptography
 * directly. ED_SEED is a throwaway test key. P256_* is the RFC 6979 A.2.5 key,
 * whose PEM python-cryptography wrote.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "hex.h"
#include "key.h"
#include "sig.h"

static const char MSG[] = "{\"_type\":\"root\",\"spec_version\":\"1.0.31\",\"version\":1}";

static const char ED_SEED[] = "57477156762db893f7585cf8e27e065f576674857f5d06b2f6b2ab4413d8a8b3";
static const char ED_PUB[] = "299eef57c6eb8e23c032cbaf59a5f9c63190b388b0e779a7f3590c11e2e11b45";
static const char ED_SIG[] = "012336052a9c2889612605b3ec77b9860ccb8a63396819dc64d16021429ff841c8758"
			     "6ef578bcb72b020fd75d0cef1e3b76c7973b447a796cc999e299b56c10a";
static const char EC_PEM[] = "-----BEGIN PUBLIC KEY-----\n"
			     "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE6V9ndG2D1kLD2u8sVBlm2/vQ4oBP\n"
			     "UmO1yuMl1ALcTeH3pVdsCU5EKfUca1IOfY1Amanrj1KZRUebulVyHBEpFA==\n"
			     "-----END PUBLIC KEY-----\n";
static const char EC_SIG[] =
	"3046022100eedd738880c2ca6a33dc26dd0c811ae3258d1432c2ac56c9d0bedd57f9d4ee1a022100cf8857031e"
	"bf5803f2ab67e023ca8eaeb3625fcd7b572ce24bd66195b7018acd";
static const char EC_SIG_RAW[] = "eedd738880c2ca6a33dc26dd0c811ae3258d1432c2ac56c9d0bedd57f9d4ee1ac"
				 "f8857031ebf5803f2ab67e023ca8eaeb3625fcd7b572ce24bd66195b7018acd";
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
static const char RSA_SIG[] =
	"ebe598f7b044815192f20d16302652ab8bc3cae939aea83d4888cb8b81c05c0933c0895338cc702a272298bcd2"
	"11d7758623b0aaf4eda0742b7c897148298556266a226c0556d8effe5c9531f5a39ba18eb30dec78decf15e6b4"
	"e549fca5b342ae491c927310377b9675b5cc53e0e6c18eebdade5744a173baf910a0389289853d51aa6965b64e"
	"9949b73e50e77ea3e6a26f9e81a5e1de0b832266ac5ccc720902df84f400e66eb5cec3313fb6ef24dd7e89d8e5"
	"b7d74207a6ef2cb6f413cc2b9933548031e40215f2c427273f97d646ffdb5a622030f5a810185508b698aa54d5"
	"50a1f958284daf4317d999f8fc43e06c4bacf414185e2b47004b707cd0556695dda370b1ec956754197a9cd91d"
	"1426fb0f7ef7b312e641042571fbd10780d6f860f3ecdc061fbf7c642e4af395ef198d3297181b5762a201d59b"
	"42d86e7958d12ca5d11ad0286744f4c561537f7ad896407bc627c4697fcefe3e32784c9a0c2cb3f6c275f2ba97"
	"c1d59544b8f6ed1d930513aec1f1d56af31b2a9812f56c97";
static const char RSA_SIG_MAXSALT[] =
	"d22d27b1a21b76d791fcfc1971c18bd2ba4a59a45d372f436cdfe4b4738462b50812a7132ecfd25998f0c1a7b9"
	"f5c9d3eb37dfd99fefc64e3e1962acace29dc17fc38ce4d59fd65358ff95b842d4f89604acbf53833ab4b20e77"
	"d443a27b12914cb7eb53216751bd4fb07ca9633e413a1ae0ffc995443765c5978d038c93234b6792908adb4f09"
	"ab7f0fddad3356d4ef1da444c44d76a644312c308cca863389a8a767fc07738406d911382703297c8b3f540424"
	"58579c2db7bf661a55b3cd5be71ae525c96027ffdf1d5d2c2de1f69b52a94e996494aabaa6e04e83cebd8a847b"
	"4f80ade7c355061ad89cc6a5d42b2e030725bd50e17196f9cba040326cf81d09c6e8a3b701b974b12b55e4c0e2"
	"6c6dabfd5b2d6a54fa65c348fa45c3615f50f029034fb407ffbe19ec0206606ea7da6f4c08e3a88af6bcb72be9"
	"972bfec07eb5f5e0160c4b9f41a6c6949a2ebde305431c75f4bfe92c88580dfd409778b0d7a93ca36679b2dc5a"
	"c95a243c4e68dd4824c6efd50ef820c425a389045f7bb517";
static const char RSA_SIG_ZEROSALT[] =
	"c6cfbdbb13c3a253f1433e4c6d8db5228b0edb06802e0911b88628905d8791b919db65c0311a659613296f198d"
	"0431d6eb678454b26072cd9dd50b3f71a2d94345fb5df2dc132c6a4be8c51c5dedee8a2a77808a8baf81bd2e09"
	"de5f4145926e55773ac20002613202093c32eee419cc5ed90710734fec6d47a0cfd0032b73dae04061551606d2"
	"e6a5ecbbdc934971f7e2ca6262a04c483999436a47f120c179fb7bcad9d272422afca49d03a17a0a606278c94c"
	"2002ede6bb8b14c33e2693d5650830931d82e967504b62af7d73cd0ab1a6d8021e09105bd24bbefcff63fb5dc3"
	"e13a6ed68ce5e284bd351256e9860414ca13ec9b071f5cb2ddeab0f31dab15ab45050967b4d8ca4193d9217bda"
	"a79c52f5e556bbbac1f5e9af6c57fd3500251254472b9a4d61d2df811ceb3a580778d151e97b06314ffc197840"
	"a4622f29969d2661b77b421bad47c02362106de46690ed26326a86142a2dfe7a936e33e245a6ede8081fa2f657"
	"379e7f913454afe8c41f296b7fe3baf391ad06368c23e3f4";
static const char RSA_SIG_PKCS1V15[] =
	"b25583bdd14be670f1f9dadfdb382a66adb7fbe9f55253781ec60c8374a94dbc63a929181382e7cb4206ca808b"
	"db5469aa3106a38c3c5371ea9c65396e68b866c30172c572a659aae7e07b0d647e629e171cb6bdddf0fbe93c7e"
	"733f981211beb0cc44b8ed704c25b75131be554ddbd1ee37dfdce0f783d14e73a371ec29efd091b7a592af4116"
	"69d7ac97120ea958c31130c26207fffeeab40e77b73f22bce53aabd9ee8f5c6ab1b71acfcc3dc6b285ef0d2eaa"
	"18f25caa41f47c1a409469c3660e2e8e6737b8b49a92d5dcb7c2a5d602dfb0b6b33fed0d7684f12eacaeb8432a"
	"3e1ef5d32958e6c49192dbe458f6735c7989f1ee1113f847daaae5214c35dd01bfe64596f5a43b34f482ca5c58"
	"cf9d43bb50af08ff6639a8bb7a467a4e183fc72eff9983ff28113da320ebebf142533c16066ddd79121b68e70c"
	"d917d98a9647f9d7ebaf20776a4e31ccd3f482caf41928a080d9f717f9da335256cd435ffb73c5d3af778d44aa"
	"6a3d995e1a8987bded6e9b9d1b7c7cbf80493e595bb36826";
static const char RSA_SIG_MGF1SHA1[] =
	"e3547133d37262a2482d57e374554ab59feec8a659a241e23e2295dc9009c7c73a1879936934f7a14a2a555633"
	"8dabf69cac48b4ca0d554dfc570b23a81ae159d3fe0727b164272721a6753dbe9b0af25240608db7374e15ff6f"
	"641a719093ba0390d79af7e7b8daacc402b462f854a377fa8886afc1dabd71ecb931db030c22a8114d59710c0f"
	"3fb0d39c80207d5ec837858364dba9b2957fb2507c63bbb85cec88588f4031669b5856876bc0cc41e7997db154"
	"41b51a6a0e64f57204c851c0eef05afd1c04fdfe653bc4fb52781fdf904ccbf05c9940cca564aba84d37bcf9f9"
	"0f029a35b9978970a75e89bb9e345fcd3e291f28f0f1afd4d9b3619dc9dc4ef0e2de9af75adfcad92e3dbfe1f5"
	"a2183a78795044fc3d6f1dccbe46e9e452a0ebf8f176ca840e4f895463aefc95c02e559ed4f40f7622e7f9c6f8"
	"0d5ead9cd5c4f18f15be3d47e635d75962136a5bd03afe4b2f71ab68d7b10ab13bfff774fd64b2993197073922"
	"babee7c3082e79d23da3045cbf05d346e16fb95e16d6c2c9";
static const char RSA1024_PEM[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDIiQENm2DcomyRCP2NmSZe+9PV\n"
	"gEb0BVkIYhb79DliRRIjI/dP3TAOPNW6Z3Kc6+8sJqi2qIdBNxCoMGLk7leo/O07\n"
	"7ORUWD9zID7Qp9jqfxYCSi1HokDePJOQ3ybWOWM45fn1r7iIf30NzEzpG6Meql0n\n"
	"bt1kzBFqzwVEBnWiWwIDAQAB\n"
	"-----END PUBLIC KEY-----\n";
static const char RSA1024_SIG[] =
	"c524883b4f76fe9f2d46c20afd8dfef6a9e0aec5552de2bb74896f88b28137f825333ccd47f08a56409535a075"
	"d1a60bbcbf63c958b54ba6007b47727b54c52fa32ea9ef54fd642ed45f874994fbd3d5e07c85e7ca0f90d32f75"
	"9e3c5f10cbf3b814a31ea8e396c1f80e00d1a352201394afb9dc0d341b8fed0090de67febab6";

/* RFC 8032 section 7.1, TEST 1 and TEST 2. */
static const struct {
	const char *seed, *pub, *msg, *sig;
} rfc8032[] = {
	{ "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
	  "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
	  "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
	  "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b" },
	{ "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
	  "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
	  "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
	  "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00" },
};

/*
 * RFC 6979 section A.2.5: the P-256 key (scalar, and its public key as
 * python-cryptography 38 writes it as PEM), and the deterministic
 * signature of "sample" with SHA-256 (r, s), DER-encoded here.
 */
static const char P256_SCALAR[] =
	"c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721";
static const char P256_PEM[] = "-----BEGIN PUBLIC KEY-----\n"
			       "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEYP7UuiVanTHJYet0xjVtaMBJuJI7\n"
			       "Yfps5mliLmDyn7Z5A/4QCLi8maQa6elWKLxk8vGyDC1+n1F3o8KU1EYimQ==\n"
			       "-----END PUBLIC KEY-----\n";
static const char P256_SAMPLE_SIG[] =
	"3046022100efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716022100f7cb1c942d"
	"657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8";
/* The P-256 group order n. */
static const char P256_ORDER[] = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";

#define SIG_MAX 1024

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;

	assert_int_equal(upk_hex_decode(hex, strlen(hex), out, cap, &n), UPK_OK);
	return n;
}

static void load_key(const char *keytype, const char *scheme, const char *pub, struct upk_key *ret)
{
	json_t *obj = json_pack("{s:s, s:s, s:{s:s}}", "keytype", keytype, "scheme", scheme,
				"keyval", "public", pub);

	assert_non_null(obj);
	assert_int_equal(upk_key_parse(obj, ret, NULL), UPK_OK);
	json_decref(obj); /* the key keeps its own reference */
}

static enum upk_err verify_msg(const struct upk_key *k, const uint8_t *sig, size_t len)
{
	return upk_sig_verify(k, (const uint8_t *)MSG, strlen(MSG), sig, len);
}

/* Every single-bit change at every byte of sig fails (step: every byte or a sample). */
static void assert_bit_flips_fail(const struct upk_key *k, const uint8_t *sig, size_t len,
				  size_t step)
{
	uint8_t s[SIG_MAX];

	memcpy(s, sig, len);
	for (size_t i = 0; i < len; i += step) {
		for (int bit = 0; bit < 8; bit += (step == 1 ? 1 : 3)) {
			s[i] ^= (uint8_t)(1u << bit);
			assert_int_equal(verify_msg(k, s, len), UPK_E_SIGNATURE);
			s[i] ^= (uint8_t)(1u << bit);
		}
	}
	assert_int_equal(verify_msg(k, s, len), UPK_OK);
}

/* Shorter, longer, empty, and right signature over other messages: all fail. */
static void assert_length_and_message_changes_fail(const struct upk_key *k, const uint8_t *sig,
						   size_t len)
{
	uint8_t s[SIG_MAX];
	char other[sizeof(MSG) + 1];

	memcpy(s, sig, len);
	s[len] = 0;
	assert_int_equal(verify_msg(k, s, len - 1), UPK_E_SIGNATURE);
	assert_int_equal(verify_msg(k, s, len + 1), UPK_E_SIGNATURE);
	assert_int_equal(verify_msg(k, s + 1, len - 1), UPK_E_SIGNATURE);
	assert_int_equal(verify_msg(k, s, 0), UPK_E_SIGNATURE);
	assert_int_equal(verify_msg(k, NULL, 0), UPK_E_SIGNATURE);
	assert_int_equal(verify_msg(k, NULL, len), UPK_E_SIGNATURE);

	memcpy(other, MSG, sizeof(MSG));
	other[sizeof(MSG) - 3] = '2'; /* "version":2 */
	assert_int_equal(upk_sig_verify(k, (const uint8_t *)other, strlen(other), s, len),
			 UPK_E_SIGNATURE);
	assert_int_equal(upk_sig_verify(k, (const uint8_t *)MSG, strlen(MSG) - 1, s, len),
			 UPK_E_SIGNATURE);
	memcpy(other, MSG, sizeof(MSG));
	other[sizeof(MSG) - 1] = ' ';
	assert_int_equal(upk_sig_verify(k, (const uint8_t *)other, sizeof(MSG), s, len),
			 UPK_E_SIGNATURE);
	assert_int_equal(upk_sig_verify(k, NULL, 0, s, len), UPK_E_SIGNATURE);
	assert_int_equal(verify_msg(k, s, len), UPK_OK);
}

static void test_rfc8032_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rfc8032) / sizeof(rfc8032[0]); i++) {
		uint8_t sk[UPK_ED25519_SECRET_LEN], msg[8], want[64], got[64];
		size_t mlen = unhex(rfc8032[i].msg, msg, sizeof(msg));
		struct upk_key k;

		load_key("ed25519", "ed25519", rfc8032[i].pub, &k);
		assert_int_equal(unhex(rfc8032[i].sig, want, sizeof(want)), 64);
		assert_int_equal(upk_sig_verify(&k, msg, mlen, want, 64), UPK_OK);
		/* Ed25519 is deterministic: signing gives the RFC's bytes */
		unhex(rfc8032[i].seed, sk, 32);
		unhex(rfc8032[i].pub, sk + 32, 32);
		assert_int_equal(upk_sig_sign_ed25519(sk, msg, mlen, got), UPK_OK);
		assert_memory_equal(got, want, 64);
		want[63] ^= 0x10;
		assert_int_equal(upk_sig_verify(&k, msg, mlen, want, 64), UPK_E_SIGNATURE);
		upk_key_done(&k);
	}
}

static void test_ed25519_securesystemslib(void **state)
{
	uint8_t sig[64], sk[UPK_ED25519_SECRET_LEN], mine[64];
	struct upk_key k;

	(void)state;
	load_key("ed25519", "ed25519", ED_PUB, &k);
	assert_int_equal(unhex(ED_SIG, sig, sizeof(sig)), 64);
	assert_int_equal(verify_msg(&k, sig, 64), UPK_OK);
	unhex(ED_SEED, sk, 32);
	unhex(ED_PUB, sk + 32, 32);
	assert_int_equal(upk_sig_sign_ed25519(sk, (const uint8_t *)MSG, strlen(MSG), mine), UPK_OK);
	assert_memory_equal(mine, sig, 64);
	assert_bit_flips_fail(&k, sig, 64, 1);
	assert_length_and_message_changes_fail(&k, sig, 64);
	upk_key_done(&k);
}

/*
 * The malleated twin of a valid signature (S + L, the group order) is
 * refused: libsodium requires a canonical S, so one message has one
 * signature per key.
 */
static void test_ed25519_non_canonical_s(void **state)
{
	static const uint8_t L[32] = { 0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58,
				       0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
				       0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
				       0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10 };
	uint8_t sig[64];
	unsigned carry = 0;
	struct upk_key k;

	(void)state;
	load_key("ed25519", "ed25519", ED_PUB, &k);
	unhex(ED_SIG, sig, sizeof(sig));
	for (size_t i = 0; i < 32; i++) {
		unsigned v = sig[32 + i] + L[i] + carry;

		sig[32 + i] = (uint8_t)v;
		carry = v >> 8;
	}
	assert_int_equal(carry, 0);
	assert_int_equal(verify_msg(&k, sig, 64), UPK_E_SIGNATURE);
	upk_key_done(&k);
}

static void test_ecdsa(void **state)
{
	uint8_t sig[SIG_MAX], raw[64], other[SIG_MAX];
	size_t n;
	struct upk_key k, k2;

	(void)state;
	load_key("ecdsa", "ecdsa-sha2-nistp256", EC_PEM, &k);
	load_key("ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256", EC_PEM, &k2);
	n = unhex(EC_SIG, sig, sizeof(sig));
	assert_int_equal(verify_msg(&k, sig, n), UPK_OK);
	assert_int_equal(verify_msg(&k2, sig, n), UPK_OK); /* older keytype spelling */
	assert_bit_flips_fail(&k, sig, n, 1);
	assert_length_and_message_changes_fail(&k, sig, n);

	/* the same r and s as raw r||s (the JOSE/PKCS#11 form): DER only */
	assert_int_equal(unhex(EC_SIG_RAW, raw, sizeof(raw)), 64);
	assert_int_equal(verify_msg(&k, raw, 64), UPK_E_SIGNATURE);
	/* trailing bytes after valid DER */
	memcpy(other, sig, n);
	other[n] = 0x00;
	other[n + 1] = 0x00;
	assert_int_equal(verify_msg(&k, other, n + 2), UPK_E_SIGNATURE);
	/* DER with a long-form length for the outer SEQUENCE (BER, not DER) */
	other[0] = 0x30;
	other[1] = 0x81;
	other[2] = sig[1];
	memcpy(other + 3, sig + 2, n - 2);
	assert_int_equal(verify_msg(&k, other, n + 1), UPK_E_SIGNATURE);
	/* garbage DER */
	assert_int_equal(verify_msg(&k, (const uint8_t *)"\x30\x00", 2), UPK_E_SIGNATURE);
	assert_int_equal(verify_msg(&k, (const uint8_t *)"\x30\x06\x02\x01\x00\x02\x01\x00", 8),
			 UPK_E_SIGNATURE);
	assert_int_equal(verify_msg(&k, (const uint8_t *)"\x30\x06\x02\x01\x01\x02\x01\x01", 8),
			 UPK_E_SIGNATURE);
	assert_int_equal(verify_msg(&k, (const uint8_t *)"\x30\xff", 2), UPK_E_SIGNATURE);
	assert_int_equal(verify_msg(&k, (const uint8_t *)"\x02", 1), UPK_E_SIGNATURE);
	upk_key_done(&k);
	upk_key_done(&k2);
}

static void test_rsa_pss(void **state)
{
	uint8_t sig[SIG_MAX];
	size_t n;
	struct upk_key k, k1024;

	(void)state;
	load_key("rsa", "rsassa-pss-sha256", RSA_PEM, &k);
	/* securesystemslib's salt (digest length), a maximum salt and no salt all verify */
	n = unhex(RSA_SIG, sig, sizeof(sig));
	assert_int_equal(n, 384);
	assert_int_equal(verify_msg(&k, sig, n), UPK_OK);
	assert_bit_flips_fail(&k, sig, n, 29);
	assert_length_and_message_changes_fail(&k, sig, n);
	n = unhex(RSA_SIG_MAXSALT, sig, sizeof(sig));
	assert_int_equal(verify_msg(&k, sig, n), UPK_OK);
	assert_length_and_message_changes_fail(&k, sig, n);
	n = unhex(RSA_SIG_ZEROSALT, sig, sizeof(sig));
	assert_int_equal(verify_msg(&k, sig, n), UPK_OK);

	/* other RSA schemes are not rsassa-pss-sha256 */
	n = unhex(RSA_SIG_PKCS1V15, sig, sizeof(sig));
	assert_int_equal(verify_msg(&k, sig, n), UPK_E_SIGNATURE);
	n = unhex(RSA_SIG_MGF1SHA1, sig, sizeof(sig));
	assert_int_equal(verify_msg(&k, sig, n), UPK_E_SIGNATURE);

	/* all zeros, all ones (above the modulus), a leading zero byte added */
	memset(sig, 0, 384);
	assert_int_equal(verify_msg(&k, sig, 384), UPK_E_SIGNATURE);
	memset(sig, 0xff, 384);
	assert_int_equal(verify_msg(&k, sig, 384), UPK_E_SIGNATURE);
	sig[0] = 0;
	n = unhex(RSA_SIG, sig + 1, sizeof(sig) - 1);
	assert_int_equal(verify_msg(&k, sig, n + 1), UPK_E_SIGNATURE);

	/* a 1024-bit key verifies its own signature, not the 3072-bit key's */
	load_key("rsa", "rsassa-pss-sha256", RSA1024_PEM, &k1024);
	n = unhex(RSA1024_SIG, sig, sizeof(sig));
	assert_int_equal(n, 128);
	assert_int_equal(verify_msg(&k1024, sig, n), UPK_OK);
	assert_int_equal(verify_msg(&k, sig, n), UPK_E_SIGNATURE);
	n = unhex(RSA_SIG, sig, sizeof(sig));
	assert_int_equal(verify_msg(&k1024, sig, n), UPK_E_SIGNATURE);
	upk_key_done(&k);
	upk_key_done(&k1024);
}

/* A valid signature of one scheme presented for a key of another. */
static void test_cross_scheme(void **state)
{
	uint8_t ed[64], ec[SIG_MAX], rsa[SIG_MAX];
	size_t ecn, rsan;
	struct upk_key ked, kec, krsa;

	(void)state;
	load_key("ed25519", "ed25519", ED_PUB, &ked);
	load_key("ecdsa", "ecdsa-sha2-nistp256", EC_PEM, &kec);
	load_key("rsa", "rsassa-pss-sha256", RSA_PEM, &krsa);
	unhex(ED_SIG, ed, sizeof(ed));
	ecn = unhex(EC_SIG, ec, sizeof(ec));
	rsan = unhex(RSA_SIG, rsa, sizeof(rsa));
	assert_int_equal(verify_msg(&ked, ec, ecn), UPK_E_SIGNATURE);
	assert_int_equal(verify_msg(&ked, rsa, rsan), UPK_E_SIGNATURE);
	assert_int_equal(verify_msg(&ked, ec, 64), UPK_E_SIGNATURE);
	assert_int_equal(verify_msg(&kec, ed, 64), UPK_E_SIGNATURE);
	assert_int_equal(verify_msg(&kec, rsa, rsan), UPK_E_SIGNATURE);
	assert_int_equal(verify_msg(&krsa, ed, 64), UPK_E_SIGNATURE);
	assert_int_equal(verify_msg(&krsa, ec, ecn), UPK_E_SIGNATURE);
	upk_key_done(&ked);
	upk_key_done(&kec);
	upk_key_done(&krsa);
}

/* Keys with a scheme Upkeep lacks never verify, even a signature valid under that scheme. */
static void test_unsupported_key(void **state)
{
	uint8_t sig[SIG_MAX];
	size_t n;
	struct upk_key k, zero;

	(void)state;
	load_key("rsa", "rsa-pkcs1v15-sha256", RSA_PEM, &k);
	assert_false(k.supported);
	n = unhex(RSA_SIG_PKCS1V15, sig, sizeof(sig));
	assert_int_equal(verify_msg(&k, sig, n), UPK_E_UNKNOWN_KEY);
	upk_key_done(&k);

	load_key("ed25519", "ed448", ED_PUB, &k);
	n = unhex(ED_SIG, sig, sizeof(sig));
	assert_int_equal(verify_msg(&k, sig, n), UPK_E_UNKNOWN_KEY);
	assert_int_equal(verify_msg(&k, NULL, 0), UPK_E_UNKNOWN_KEY);
	upk_key_done(&k);

	load_key("sphincs", "sphincs-shake-128s", "00", &k);
	assert_int_equal(verify_msg(&k, sig, n), UPK_E_UNKNOWN_KEY);
	upk_key_done(&k);

	memset(&zero, 0, sizeof(zero));
	assert_int_equal(verify_msg(&zero, sig, n), UPK_E_UNKNOWN_KEY);
}

static void test_sign_roundtrip(void **state)
{
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	uint8_t sig[64], sig2[64];
	char hex[65];
	struct upk_key k;

	(void)state;
	assert_int_equal(sodium_init() < 0, 0);
	assert_int_equal(crypto_sign_keypair(pk, sk), 0);
	upk_hex_encode(pk, sizeof(pk), hex);
	load_key("ed25519", "ed25519", hex, &k);
	assert_int_equal(upk_sig_sign_ed25519(sk, (const uint8_t *)MSG, strlen(MSG), sig), UPK_OK);
	assert_int_equal(verify_msg(&k, sig, 64), UPK_OK);
	/* the empty message, given as NULL */
	assert_int_equal(upk_sig_sign_ed25519(sk, NULL, 0, sig2), UPK_OK);
	assert_int_equal(upk_sig_verify(&k, NULL, 0, sig2, 64), UPK_OK);
	assert_int_equal(upk_sig_verify(&k, (const uint8_t *)"", 0, sig2, 64), UPK_OK);
	assert_int_equal(verify_msg(&k, sig2, 64), UPK_E_SIGNATURE);
	upk_key_done(&k);
	sodium_memzero(sk, sizeof(sk));
}

/* A secret key whose public half is not its seed's is refused; the output stays as it was. */
static void test_sign_mismatched_secret_key(void **state)
{
	uint8_t sk[UPK_ED25519_SECRET_LEN], sig[64], before[64];

	(void)state;
	unhex(rfc8032[0].seed, sk, 32);
	unhex(rfc8032[1].pub, sk + 32, 32);
	memset(sig, 0x77, sizeof(sig));
	memcpy(before, sig, sizeof(sig));
	assert_int_equal(upk_sig_sign_ed25519(sk, (const uint8_t *)MSG, strlen(MSG), sig),
			 UPK_E_KEYFILE);
	assert_memory_equal(sig, before, sizeof(sig));
	/* the right public half with its last bit changed */
	unhex(rfc8032[0].pub, sk + 32, 32);
	sk[63] ^= 0x80;
	assert_int_equal(upk_sig_sign_ed25519(sk, (const uint8_t *)MSG, strlen(MSG), sig),
			 UPK_E_KEYFILE);
	assert_memory_equal(sig, before, sizeof(sig));
}

/* The public key derived from a scalar is the PEM python-cryptography writes for it. */
static void test_ecdsa_public_pem(void **state)
{
	uint8_t d[UPK_ECDSA_P256_SCALAR_LEN], sig[SIG_MAX];
	struct upk_buf pem = UPK_BUF_INIT;
	struct upk_key k;
	size_t n;

	(void)state;
	unhex(P256_SCALAR, d, sizeof(d));
	assert_int_equal(upk_buf_append_str(&pem, "prefix:"), UPK_OK);
	assert_int_equal(upk_sig_ecdsa_p256_public_pem(d, &pem), UPK_OK);
	assert_string_equal((const char *)pem.data,
			    "prefix:"
			    "-----BEGIN PUBLIC KEY-----\n"
			    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEYP7UuiVanTHJYet0xjVtaMBJuJI7\n"
			    "Yfps5mliLmDyn7Z5A/4QCLi8maQa6elWKLxk8vGyDC1+n1F3o8KU1EYimQ==\n"
			    "-----END PUBLIC KEY-----\n");
	assert_int_equal(pem.len, 7 + 178);
	/* RFC 6979's own signature for this key verifies under the derived PEM */
	load_key("ecdsa", "ecdsa-sha2-nistp256", P256_PEM, &k);
	n = unhex(P256_SAMPLE_SIG, sig, sizeof(sig));
	assert_int_equal(upk_sig_verify(&k, (const uint8_t *)"sample", 6, sig, n), UPK_OK);
	assert_int_equal(upk_sig_verify(&k, (const uint8_t *)"samplf", 6, sig, n), UPK_E_SIGNATURE);
	/* upk_sig_public_pem re-encodes a parsed key the same way */
	pem.len = 0;
	assert_int_equal(upk_sig_public_pem(&k, &pem), UPK_OK);
	assert_string_equal((const char *)pem.data, P256_PEM);
	upk_key_done(&k);
	upk_buf_done(&pem);
}

/* Scalars that are not P-256 private keys: 0, n, n + 1, 2^256 - 1. Output untouched. */
static void test_ecdsa_scalar_out_of_range(void **state)
{
	uint8_t d[UPK_ECDSA_P256_SCALAR_LEN];
	struct upk_buf out = UPK_BUF_INIT;
	int i;

	(void)state;
	assert_int_equal(upk_buf_append_str(&out, "kept"), UPK_OK);
	for (int c = 0; c < 4; c++) {
		switch (c) {
		case 0:
			memset(d, 0, sizeof(d));
			break;
		case 1:
			unhex(P256_ORDER, d, sizeof(d));
			break;
		case 2:
			unhex(P256_ORDER, d, sizeof(d));
			d[31]++;
			break;
		default:
			memset(d, 0xff, sizeof(d));
			break;
		}
		assert_int_equal(upk_sig_ecdsa_p256_public_pem(d, &out), UPK_E_KEYFILE);
		assert_int_equal(
			upk_sig_sign_ecdsa_p256(d, (const uint8_t *)MSG, strlen(MSG), &out),
			UPK_E_KEYFILE);
		assert_int_equal(out.len, 4);
		assert_string_equal((const char *)out.data, "kept");
	}
	/* the extremes of the range are keys: 1 and n - 1 */
	memset(d, 0, sizeof(d));
	d[31] = 1;
	assert_int_equal(upk_sig_ecdsa_p256_public_pem(d, &out), UPK_OK);
	unhex(P256_ORDER, d, sizeof(d));
	d[31]--;
	out.len = 0;
	assert_int_equal(upk_sig_sign_ecdsa_p256(d, NULL, 0, &out), UPK_OK);
	i = out.data[0];
	assert_int_equal(i, 0x30);
	upk_buf_done(&out);
}

/*
 * Signatures made with a scalar are DER, verify under its public key (and
 * only for their message), are appended, and are randomized.
 */
static void test_ecdsa_sign(void **state)
{
	uint8_t d[UPK_ECDSA_P256_SCALAR_LEN];
	struct upk_buf a = UPK_BUF_INIT, b = UPK_BUF_INIT, e = UPK_BUF_INIT;
	struct upk_key k;

	(void)state;
	unhex(P256_SCALAR, d, sizeof(d));
	load_key("ecdsa", "ecdsa-sha2-nistp256", P256_PEM, &k);
	assert_int_equal(upk_sig_sign_ecdsa_p256(d, (const uint8_t *)MSG, strlen(MSG), &a), UPK_OK);
	assert_int_equal(upk_sig_sign_ecdsa_p256(d, (const uint8_t *)MSG, strlen(MSG), &b), UPK_OK);
	assert_true(a.len >= 8 && a.len <= 72);
	assert_int_equal(a.data[0], 0x30);
	assert_int_equal(a.data[1], a.len - 2);
	assert_false(a.len == b.len && !memcmp(a.data, b.data, a.len));
	assert_int_equal(verify_msg(&k, a.data, a.len), UPK_OK);
	assert_int_equal(verify_msg(&k, b.data, b.len), UPK_OK);
	assert_length_and_message_changes_fail(&k, a.data, a.len);
	assert_bit_flips_fail(&k, a.data, a.len, 7);
	/* appended after what the buffer held */
	assert_int_equal(upk_buf_append_str(&e, "xy"), UPK_OK);
	assert_int_equal(upk_sig_sign_ecdsa_p256(d, NULL, 0, &e), UPK_OK);
	assert_memory_equal(e.data, "xy", 2);
	assert_int_equal(upk_sig_verify(&k, NULL, 0, e.data + 2, e.len - 2), UPK_OK);
	assert_int_equal(upk_sig_verify(&k, (const uint8_t *)"", 0, e.data + 2, e.len - 2), UPK_OK);
	assert_int_equal(verify_msg(&k, e.data + 2, e.len - 2), UPK_E_SIGNATURE);
	/* another key's signature does not verify */
	d[31] ^= 1;
	b.len = 0;
	assert_int_equal(upk_sig_sign_ecdsa_p256(d, (const uint8_t *)MSG, strlen(MSG), &b), UPK_OK);
	assert_int_equal(verify_msg(&k, b.data, b.len), UPK_E_SIGNATURE);
	upk_key_done(&k);
	upk_buf_done(&a);
	upk_buf_done(&b);
	upk_buf_done(&e);
}

/* Generated scalars are distinct keys whose signatures verify under their own PEM. */
static void test_ecdsa_generate(void **state)
{
	uint8_t d1[UPK_ECDSA_P256_SCALAR_LEN], d2[UPK_ECDSA_P256_SCALAR_LEN];
	struct upk_buf pem = UPK_BUF_INIT, sig = UPK_BUF_INIT;
	struct upk_key k;

	(void)state;
	assert_int_equal(upk_sig_ecdsa_p256_generate(d1), UPK_OK);
	assert_int_equal(upk_sig_ecdsa_p256_generate(d2), UPK_OK);
	assert_memory_not_equal(d1, d2, sizeof(d1));
	assert_int_equal(upk_sig_ecdsa_p256_public_pem(d1, &pem), UPK_OK);
	assert_int_equal(pem.len, 178);
	load_key("ecdsa", "ecdsa-sha2-nistp256", (const char *)pem.data, &k);
	assert_int_equal(upk_sig_sign_ecdsa_p256(d1, (const uint8_t *)MSG, strlen(MSG), &sig),
			 UPK_OK);
	assert_int_equal(verify_msg(&k, sig.data, sig.len), UPK_OK);
	sig.len = 0;
	assert_int_equal(upk_sig_sign_ecdsa_p256(d2, (const uint8_t *)MSG, strlen(MSG), &sig),
			 UPK_OK);
	assert_int_equal(verify_msg(&k, sig.data, sig.len), UPK_E_SIGNATURE);
	upk_key_done(&k);
	upk_buf_done(&pem);
	upk_buf_done(&sig);
	sodium_memzero(d1, sizeof(d1));
	sodium_memzero(d2, sizeof(d2));
}

/* upk_sig_public_pem: RSA re-encodes to the canonical layout; keys without OpenSSL material are
 * refused. */
static void test_public_pem_other_keys(void **state)
{
	struct upk_buf pem = UPK_BUF_INIT;
	struct upk_key k;

	(void)state;
	load_key("rsa", "rsassa-pss-sha256", RSA_PEM, &k);
	assert_int_equal(upk_sig_public_pem(&k, &pem), UPK_OK);
	assert_int_equal(pem.len, strlen(RSA_PEM) + 1); /* RSA_PEM lacks the final LF */
	assert_memory_equal(pem.data, RSA_PEM, strlen(RSA_PEM));
	assert_int_equal(pem.data[pem.len - 1], '\n');
	upk_key_done(&k);
	pem.len = 0;
	load_key("ed25519", "ed25519", ED_PUB, &k);
	assert_int_equal(upk_sig_public_pem(&k, &pem), UPK_E_UNKNOWN_KEY);
	assert_int_equal(pem.len, 0);
	upk_key_done(&k);
	/* a compressed point comes back uncompressed: one layout per key */
	load_key("ecdsa", "ecdsa-sha2-nistp256",
		 "-----BEGIN PUBLIC KEY-----\n"
		 "MDkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDIgADYP7UuiVanTHJYet0xjVtaMBJuJI7\n"
		 "Yfps5mliLmDyn7Y=\n"
		 "-----END PUBLIC KEY-----\n",
		 &k);
	assert_int_equal(upk_sig_public_pem(&k, &pem), UPK_OK);
	assert_string_equal((const char *)pem.data, P256_PEM);
	upk_key_done(&k);
	load_key("ecdsa", "ecdsa-sha2-nistp384", "whatever", &k);
	pem.len = 0;
	assert_int_equal(upk_sig_public_pem(&k, &pem), UPK_E_UNKNOWN_KEY);
	assert_int_equal(pem.len, 0);
	upk_key_done(&k);
	upk_buf_done(&pem);
}

/* Pseudo-random signatures of every length up to 600 bytes never verify, never crash. */
static void test_garbage_never_verifies(void **state)
{
	uint8_t buf[600];
	uint32_t x = 0x12345678;
	struct upk_key keys[3];

	(void)state;
	load_key("ed25519", "ed25519", ED_PUB, &keys[0]);
	load_key("ecdsa", "ecdsa-sha2-nistp256", EC_PEM, &keys[1]);
	load_key("rsa", "rsassa-pss-sha256", RSA_PEM, &keys[2]);
	for (size_t len = 0; len <= sizeof(buf); len++) {
		for (size_t i = 0; i < len; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			buf[i] = (uint8_t)x;
		}
		/* half of them shaped like a DER SEQUENCE of the right length */
		if (len >= 2 && len % 2 == 0 && len < 130) {
			buf[0] = 0x30;
			buf[1] = (uint8_t)(len - 2);
		}
		for (size_t k = 0; k < 3; k++)
			assert_int_equal(verify_msg(&keys[k], buf, len), UPK_E_SIGNATURE);
	}
	for (size_t k = 0; k < 3; k++)
		upk_key_done(&keys[k]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc8032_vectors),
		cmocka_unit_test(test_ed25519_securesystemslib),
		cmocka_unit_test(test_ed25519_non_canonical_s),
		cmocka_unit_test(test_ecdsa),
		cmocka_unit_test(test_rsa_pss),
		cmocka_unit_test(test_cross_scheme),
		cmocka_unit_test(test_unsupported_key),
		cmocka_unit_test(test_sign_roundtrip),
		cmocka_unit_test(test_sign_mismatched_secret_key),
		cmocka_unit_test(test_garbage_never_verifies),
		cmocka_unit_test(test_ecdsa_public_pem),
		cmocka_unit_test(test_ecdsa_scalar_out_of_range),
		cmocka_unit_test(test_ecdsa_sign),
		cmocka_unit_test(test_ecdsa_generate),
		cmocka_unit_test(test_public_pem_other_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
