#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>

#include "digest.h"

int
sha256_file(const char *path, char hex[SHA256_HEX_LEN + 1])
{
	unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx;
	FILE *fp = fopen(path, "rb");
	size_t n;
	int ok;

	if (fp == NULL)
		return -1;
	if ((ctx = EVP_MD_CTX_new()) == NULL) {
		fclose(fp);
		errno = ENOMEM;
		return -1;
	}
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	while (ok && (n = fread(buf, 1, sizeof buf, fp)) > 0)
		ok = EVP_DigestUpdate(ctx, buf, n);
	if (ferror(fp))
		ok = 0;
	else if (ok)
		ok = EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	fclose(fp);
	if (!ok) {
		if (errno == 0)
			errno = EIO;
		return -1;
	}
	for (unsigned int i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return 0;
}
