"""Encryption facts: ciphertexts are bound to their row, tampering is caught, keys are kept apart."""

from __future__ import annotations

import os
import stat

import pytest

from flows.perpetrator import IdentifierKind, identifier_index
from storage import Storage, StorageRefused
from storage.crypto import DecryptionError, KeyFileError, Vault, read_or_create_key_file
from tests.conftest import reporter


def test_a_sealed_value_opens_only_in_its_own_table_column_and_row():
    vault = Vault(os.urandom(32))
    key, _ = vault.new_data_key(table="cases", row_id="case-1")
    blob = key.seal_text("geheim verhaal", table="cases", column="description", row_id="case-1")
    assert b"geheim" not in blob
    assert key.open_text(blob, table="cases", column="description", row_id="case-1") == "geheim verhaal"
    for table, column, row in [
        ("cases", "description", "case-2"),
        ("cases", "draft_state", "case-1"),
        ("persons", "description", "case-1"),
    ]:
        with pytest.raises(DecryptionError) as refused:
            key.open_text(blob, table=table, column=column, row_id=row)
        assert "geheim" not in str(refused.value)


def test_one_flipped_bit_anywhere_is_refused():
    vault = Vault(os.urandom(32))
    key, _ = vault.new_data_key(table="cases", row_id="r")
    blob = key.seal(b"x" * 40, table="cases", column="description", row_id="r")
    for position in range(len(blob)):
        for bit in (0, 7):
            tampered = bytearray(blob)
            tampered[position] ^= 1 << bit
            with pytest.raises(DecryptionError):
                key.open(bytes(tampered), table="cases", column="description", row_id="r")


def test_a_wrapped_data_key_is_bound_to_its_row_and_master_key():
    vault = Vault(os.urandom(32))
    _, wrapped = vault.new_data_key(table="cases", row_id="a")
    vault.unwrap(wrapped, table="cases", row_id="a")
    with pytest.raises(DecryptionError):
        vault.unwrap(wrapped, table="cases", row_id="b")
    with pytest.raises(DecryptionError):
        Vault(os.urandom(32)).unwrap(wrapped, table="cases", row_id="a")


def test_the_blind_index_is_stable_keyed_and_separate_from_encryption():
    master = os.urandom(32)
    one, two = Vault(master), Vault(master)
    assert one.blind_index("tg-user", 5001) == two.blind_index("tg-user", 5001)
    assert one.blind_index("tg-user", 5001) != one.blind_index("tg-user", 5002)
    assert one.blind_index("tg-user", 5001) != Vault(os.urandom(32)).blind_index("tg-user", 5001)
    assert b"5001" not in one.blind_index("tg-user", 5001)


def test_a_new_key_file_is_private_to_its_owner(tmp_path):
    _, key_file = read_or_create_key_file(tmp_path / "k.key", may_create=True)
    assert key_file.created
    assert stat.S_IMODE((tmp_path / "k.key").stat().st_mode) == 0o600


def test_a_malformed_key_file_is_named_not_used(tmp_path):
    (tmp_path / "k.key").write_text("not a key\n")
    with pytest.raises(KeyFileError, match="not a meldbot key file"):
        read_or_create_key_file(tmp_path / "k.key", may_create=True)


async def test_a_wrong_key_file_is_refused_and_the_database_left_untouched(tmp_path):
    first = await Storage.open(tmp_path / "m.db", tmp_path / "m.key")
    await first.people.ensure(telegram_id=1, display_name="A", username=None, language="nl", now=_now())
    await first.close()
    before = (tmp_path / "m.db").read_bytes()
    read_or_create_key_file(tmp_path / "other.key", may_create=True)
    with pytest.raises(StorageRefused, match="does not belong to the database"):
        await Storage.open(tmp_path / "m.db", tmp_path / "other.key")
    assert (tmp_path / "m.db").read_bytes() == before


async def test_a_missing_key_file_beside_an_existing_database_is_not_silently_replaced(tmp_path):
    first = await Storage.open(tmp_path / "m.db", tmp_path / "m.key")
    await first.close()
    (tmp_path / "m.key").rename(tmp_path / "elsewhere.key")
    with pytest.raises(StorageRefused, match="Restore the key file"):
        await Storage.open(tmp_path / "m.db", tmp_path / "m.key")
    assert not (tmp_path / "m.key").exists()


