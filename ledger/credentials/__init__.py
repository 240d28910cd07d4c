"""Open Badges 3.0 credentials of the register (SPEC §10), signed and verified offline.

- `multibase`: base58btc, Ed25519 Multikeys and `did:key` identifiers.
- `loader`: the JSON-LD document loader; it serves only the contexts shipped in `contexts/`.
- `dataintegrity`: the `eddsa-rdfc-2022` cryptosuite (RDFC-1.0 via pyld, SHA-256, Ed25519).
- `keyfile`: the register's private key file (PKCS #8 PEM, mode 0600).
- `openbadge`: builds an `OpenBadgeCredential` from a professional's balance and evidence.
- `verify`: schema, context, dates, proof and the register's key at `validFrom`.

Nothing here reads the clock or the network; the ledger passes the instant in.
"""
