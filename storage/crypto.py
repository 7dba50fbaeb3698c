"""Envelope encryption for everything that identifies a person or tells an incident.

This module is the one place that encrypts. It owns:

- the master key in the key file (32 random bytes, created once, never re-keyed
  silently), and the separate sub-keys derived from it with HKDF: one that wraps
  data keys, one for the blind index, one for the key check stored in the database;
- per-owner data keys (one per case, one per person) that are wrapped by the master
  key, so that deleting a wrapped key shreds everything sealed under it;
- sealing a value with AES-256-GCM where the associated data names the table, the
  column and the row, so a ciphertext copied to another row or column will not open;
- the blind index: a keyed HMAC of a Telegram id, so a person can be found again
  without the id being stored in plaintext.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
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
    loose_permissions: bool


def read_or_create_key_file(path: Path, *, may_create: bool) -> tuple[bytes, KeyFile]:
    """Read the master key, or create one (mode 0600) when ``may_create`` allows it.

    Creation is refused when the caller knows a database already exists: a new key
    could never open the reports in it.
    """
    if path.exists():
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
        return master, KeyFile(path=path, created=False, loose_permissions=bool(mode & 0o077))
    if not may_create:
        raise KeyFileError(
            f"key file {path} does not exist, but the database already holds reports. "
            "Restore the key file from your backup; a new key could not open them."
        )
    master = os.urandom(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: never overwrite a key that appeared between the check and now.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(f"{KEY_FILE_HEADER}\n{base64.b64encode(master).decode()}\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(path, 0o600)
    return master, KeyFile(path=path, created=True, loose_permissions=False)


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


class Vault:
    """Holds the keys derived from the master key; never exposes the master key itself."""

    __slots__ = ("_wrapper", "_index_key", "_check_key", "_audit_key")

    def __init__(self, master: bytes) -> None:
        if len(master) != 32:
            raise ValueError("master key must be 32 bytes")
        self._wrapper = AESGCM(_derive(master, "key-wrapping"))
        self._index_key = _derive(master, "blind-index")
        self._check_key = _derive(master, "key-check")
        self._audit_key = _derive(master, "audit-chain")

    @property
    def audit_key(self) -> bytes:
        """The key of the audit trail's hash chain (separate from every other key)."""
        return self._audit_key

    def key_check(self) -> bytes:
        """A value stored in the database so a different key file is recognised at start-up."""
        return hmac.new(self._check_key, b"meldbot key check", hashlib.sha256).digest()

    def matches(self, stored_check: bytes) -> bool:
        return hmac.compare_digest(self.key_check(), stored_check)

    def new_data_key(self, *, table: str, row_id: str) -> tuple[DataKey, bytes]:
        """A fresh data key for one row, and that key wrapped for storage in the row."""
        raw = os.urandom(32)
        nonce = os.urandom(_NONCE_BYTES)
        wrapped = _BLOB_VERSION + nonce + self._wrapper.encrypt(nonce, raw, _binding(table, "wrapped_key", row_id))
        return DataKey(raw), wrapped

    def unwrap(self, wrapped: bytes, *, table: str, row_id: str) -> DataKey:
        if len(wrapped) < 1 + _NONCE_BYTES + 16 or wrapped[:1] != _BLOB_VERSION:
            raise DecryptionError(f"malformed wrapped key in {table} for row {row_id}")
        nonce, body = wrapped[1 : 1 + _NONCE_BYTES], wrapped[1 + _NONCE_BYTES :]
        try:
            raw = self._wrapper.decrypt(nonce, body, _binding(table, "wrapped_key", row_id))
        except InvalidTag:
            raise DecryptionError(f"wrapped key in {table} for row {row_id} failed authentication") from None
        return DataKey(raw)

    def blind_index(self, kind: str, value: int | str) -> bytes:
        """Deterministic, keyed lookup value: equal inputs give equal outputs, nothing else leaks."""
        return hmac.new(self._index_key, f"{kind}:{value}".encode(), hashlib.sha256).digest()
