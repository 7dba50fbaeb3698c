"""Envelope encryption for everything that identifies a person or tells an incident.

This module is the one place that encrypts. It owns the key hierarchy:

- the **master key** in the key file (32 random bytes, created once, replaced only by
  ``meldbot rotate-key``). Two keys are derived from it with HKDF: one that wraps
  every other key, and one for the key check stored in the database (so a key file
  that does not belong to the database is recognised at start-up);
- two **stored sub-keys**, kept in the database wrapped by the master key: the
  blind-index key and the audit chain's key. They are not derived from the master,
  so a new master key (rotation) re-wraps them and every blind index and the audit
  chain stay valid. New databases get random sub-keys; a database from before they
  were stored gets the ones earlier versions derived from its master key, so
  nothing in it changes;
- per-owner **data keys** (one per case, one per person), wrapped by the master key,
  so that deleting a wrapped key shreds everything sealed under it;
- sealing a value with AES-256-GCM where the associated data names the table, the
  column and the row, so a ciphertext copied to another row or column will not open;
- the **blind index**: a keyed HMAC of a Telegram id, so a person can be found again
  without the id being stored in plaintext;
- the **identifier key**, derived from the master key for one purpose only: the keyed
  indexes of perpetrator details (flows/perpetrator.py), so equal identifiers match
  without being decrypted. Being derived, it changes with the master key: key rotation
  (storage/rotation.py) computes those indexes again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import shlex
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_FILE_HEADER = "meldbot-master-key v1"
_BLOB_VERSION = b"\x01"
_NONCE_BYTES = 12


class KeyFileError(Exception):
    """The key file is missing, unreadable or malformed."""


class DecryptionError(Exception):
    """A ciphertext did not authenticate: wrong key, wrong row, or tampered bytes.

    The message names only where the ciphertext was bound (table, column, row id),
    never any content.
    """


def _derive(master: bytes, purpose: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=b"meldbot",
        info=f"meldbot/v1/{purpose}".encode(),
    ).derive(master)


def _binding(table: str, column: str, row_id: str) -> bytes:
    return f"meldbot/v1|{table}|{column}|{row_id}".encode()


@dataclass(frozen=True, slots=True)
class KeyFile:
    """Where the master key lives and whether this start created it."""

    path: Path
    created: bool


def pending_key_path(path: Path) -> Path:
    """Where ``rotate-key`` writes the new master key before the database uses it."""
    return path.with_name(path.name + ".new")


def read_key_file(path: Path) -> bytes:
    """The master key in ``path``; refused when malformed or readable by anyone but its owner."""
    try:
        lines = path.read_text(encoding="ascii").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"cannot read key file {path}: {exc.__class__.__name__}") from None
    if len(lines) < 2 or lines[0].strip() != KEY_FILE_HEADER:
        raise KeyFileError(f"{path} is not a meldbot key file (first line must be '{KEY_FILE_HEADER}')")
    try:
        master = base64.b64decode(lines[1].strip(), validate=True)
    except ValueError:
        raise KeyFileError(f"{path}: the key line is not valid base64") from None
    if len(master) != 32:
        raise KeyFileError(f"{path}: the key must be 32 bytes, found {len(master)}")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise KeyFileError(
            f"the key file {path} can be read by other users (mode {mode:04o}): anyone who can read it can "
            f"read every report. Make it private to its owner, then start again: chmod 600 {shlex.quote(str(path))}"
        )
    return master


def write_key_file(path: Path, master: bytes) -> None:
    """Write a new key file (mode 0600), durably; never overwrites an existing file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: never overwrite a key that appeared between the check and now.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(f"{KEY_FILE_HEADER}\n{base64.b64encode(master).decode()}\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(path, 0o600)
    sync_folder(path.parent)


def sync_folder(folder: Path) -> None:
    """Make a file's creation or renaming in ``folder`` survive a power cut."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_or_create_key_file(path: Path, *, may_create: bool) -> tuple[bytes, KeyFile]:
    """Read the master key, or create one (mode 0600) when ``may_create`` allows it.

    Creation is refused when the caller knows a database already exists: a new key
    could never open the reports in it.
    """
    if path.exists():
        return read_key_file(path), KeyFile(path=path, created=False)
    if not may_create:
        raise KeyFileError(
            f"key file {path} does not exist, but the database already holds reports. "
            "Restore the key file from your backup; a new key could not open them."
        )
    master = os.urandom(32)
    write_key_file(path, master)
    return master, KeyFile(path=path, created=True)


def settle_rotation(key_path: Path, stored_check: bytes | None) -> str | None:
    """Finish or undo a key rotation that was interrupted; a sentence for the log, or None if none was.

    ``rotate-key`` writes the new key beside the key file first, then changes the
    database in one transaction, then renames the new key into place. So if the
    database already answers to the new key, only the rename is missing; otherwise the
    database still uses the old key and nothing was ever sealed under the new one.
    """
    pending = pending_key_path(key_path)
    if not pending.exists():
        return None
    try:
        new_master: bytes | None = read_key_file(pending)
    except KeyFileError:
        new_master = None  # cut off while being written: the database never used it
    if stored_check is not None and new_master is not None and Vault(new_master).matches(stored_check):
        os.replace(pending, key_path)
        sync_folder(key_path.parent)
        return f"finished an interrupted key rotation: {key_path} now holds the new key; back it up now"
    pending.unlink()
    sync_folder(key_path.parent)
    return f"undid an interrupted key rotation: the database still uses the key in {key_path}"


def _wrap(aead: AESGCM, raw: bytes, binding: bytes) -> bytes:
    nonce = os.urandom(_NONCE_BYTES)
    return _BLOB_VERSION + nonce + aead.encrypt(nonce, raw, binding)


def _unwrap(aead: AESGCM, wrapped: bytes, binding: bytes, what: str) -> bytes:
    if len(wrapped) < 1 + _NONCE_BYTES + 16 or wrapped[:1] != _BLOB_VERSION:
        raise DecryptionError(f"malformed {what}")
    nonce, body = wrapped[1 : 1 + _NONCE_BYTES], wrapped[1 + _NONCE_BYTES :]
    try:
        return aead.decrypt(nonce, body, binding)
    except InvalidTag:
        raise DecryptionError(f"{what} failed authentication") from None


class DataKey:
    """A 256-bit AES-GCM key that seals the fields of one case or one person."""

    __slots__ = ("_aead",)

    def __init__(self, raw: bytes) -> None:
        self._aead = AESGCM(raw)

    def seal(self, plaintext: bytes, *, table: str, column: str, row_id: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return _BLOB_VERSION + nonce + self._aead.encrypt(nonce, plaintext, _binding(table, column, row_id))

    def open(self, blob: bytes, *, table: str, column: str, row_id: str) -> bytes:
        if len(blob) < 1 + _NONCE_BYTES + 16 or blob[:1] != _BLOB_VERSION:
            raise DecryptionError(f"malformed ciphertext in {table}.{column} for row {row_id}")
        nonce, body = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, body, _binding(table, column, row_id))
        except InvalidTag:
            raise DecryptionError(f"ciphertext in {table}.{column} for row {row_id} failed authentication") from None

    def seal_text(self, text: str, *, table: str, column: str, row_id: str) -> bytes:
        return self.seal(text.encode("utf-8"), table=table, column=column, row_id=row_id)

    def open_text(self, blob: bytes, *, table: str, column: str, row_id: str) -> str:
        return self.open(blob, table=table, column=column, row_id=row_id).decode("utf-8")


SUB_KEYS = ("index_key", "audit_key")  # their names in the database's meta table


class Vault:
    """Holds the master key's wrapping and check keys and the stored sub-keys; never exposes the master key."""

    __slots__ = ("_wrapper", "_check_key", "_index_key", "_audit_key", "_identifier_key")

    def __init__(self, master: bytes, *, index_key: bytes | None = None, audit_key: bytes | None = None) -> None:
        """Without sub-keys: the ones derived from ``master``, as databases from before stored sub-keys use."""
        if len(master) != 32:
            raise ValueError("master key must be 32 bytes")
        self._wrapper = AESGCM(_derive(master, "key-wrapping"))
        self._check_key = _derive(master, "key-check")
        self._index_key = index_key if index_key is not None else _derive(master, "blind-index")
        self._audit_key = audit_key if audit_key is not None else _derive(master, "audit-chain")
        self._identifier_key = _derive(master, "perpetrator-identifier")

    @classmethod
    def generate(cls, master: bytes) -> Vault:
        """For a new database: random sub-keys, independent of the master key."""
        return cls(master, index_key=os.urandom(32), audit_key=os.urandom(32))

    @classmethod
    def from_sealed(cls, master: bytes, sealed: dict[str, bytes]) -> Vault:
        """The vault of a database whose sub-keys are stored, wrapped by ``master``."""
        wrapper = AESGCM(_derive(master, "key-wrapping"))
        keys = {
            name: _unwrap(wrapper, sealed[name], _binding("meta", "value", name), f"stored {name}") for name in SUB_KEYS
        }
        return cls(master, index_key=keys["index_key"], audit_key=keys["audit_key"])

    def sealed_sub_keys(self) -> dict[str, bytes]:
        """The sub-keys wrapped by the master key, for the meta table."""
        raw = {"index_key": self._index_key, "audit_key": self._audit_key}
        return {name: _wrap(self._wrapper, raw[name], _binding("meta", "value", name)) for name in SUB_KEYS}

    def with_master(self, master: bytes) -> Vault:
        """The same sub-keys under another master key (key rotation)."""
        return Vault(master, index_key=self._index_key, audit_key=self._audit_key)

    @property
    def audit_key(self) -> bytes:
        """The key of the audit trail's hash chain (separate from every other key)."""
        return self._audit_key

    @property
    def identifier_key(self) -> bytes:
        """The key of the perpetrator identifiers' indexes (derived for that alone)."""
        return self._identifier_key

    def key_check(self) -> bytes:
        """A value stored in the database so a different key file is recognised at start-up."""
        return hmac.new(self._check_key, b"meldbot key check", hashlib.sha256).digest()

    def matches(self, stored_check: bytes) -> bool:
        return hmac.compare_digest(self.key_check(), stored_check)

    def new_data_key(self, *, table: str, row_id: str) -> tuple[DataKey, bytes]:
        """A fresh data key for one row, and that key wrapped for storage in the row."""
        raw = os.urandom(32)
        return DataKey(raw), _wrap(self._wrapper, raw, _binding(table, "wrapped_key", row_id))

    def unwrap(self, wrapped: bytes, *, table: str, row_id: str) -> DataKey:
        return DataKey(self._unwrap_raw(wrapped, table=table, row_id=row_id))

    def _unwrap_raw(self, wrapped: bytes, *, table: str, row_id: str) -> bytes:
        return _unwrap(
            self._wrapper, wrapped, _binding(table, "wrapped_key", row_id), f"wrapped key in {table} for row {row_id}"
        )

    def rewrap(self, wrapped: bytes, *, table: str, row_id: str, into: Vault) -> bytes:
        """A row's data key, unwrapped with this vault's master key and wrapped with ``into``'s."""
        raw = self._unwrap_raw(wrapped, table=table, row_id=row_id)
        return _wrap(into._wrapper, raw, _binding(table, "wrapped_key", row_id))

    def blind_index(self, kind: str, value: int | str) -> bytes:
        """Deterministic, keyed lookup value: equal inputs give equal outputs, nothing else leaks."""
        return hmac.new(self._index_key, f"{kind}:{value}".encode(), hashlib.sha256).digest()
