/*
 * digest: SHA-256 of a file (OpenSSL's libcrypto), as the lowercase hex
 * that sha256sum(1) prints, so that manifests written with it can be
 * checked with "sha256sum -c" as well.
 */
#ifndef DIGEST_H
#define DIGEST_H

#define SHA256_HEX_LEN 64

/* 0, or -1 with errno set (an unreadable file). */
int sha256_file(const char *path, char hex[SHA256_HEX_LEN + 1]);

#endif
