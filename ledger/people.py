"""People in an encrypted store (SPEC §9): pseudonyms, per-person data keys, and sealed texts.

The key hierarchy:

    register key (32 bytes, the operator's: STUDYLEDGER_KEY or STUDYLEDGER_KEY_FILE; never stored)
      wraps ─ the link key        HMAC key: a register id's link = HMAC(link key, id)
            ─ the register's key  AES-GCM: the register's own texts (an erasure's reason)
            ─ each person's key   AES-GCM: their name, register id and texts

A person is named in events by a pseudonym: 32 random hex digits. The key store
(storage/keystore.py) holds, per person, the pseudonym, the link, the wrapped key and the
register id sealed with the person's key. Erasing deletes that row: the texts sealed with the
key cannot be read any more, and nothing links the register id to the pseudonym.

A sealed text is stored as "<owner>.<base64 of nonce ‖ AES-GCM ciphertext>", the owner being
the pseudonym of its author (or "register"); the owner is the associated data.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import MapperDeserialisationError

from domain.base import Naming, fresh_bytes
from domain.personal import pseudonym_of_erased
from ledger.register_key import key_source, make_register_key, read_register_key
from storage.config import Store
from storage.errors import StorageFailure
from storage.keystore import Index, KeyStore

REGISTER_OWNER = "register"
ERASED = ""  # what case_variant says of an id whose person was erased
_WRAP_AAD = b"studyledger wrapped key v1"
_ID_AAD = b"studyledger register id v1"
_PRELOAD_AFTER = 64  # misses before the whole key store is read at once (a rebuild meets everyone)


# --- the people of one store --------------------------------------------------------------------

class People(Naming):
    """Pseudonyms, keys and sealed texts of one encrypted store; also how its aggregate ids name people."""

    def __init__(self, keystore: KeyStore, register_key: bytes, where: str):
        self._store = keystore
        self._register = AESGCM(register_key)
        try:
            ring = keystore.keyring()
            self._link_key = self._unwrap(ring["link"])
            keystore.expect(ring["link"])
            register_texts = self._unwrap(ring["register"])
        except InvalidTag:
            raise StorageFailure(f"The register key from {where} does not open this store's key store: "
                                 "it is another register's key, or the key file was changed.") from None
        self._keys: dict[str, AESGCM] = {REGISTER_OWNER: AESGCM(register_texts)}
        self._raw: dict[str, bytes] = {REGISTER_OWNER: register_texts}  # the same keys, for keyed hashes
        self._ids: dict[str, str] = {}        # pseudonym → register id
        self.known = self._ids                 # (read directly by the mapper's hot path)
        self._pseudonyms: dict[str, str] = {}  # register id → pseudonym
        self._gone: set[str] = set()           # pseudonyms without a key (erased, or unknown)
        self._enrolled: dict[str, str] = {}    # folded hash → register id, of people enrolled by this process
        self._misses, self._loaded = 0, False
        self._erasures = keystore.erasures()
        self._index: Index | None = None  # the whole key store, read once, while an import runs

    @staticmethod
    def create(keystore: KeyStore, register_key: bytes) -> None:
        """Make the key store of a new store: a link key and the register's text key, wrapped."""
        wrap = AESGCM(register_key)
        keystore.create({name: _wrap(wrap, AESGCM.generate_key(bit_length=256)) for name in ("link", "register")})

    # --- links and pseudonyms ---------------------------------------------------------------

    def link(self, register_id: str) -> str:
        return hmac.new(self._link_key, b"person\x00" + register_id.encode(), hashlib.sha256).hexdigest()

    def folded(self, register_id: str) -> str:
        """The keyed hash of the id in lower case: two people's may not be equal (ids differing only in case)."""
        return hmac.new(self._link_key, b"folded\x00" + register_id.lower().encode(), hashlib.sha256).hexdigest()

    def keyed_for(self, register_id: str | None, text: str) -> str:
        """A keyed hash of `text` with the key of the person with this register id (None: the register's)."""
        owner = self.pseudonym(register_id) if register_id is not None else None
        if owner is None or not self._load(owner):
            owner = REGISTER_OWNER
        return hmac.new(self._raw[owner], b"keyed\x00" + text.encode(), hashlib.sha256).hexdigest()

    def pseudonym(self, register_id: str) -> str | None:
        """The pseudonym of the person with this register id; None if there is none (or they were erased)."""
        found = self._pseudonyms.get(register_id)
        if found is None:
            link = self.link(register_id)
            row = self._index.by_link.get(link) if self._index is not None else self._store.by_link(link)
            if row is None:
                return None
            found = self._remember(*row)
        return found

    def person(self, register_id: str) -> str:
        """How aggregate ids name this person: their pseudonym; someone unknown gets a name no aggregate has."""
        return self.pseudonym(register_id) or pseudonym_of_erased(register_id) or "?" + self.link(register_id)

    def register_id(self, pseudonym: str) -> str | None:
        """The register id of a pseudonym; None if its key is gone."""
        if pseudonym not in self._ids and not self._load(pseudonym):
            return None
        return self._ids[pseudonym]

    def enrol(self, register_id: str) -> str:
        """A new person: a pseudonym and a key of their own, written with the events that register them."""
        pseudonym = uuid.uuid4().hex
        key = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(12)
        sealed_id = nonce + AESGCM(key).encrypt(nonce, register_id.encode(), _ID_AAD + pseudonym.encode())
        self._store.stage_person(pseudonym, self.link(register_id), self.folded(register_id),
                                 _wrap(self._register, key), sealed_id)
        self._keys[pseudonym], self._raw[pseudonym] = AESGCM(key), key
        self._ids[pseudonym], self._pseudonyms[register_id] = register_id, pseudonym
        self._enrolled[self.folded(register_id)] = register_id
        return pseudonym

    def erase(self, register_id: str) -> str:
        """Stage the erasure of this person's key and link, to be written with their `Erased` event."""
        pseudonym = self.pseudonym(register_id)
        assert pseudonym is not None, "only a known person is erased"
        self._store.stage_erasure(pseudonym, self.link(register_id), self.folded(register_id))
        return pseudonym

    def was_erased(self, register_id: str) -> bool:
        """Whether the person with this register id was erased."""
        if self._index is not None:
            return self.link(register_id) in self._index.erased_links
        return self._store.erased("link", self.link(register_id))

    def case_variant(self, register_id: str) -> str | None:
        """The id, differing from `register_id` only in case (or equal), of someone known; ERASED if that
        person was erased; None if there is nobody. (The exact id itself is the caller's check.)"""
        enrolled = self._enrolled.get(self.folded(register_id))
        if enrolled is not None:  # (perhaps not written yet: an import's pages go in as they fill)
            return enrolled
        folded, index = self.folded(register_id), self._index
        row = index.by_folded.get(folded) if index is not None else self._store.by_folded(folded)
        if row is not None:
            return self.register_id(self._remember(*row))
        erased = folded in index.erased_folded if index is not None else self._store.erased("folded", folded)
        return ERASED if erased else None

    @contextmanager
    def indexed(self) -> Iterator[None]:
        """Inside the block (an import) the key store is read once, whole, and asked in memory: an import of
        a register asked it three to four times a registration. Nobody else enrols or erases meanwhile: the
        import holds the write lock (on PostgreSQL from its first page; someone enrolled by another writer
        before that is enrolled again by the import, whose insert then fails on the unique link)."""
        self._index = self._store.index()
        try:
            yield
        finally:
            self._index = None

    def writing(self) -> People:
        """Around the save of a command's events (a block entered per command, so not a generator)."""
        return self

    def __enter__(self) -> None:
        return None

    def __exit__(self, failure: type[BaseException] | None, *_: Any) -> None:
        """A failed save: the key-store rows the command staged are dropped, what was learnt from them forgotten."""
        if failure is not None:
            self._store.unstage()
            self.forget()

    def refresh(self) -> None:
        """Forget every cached key if anybody was erased since they were read (a long-running worker or
        a rebuild started before an erasure must not write an erased person's id after the purge)."""
        erasures = self._store.erasures()
        if erasures != self._erasures:
            self.forget()
            self._erasures = erasures

    def forget(self) -> None:
        """Drop everything cached: the key store is read again (after an erasure, or a failed save)."""
        for cache in (self._ids, self._pseudonyms, self._enrolled):
            cache.clear()
        self._keys = {REGISTER_OWNER: self._keys[REGISTER_OWNER]}
        self._raw = {REGISTER_OWNER: self._raw[REGISTER_OWNER]}
        self._gone.clear()
        self._misses, self._loaded = 0, False

    # --- sealed texts ----------------------------------------------------------------------

    def seal(self, owner: str, text: str) -> str:
        """`text` encrypted with the key of `owner` (a pseudonym, or "register")."""
        key = self._keys.get(owner)
        if key is None:
            assert self._load(owner), f"texts are sealed with the key of a known person ({owner})"
            key = self._keys[owner]
        nonce = fresh_bytes(12)
        return f"{owner}.{base64.b64encode(nonce + key.encrypt(nonce, text.encode(), owner.encode())).decode()}"

    def open(self, token: str) -> str | None:
        """The text of a sealed token; None if its owner's key is gone."""
        owner, _, sealed = token.partition(".")
        key = self._keys.get(owner)
        if key is None:
            if not self._load(owner):
                return None
            key = self._keys[owner]
        try:
            raw = binascii.a2b_base64(sealed, strict_mode=True)
            return key.decrypt(raw[:12], raw[12:], owner.encode()).decode()
        except (InvalidTag, ValueError, binascii.Error):
            raise MapperDeserialisationError(f"a sealed text of {owner} does not decrypt") from None

    # --- the key store, read as needed ------------------------------------------------------

    def _load(self, pseudonym: str) -> bool:
        if pseudonym in self._keys and pseudonym in self._ids:
            return True
        if pseudonym in self._gone or pseudonym == REGISTER_OWNER:
            return pseudonym in self._keys
        self._misses += 1
        if self._misses > _PRELOAD_AFTER and not self._loaded:
            self._loaded = True
            for row in self._store.everyone():
                if row[0] not in self._keys:
                    self._remember(*row)
            found = pseudonym in self._keys
        else:
            row = None if self._loaded else self._store.by_pseudonym(pseudonym)
            found = row is not None and bool(self._remember(*row))
        if not found:
            self._gone.add(pseudonym)
        return found

    def _remember(self, pseudonym: str, wrapped: bytes, sealed_id: bytes) -> str:
        raw = self._unwrap(wrapped)
        key = AESGCM(raw)
        register_id = key.decrypt(sealed_id[:12], sealed_id[12:], _ID_AAD + pseudonym.encode()).decode()
        self._keys[pseudonym], self._raw[pseudonym] = key, raw
        self._ids[pseudonym], self._pseudonyms[register_id] = register_id, pseudonym
        return pseudonym

    def _unwrap(self, wrapped: bytes) -> bytes:
        return self._register.decrypt(wrapped[:12], wrapped[12:], _WRAP_AAD)

    def rotate(self, new_key: bytes) -> int:
        """Wrap every key with `new_key` instead (the old register key then opens nothing); how many people."""
        new = AESGCM(new_key)
        count = self._store.rewrap(lambda wrapped: _wrap(new, self._unwrap(wrapped)))
        self._register = new
        return count


