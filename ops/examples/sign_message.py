#!/usr/bin/env python3
"""Sign a message for Rapport's rapport.inbound, as an upstream in any language would.

The canonical form (README, "Signed messages") is ten lines joined by "\\n", no trailing newline:
rapport-sig-v1, ed25519, key id, source (the broker user_id), exchange, routing key, message id,
signed-at in milliseconds, content type, and the SHA-256 of the body in lowercase hex. The signature
is Ed25519 over those bytes, sent as `x-rapport-signature: ed25519:<base64>` with `x-rapport-key-id`
and `x-rapport-signed-at` headers.

    python3 ops/examples/sign_message.py --key-hex SEED --key-id site-a-2026 --source site-a \\
        --routing-key inbound.webform.site-a --message-id m-1 --body '{"name": "张伟", "phone": "13800138000"}'

Needs the `cryptography` package (Debian: python3-cryptography). Prints the three headers as JSON; with
--signed-at the output is reproducible (Ed25519 signatures are deterministic).
"""
import argparse
import base64
import hashlib
import json
import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def canonical(key_id, source, exchange, routing_key, message_id, signed_at_ms, content_type, body):
    lines = ["rapport-sig-v1", "ed25519", key_id, source, exchange, routing_key, message_id,
             str(signed_at_ms), content_type, hashlib.sha256(body).hexdigest()]
    if any("\n" in line or "\r" in line for line in lines):
        raise ValueError("no field of a signed message may hold a line break")
    return "\n".join(lines).encode("utf-8")


def sign(seed, key_id, source, exchange, routing_key, message_id, signed_at_ms, content_type, body):
    key = Ed25519PrivateKey.from_private_bytes(seed)
    data = canonical(key_id, source, exchange, routing_key, message_id, signed_at_ms, content_type, body)
    return {
        "x-rapport-signature": "ed25519:" + base64.b64encode(key.sign(data)).decode("ascii"),
        "x-rapport-key-id": key_id,
        "x-rapport-signed-at": signed_at_ms,
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--key-hex", required=True, help="the 32-byte Ed25519 private key (seed) in hex")
    p.add_argument("--key-id", required=True)
    p.add_argument("--source", required=True, help="the broker user_id the message is published as")
    p.add_argument("--exchange", default="rapport.inbound")
    p.add_argument("--routing-key", required=True)
    p.add_argument("--message-id", required=True)
    p.add_argument("--content-type", default="application/json")
    p.add_argument("--signed-at", type=int, default=None, help="milliseconds since 1970 (default: now)")
    p.add_argument("--body", required=True, help="the exact body bytes, as UTF-8 text")
    a = p.parse_args()
    signed_at = a.signed_at if a.signed_at is not None else int(time.time() * 1000)
    print(json.dumps(sign(bytes.fromhex(a.key_hex), a.key_id, a.source, a.exchange, a.routing_key, a.message_id,
                          signed_at, a.content_type, a.body.encode("utf-8")), ensure_ascii=False))


if __name__ == "__main__":
    main()
