// OpenSSL's libcrypto: digests, HMAC, Ed25519 and random bytes, wrapped by RapportSupport/Crypto.swift.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