async def test_a_ciphertext_moved_to_another_row_in_the_database_is_refused(storage, clock):
    anna = await storage.people.ensure(
        telegram_id=5001, display_name="Anna", username="a", language="nl", now=clock.now()
    )
    bert = await storage.people.ensure(
        telegram_id=5002, display_name="Bert", username="b", language="nl", now=clock.now()
    )
    one = await storage.cases.create_draft(person_id=anna.id, role=None, asks_role=True, now=clock.now())
    two = await storage.cases.create_draft(person_id=bert.id, role=None, asks_role=True, now=clock.now())
    one.description = "Anna's verhaal"
    await storage.cases.save_draft(one, clock.now())
    async with storage.db.transaction() as conn:
        # Same case key would still fail: the row id is in the associated data.
        await conn.execute(
            "UPDATE cases SET description = (SELECT description FROM cases WHERE id = ?), wrapped_key ="
            " (SELECT wrapped_key FROM cases WHERE id = ?) WHERE id = ?",
            (one.id, one.id, two.id),
        )
    with pytest.raises(DecryptionError):
        await storage.cases.draft_of(bert.id)
    async with storage.db.transaction() as conn:
        await conn.execute(
            "UPDATE persons SET display_name = (SELECT display_name FROM persons WHERE id = ?) WHERE id = ?",
            (anna.id, bert.id),
        )
    with pytest.raises(DecryptionError):
        await storage.people.find(5002)
    assert (await storage.people.find(5001)).display_name == "Anna"


async def test_a_bit_flipped_in_the_database_is_refused(storage, clock):
    anna = await storage.people.ensure(
        telegram_id=5001, display_name="Anna", username=None, language="nl", now=clock.now()
    )
    draft = await storage.cases.create_draft(person_id=anna.id, role=None, asks_role=True, now=clock.now())
    draft.description = "verhaal"
    await storage.cases.save_draft(draft, clock.now())
    async with storage.db.transaction() as conn:
        async with conn.execute("SELECT description FROM cases WHERE id = ?", (draft.id,)) as cursor:
            blob = bytearray((await cursor.fetchone())[0])
        blob[-1] ^= 0x01
        await conn.execute("UPDATE cases SET description = ? WHERE id = ?", (bytes(blob), draft.id))
    with pytest.raises(DecryptionError):
        await storage.cases.draft_of(anna.id)


def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC)


async def test_ids_are_found_again_through_the_index_only(storage, clock):
    sender = reporter(31337)
    await storage.people.ensure(
        telegram_id=sender.telegram_id, display_name=sender.display_name, username="u", language="nl", now=clock.now()
    )
    assert (await storage.people.find(31337)).telegram_id == 31337
    assert await storage.people.find(31338) is None


def test_the_stored_sub_keys_survive_a_new_master_key_and_open_only_with_theirs():
    first = Vault.generate(os.urandom(32))
    sealed = first.sealed_sub_keys()
    assert set(sealed) == {"index_key", "audit_key"}
    second_master = os.urandom(32)
    second = first.with_master(second_master)
    assert second.blind_index("tg-user", 5001) == first.blind_index("tg-user", 5001)
    assert second.audit_key == first.audit_key
    assert not second.matches(first.key_check())  # the key check does follow the master key
    reopened = Vault.from_sealed(second_master, second.sealed_sub_keys())
    assert reopened.blind_index("tg-user", 5001) == first.blind_index("tg-user", 5001)
    with pytest.raises(DecryptionError):
        Vault.from_sealed(second_master, sealed)  # wrapped by the first master key
    swapped = {"index_key": sealed["audit_key"], "audit_key": sealed["index_key"]}
    with pytest.raises(DecryptionError):
        Vault.from_sealed(os.urandom(32), swapped)


def test_a_data_key_rewrapped_for_a_new_master_opens_the_same_values_and_only_there():
    old = Vault.generate(os.urandom(32))
    key, wrapped = old.new_data_key(table="cases", row_id="c1")
    blob = key.seal_text("verhaal", table="cases", column="description", row_id="c1")
    new = old.with_master(os.urandom(32))
    rewrapped = old.rewrap(wrapped, table="cases", row_id="c1", into=new)
    assert (
        new.unwrap(rewrapped, table="cases", row_id="c1").open_text(
            blob, table="cases", column="description", row_id="c1"
        )
        == "verhaal"
    )
    with pytest.raises(DecryptionError):
        old.unwrap(rewrapped, table="cases", row_id="c1")
    with pytest.raises(DecryptionError):
        new.unwrap(wrapped, table="cases", row_id="c1")


def test_a_key_file_others_can_read_is_refused_with_the_command_that_fixes_it(tmp_path):
    read_or_create_key_file(tmp_path / "k.key", may_create=True)
    (tmp_path / "k.key").chmod(0o640)
    with pytest.raises(KeyFileError, match=r"mode 0640.*chmod 600 .*k\.key$"):
        read_or_create_key_file(tmp_path / "k.key", may_create=False)


def test_the_perpetrator_identifier_key_is_derived_from_the_master_key_for_that_alone():
    master = os.urandom(32)
    vault = Vault.generate(master)
    assert vault.identifier_key == Vault.generate(master).identifier_key  # derived, so stable for one master key
    assert vault.with_master(os.urandom(32)).identifier_key != vault.identifier_key  # and new with a new one
    assert len(vault.identifier_key) == 32 and vault.identifier_key != vault.audit_key
    identifier = identifier_index(vault.identifier_key, IdentifierKind.PHONE, "+31612345678")
    assert identifier != vault.blind_index("phone", "+31612345678")
