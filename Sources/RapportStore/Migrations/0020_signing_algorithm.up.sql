-- A source's signing key is Ed25519 or SM2 (the 国密 suite, SM2 with SM3); public_key holds Ed25519's 32
-- raw bytes or SM2's DER SubjectPublicKeyInfo.
alter table signing_keys add column algorithm text not null default 'ed25519' check (algorithm in ('ed25519', 'sm2'));
