"""MAN-1: record keys and digests are store-independent and change with any attribute."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainaudit.records.address import Address
from chainaudit.records.digest import (
    RECORD_DIGEST_PREFIX,
    audit_record_key,
    canonical_number,
    canonical_record_json,
    record_digest,
    record_key,
    record_kind,
)
from chainaudit.records.model import AuditEvent, EntityRecord, Envelope, KeyState, WrappedDek


def entity(
    addr: str = "dialogue:d-1/entity:perspective/01#02", **attrs: dict[str, object]
) -> EntityRecord:
    env = Envelope(b"\x01" * 40, b"\x02" * 12, "dek#d-1#1", "00" * 32)
    return EntityRecord(Address.parse(addr), dict(attrs) or {"status": {"S": "open"}}, env)


def dek() -> WrappedDek:
    return WrappedDek(
        "dek#d-1#1",
        "d-1",
        1,
        "u-1",
        "aes-kw",
        b"\x03" * 40,
        None,
        KeyState.ACTIVE,
        "2026-01-01T00:00:00Z",
    )


def event(
    chain: str = "crypto", event_id: str = "0190a000-0000-7000-8000-000000000001"
) -> AuditEvent:
    return AuditEvent(
        chain, {"event_id": event_id, "operation": "encrypt", "event_hash": "ab" * 32}
    )


def test_record_keys_per_kind() -> None:
    assert record_key(entity()) == "dialogue:d-1/entity:perspective/01#02"
    assert record_key(dek()) == "dek#d-1#1"
    assert record_key(event()) == "audit:crypto/0190a000-0000-7000-8000-000000000001"
    assert [record_kind(r) for r in (entity(), dek(), event())] == ["entity", "dek", "audit_event"]


def test_audit_key_escapes_the_chain_separator() -> None:
    # Chain "a/b" event "c" and chain "a" event "b/c" must not share a key.
    assert audit_record_key("a/b", "c") != audit_record_key("a", "b/c")
    assert audit_record_key("a/b", "c") == "audit:a%2Fb/c"
    assert audit_record_key("50%\n", "e") == "audit:50%25%0A/e"


def test_dek_key_comes_from_the_physical_key_not_the_attribute() -> None:
    edited = WrappedDek(
        "dek#other#9",
        "d-1",
        1,
        "u-1",
        "aes-kw",
        b"\x03" * 40,
        None,
        KeyState.ACTIVE,
        "2026-01-01T00:00:00Z",
    )
    assert record_key(edited) == record_key(dek())
    assert record_digest(edited) != record_digest(dek())


def test_digest_is_blake3_over_prefix_and_jcs() -> None:
    import blake3

    r = entity()
    assert (
        record_digest(r) == blake3.blake3(RECORD_DIGEST_PREFIX + canonical_record_json(r)).digest()
    )
    assert canonical_record_json(r).startswith(b'{"aad_hash":{"S":"')


def test_numbers_and_sets_are_canonical() -> None:
    a = entity(score={"N": "1.50"}, tags={"SS": ["b", "a"]}, ns={"NS": ["2", "1.0"]})
    b = entity(score={"N": "1.5"}, tags={"SS": ["a", "b"]}, ns={"NS": ["1", "2.00"]})
    assert record_digest(a) == record_digest(b)
    assert record_digest(a) != record_digest(
        entity(score={"N": "1.51"}, tags={"SS": ["a", "b"]}, ns={"NS": ["1", "2"]})
    )


@pytest.mark.parametrize(
    ("text", "canon"),
    [
        ("1.50", "1.5"),
        ("-0", "0"),
        ("0.000", "0"),
        ("1E+2", "100"),
        ("007", "7"),
        ("-1.0e-3", "-0.001"),
        ("x", "x"),
        ("1_0", "1_0"),
        (" 1", " 1"),
    ],
)
def test_canonical_number(text: str, canon: str) -> None:
    assert canonical_number(text) == canon


@given(st.binary(min_size=1, max_size=64), st.integers(min_value=0, max_value=8 * 64 - 1))
def test_any_single_bit_of_ciphertext_changes_the_digest(ct: bytes, bit: int) -> None:
    bit %= len(ct) * 8
    flipped = bytearray(ct)
    flipped[bit // 8] ^= 1 << (bit % 8)
    base = Envelope(ct, b"\x00" * 12, "dek#d#1", "00" * 32)
    a = EntityRecord(Address.parse("dialogue:d/entity:meta"), {}, base)
    b = EntityRecord(
        a.address, {}, Envelope(bytes(flipped), base.nonce, base.key_id, base.aad_hash)
    )
    assert record_digest(a) != record_digest(b)


@given(st.text(min_size=1, max_size=20), st.text(min_size=1, max_size=20))
def test_attribute_value_change_changes_digest(v1: str, v2: str) -> None:
    a = entity(status={"S": v1})
    b = entity(status={"S": v2})
    assert (record_digest(a) == record_digest(b)) == (v1 == v2)


def test_moving_a_record_changes_key_not_only_digest() -> None:
    a = entity("dialogue:d-1/entity:claim/01#01")
    b = entity("dialogue:d-1/entity:claim/01#02")
    assert record_key(a) != record_key(b)
    assert record_digest(a) != record_digest(b)  # pk/sk are inside the digest too


_JSON = st.recursive(
    st.none() | st.booleans() | st.text() | st.integers(-(2**53) + 1, 2**53 - 1),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300)
@given(_JSON)
def test_fast_jcs_equals_rfc8785(value: object) -> None:
    import rfc8785

    from chainaudit.records.digest import jcs

    assert jcs(value) == rfc8785.dumps(value)


_TYPED = st.one_of(
    st.builds(lambda s: {"S": s}, st.text(max_size=6)),
    st.builds(lambda b: {"B": b}, st.binary(max_size=8)),
    st.builds(lambda n: {"N": n}, st.from_regex(r"-?[0-9]{1,5}(\.[0-9]{1,3})?", fullmatch=True)),
    st.builds(lambda v: {"BOOL": v}, st.booleans()),
    st.just({"NULL": True}),
    st.builds(lambda m: {"SS": sorted(m)}, st.sets(st.text(max_size=3), min_size=1, max_size=3)),
)


@settings(max_examples=300)
@given(
    st.dictionaries(
        st.text(min_size=1, max_size=4).filter(
            lambda n: n not in ("pk", "sk", "content_encrypted", "content_nonce", "key_id")
            and n not in ("aad_hash", "envelope_version")
        ),
        _TYPED,
        max_size=5,
    )
)
def test_canonical_record_json_is_rfc8785_of_the_canonical_item(attrs: dict) -> None:
    """MAN-1.2 for all items: the fast path for plain items gives exactly the
    RFC 8785 bytes of the MAN-1.3 canonical item."""
    import rfc8785

    from chainaudit.records.digest import _canonical_typed, canonical_record_json
    from chainaudit.records.item import item_from_record

    record = EntityRecord(Address.parse("dialogue:d-1/entity:claim/01#02"), attrs, None)
    item = item_from_record(record)
    expected = rfc8785.dumps({name: _canonical_typed(av) for name, av in item.items()})
    assert canonical_record_json(record) == expected


def test_record_json_orders_astral_attribute_names_by_utf16() -> None:
    """MAN-1.2: a record whose attribute names mix a character above U+FFFF
    with one from U+E000 up is ordered as RFC 8785 orders it (UTF-16 code
    units: the surrogate pair first), not by code point; the plain-item fast
    path must leave it to the general one."""
    import rfc8785

    from chainaudit.records.digest import canonical_record_json

    attrs = {"\uff61": {"S": "b"}, "\U0001f600": {"S": "a"}}
    record = EntityRecord(Address.parse("dialogue:d-1/entity:claim/01#02"), attrs, None)
    got = canonical_record_json(record)
    assert got.index("\U0001f600".encode()) < got.index("\uff61".encode())
    assert got == rfc8785.dumps(
        {**attrs, "pk": {"S": "dialogue#d-1"}, "sk": {"S": "claim#01#02"}}
    )


def test_fast_jcs_key_order_is_utf16() -> None:
    import rfc8785

    from chainaudit.records.digest import jcs

    value = {"\U0001f600": {"S": "a"}, "\uff61": {"S": "b"}, "a": {"BOOL": True}}
    assert jcs(value) == rfc8785.dumps(value)
    assert jcs(value).index("\U0001f600".encode()) < jcs(value).index("\uff61".encode())


@pytest.mark.parametrize(
    "module",
    [
        "records.digest",
        "primitives.merkle",
        "migration.index",
        "migration.manifest",
        "migration.gate",
        "migration.diff",
        "migration.proof",
        "report.render",
    ],
)
def test_docstring_examples_run(module: str) -> None:
    import doctest
    import importlib

    mod = importlib.import_module(f"chainaudit.{module}")
    failed, attempted = doctest.testmod(mod)
    assert attempted > 0 and failed == 0