def _wrap(wrapper: AESGCM, key: bytes) -> bytes:
    nonce = os.urandom(12)
    return nonce + wrapper.encrypt(nonce, key, _WRAP_AAD)


def open_people(keystore: KeyStore, store: Store, *, create: bool = False) -> tuple[People | None, str | None]:
    """The people of an encrypted store, and where a new register key was written (if one was).

    None for a store made before SPEC §9 (its events are plain). `create`: a new, empty store is made
    encrypted, with the operator's register key or a new one. StorageFailure if the key is missing or wrong."""
    made = None
    exists = keystore.exists()
    if not exists and not create:
        return None, None
    key = read_register_key(store)
    if not exists:
        if key is None:
            written = make_register_key(store)
            made = str(written) if written is not None else None
            key = read_register_key(store)
            assert key is not None
        People.create(keystore, key)
    where, _ = key_source(store)
    if key is None:
        raise StorageFailure(f"This store's personal data are encrypted, and its register key was not found: "
                             f"looked for {where}. Set STUDYLEDGER_KEY_FILE to the register's key file.")
    return People(keystore, key, where), made


def request_owner(people: People | None, command: Any) -> str | None:
    """Whose key seals a --request-id's first result: the person the command is about, if any."""
    if people is None:
        return None
    options = vars(command)  # (not getattr with a default: a missing option raised and was caught)
    named = [command.actor, *(options.get(f) for f in ("professional", "by", "reviewer", "id"))]
    return next((n for n in named if isinstance(n, str) and people.pseudonym(n)), None)
