// OpenSSL's libcrypto: digests, HMAC, HKDF, ciphers, Ed25519, SM2 and random bytes, wrapped by
// RapportSupport (Crypto.swift, CipherSuite.swift, SM2.swift).
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
