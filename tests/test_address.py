"""Canonical address (docs/address.md): round-trips, injectivity, strict rejection.

The "for all" properties of ADDR-1..ADDR-5 run under hypothesis with ids drawn
from all of Unicode (minus what ADDR-5 forbids) and biased towards the
separators and the escape character; the rejection cases each assert that the
message names the rule that was broken.
"""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from chainaudit.records.address import (
    MAX_ADDRESS_BYTES,
    MAX_COMPONENT_BYTES,
    SUBKEY_PARTS,
    Address,
    AddressError,
    EntityType,
    escape_component,
    unescape_component,
)

# --- strategies -------------------------------------------------------------

_SPECIAL = st.sampled_from(["#", "/", "%", ":", "%25", "%2F", "%2f", "#/", " ", "é", "e\u0301"])
_ANY_CHAR = st.characters(blacklist_categories=("Cc", "Cs"))


def _nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s)


#: Logical ids: any allowed code points, plus separators, in NFC, short enough
#: that no address built from them reaches the ADDR-5 limits.
logical_ids = st.lists(st.one_of(_ANY_CHAR, _SPECIAL), min_size=1, max_size=12).map(
    lambda xs: _nfc("".join(xs))
)
#: A tiny alphabet, so that two draws often collide or differ only by a separator.
tight_ids = st.text(alphabet="a#/%2F5", min_size=1, max_size=4)

nns = st.integers(0, 99).map(lambda n: f"{n:02d}")
timestamps = st.builds(
    lambda y, mo, d, h, mi, s, frac: f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}{frac}Z",
    st.integers(0, 9999),
    st.integers(1, 12),
    st.integers(1, 28),
    st.integers(0, 23),
    st.integers(0, 59),
    st.integers(0, 59),
    st.one_of(st.just(""), st.from_regex(r"\A\.[0-9]{1,9}\Z")),
)
target_types = st.sampled_from([t.value for t in EntityType if t is not EntityType.EVENT])


def _part(kind: str, ids: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return {"nn": nns, "ts": timestamps, "type": target_types}.get(kind, ids)


def logical_tuples(ids: st.SearchStrategy[str] = logical_ids) -> st.SearchStrategy[tuple[str, ...]]:
    """(dialogue_id, entity_type, *logical_parts) for every entity type."""

    def for_type(et: EntityType) -> st.SearchStrategy[tuple[str, ...]]:
        parts = [_part(k, ids) for k in SUBKEY_PARTS[et]]
        return st.tuples(ids, st.just(et.value), *parts)

    return st.sampled_from(list(EntityType)).flatmap(for_type)


addresses = logical_tuples().map(lambda t: Address.of(t[0], t[1], *t[2:]))


# --- round trips (ADDR-1, ADDR-4) -----------------------------------------------


@given(addresses)
def test_parse_inverts_str(a: Address) -> None:
    text = str(a)
    assert Address.parse(text) == a
    assert str(Address.parse(text)) == text
    assert a.to_bytes() == text.encode("utf-8")


@given(addresses)
def test_physical_mappings_round_trip(a: Address) -> None:
    pk, sk = a.to_dynamodb()
    assert Address.from_dynamodb(pk, sk) == a
    assert Address.from_sql(*a.to_sql()) == a
    # ADDR-4: the subkey is one string in all three forms.
    dialogue, et, subkey = a.to_sql()
    assert pk == f"dialogue#{dialogue}"
    if a.entity_type is EntityType.META:
        assert (sk, subkey) == ("meta", "")
        assert str(a) == f"dialogue:{dialogue}/entity:meta"
    else:
        assert sk == f"{et}#{subkey}"
        assert str(a) == f"dialogue:{dialogue}/entity:{et}/{subkey}"


@given(logical_tuples())
def test_logical_ids_round_trip(t: tuple[str, ...]) -> None:
    a = Address.of(t[0], t[1], *t[2:])
    assert a.dialogue_id == t[0]
    assert a.logical_parts() == t[2:]
    assert Address.of(a.dialogue_id, a.entity_type, *a.logical_parts()) == a


# --- injectivity (ADDR-2, ADDR-3) -----------------------------------------------


@settings(max_examples=300)
@given(logical_tuples(tight_ids), logical_tuples(tight_ids))
def test_distinct_entities_have_distinct_keys_everywhere(
    t1: tuple[str, ...], t2: tuple[str, ...]
) -> None:
    a, b = Address.of(t1[0], t1[1], *t1[2:]), Address.of(t2[0], t2[1], *t2[2:])
    same = t1 == t2
    assert (a == b) is same
    assert (str(a) == str(b)) is same
    assert (a.to_bytes() == b.to_bytes()) is same
    assert (a.to_dynamodb() == b.to_dynamodb()) is same
    assert (a.to_sql() == b.to_sql()) is same


@given(addresses, st.data())
def test_changing_one_logical_part_changes_the_address(a: Address, data: st.DataObject) -> None:
    kinds = ("id", *SUBKEY_PARTS[a.entity_type])
    logical = (a.dialogue_id, *a.logical_parts())
    i = data.draw(st.integers(0, len(kinds) - 1))
    new = data.draw(_part(kinds[i], logical_ids))
    assume(new != logical[i])
    changed = list(logical)
    changed[i] = new
    b = Address.of(changed[0], a.entity_type, *changed[1:])
    assert str(b) != str(a)
    assert b.to_dynamodb() != a.to_dynamodb()
    assert b.to_sql() != a.to_sql()


# --- canonicality: anything accepted is printed back byte for byte --------------

_near_valid = st.builds(
    lambda d, t, s: f"dialogue:{d}/entity:{t}{s}",
    st.text(alphabet="ab%2F3#/:", max_size=5),
    st.sampled_from([t.value for t in EntityType] + ["Meta", "x", ""]),
    st.text(alphabet="/01#%2F3a:TZ-.", max_size=12),
)


@settings(max_examples=300)
@given(st.one_of(st.text(max_size=40), _near_valid))
def test_parse_accepts_only_canonical_text(text: str) -> None:
    try:
        a = Address.parse(text)
    except AddressError:
        return
    assert str(a) == text


@settings(max_examples=300)
@given(
    st.one_of(st.text(max_size=12), st.text(alphabet="dialogue#a%2F", max_size=14)),
    st.one_of(st.text(max_size=20), st.text(alphabet="meta#expert01/%2F3", max_size=16)),
)
def test_from_dynamodb_accepts_only_canonical_keys(pk: str, sk: str) -> None:
    try:
        a = Address.from_dynamodb(pk, sk)
    except AddressError:
        return
    assert a.to_dynamodb() == (pk, sk)


@settings(max_examples=300)
@given(
    st.text(alphabet="ab%2F#", max_size=5),
    st.sampled_from([t.value for t in EntityType] + ["META", "nope"]),
    st.text(alphabet="01#ab%2F3/", max_size=10),
)
def test_from_sql_accepts_only_canonical_rows(dialogue: str, et: str, subkey: str) -> None:
    try:
        a = Address.from_sql(dialogue, et, subkey)
    except AddressError:
        return
    assert a.to_sql() == (dialogue, et, subkey)


# --- escaping (ADDR-3) ------------------------------------------------------------


@given(logical_ids)
def test_escape_round_trip(value: str) -> None:
    escaped = escape_component(value)
    assert unescape_component(escaped) == value
    assert "#" not in escaped and "/" not in escaped
    assert escape_component(unescape_component(escaped)) == escaped


@pytest.mark.parametrize(
    ("logical", "escaped"),
    [
        ("a#b", "a%23b"),
        ("x/y", "x%2Fy"),
        ("100%", "100%25"),
        ("%2F", "%252F"),
        ("a:b", "a:b"),
        ("Zoë", "Zoë"),
        ("#/%", "%23%2F%25"),
    ],
)
def test_escape_table(logical: str, escaped: str) -> None:
    """The ADDR-3 example table, verbatim."""
    assert escape_component(logical) == escaped
    assert unescape_component(escaped) == logical


def test_escaped_text_is_not_normalised() -> None:
    """ADDR-1 note: a logical '/' + U+0307 escapes to '%2F' + U+0307 (not NFC as
    text); it must round-trip untouched, and its NFC form must be rejected."""
    a = Address.of("d/\u0307", "meta")
    assert str(a) == "dialogue:d%2F\u0307/entity:meta"
    assert Address.parse(str(a)) == a
    with pytest.raises(AddressError, match="not one of the escapes"):
        Address.parse(unicodedata.normalize("NFC", str(a)))


# --- documented examples (ADDR-1, ADDR-4) -------------------------------------------


@pytest.mark.parametrize(
    ("text", "pk", "sk", "sql"),
    [
        ("dialogue:d-1/entity:meta", "dialogue#d-1", "meta", ("d-1", "meta", "")),
        (
            "dialogue:d-1/entity:expert/ada%23lovelace",
            "dialogue#d-1",
            "expert#ada%23lovelace",
            ("d-1", "expert", "ada%23lovelace"),
        ),
        (
            "dialogue:q%2F2026/entity:round/01",
            "dialogue#q%2F2026",
            "round#01",
            ("q%2F2026", "round", "01"),
        ),
        (
            "dialogue:d-1/entity:move/02#zoë#07",
            "dialogue#d-1",
            "move#02#zoë#07",
            ("d-1", "move", "02#zoë#07"),
        ),
        (
            "dialogue:d-1/entity:ref/https:%2F%2Fx.org%2Fa#cites#ev-1",
            "dialogue#d-1",
            "ref#https:%2F%2Fx.org%2Fa#cites#ev-1",
            ("d-1", "ref", "https:%2F%2Fx.org%2Fa#cites#ev-1"),
        ),
        (
            "dialogue:d-1/entity:event/claim#01%2301#2026-01-02T03:04:05Z",
            "dialogue#d-1",
            "event#claim#01%2301#2026-01-02T03:04:05Z",
            ("d-1", "event", "claim#01%2301#2026-01-02T03:04:05Z"),
        ),
    ],
)
def test_mapping_table(text: str, pk: str, sk: str, sql: tuple[str, str, str]) -> None:
    a = Address.parse(text)
    assert a.to_dynamodb() == (pk, sk)
    assert a.to_sql() == sql
    assert Address.from_dynamodb(pk, sk) == a == Address.from_sql(*sql)


def test_address_bytes_pinned() -> None:
    a = Address.of("d-1", "perspective", "01", "02")
    assert a.to_bytes().hex() == (
        "6469616c6f6775653a642d312f656e746974793a70657273706563746976652f3031233032"
    )


def test_plain_type_name_is_coerced() -> None:
    a = Address("d", "meta", ())  # type: ignore[arg-type]
    assert a.entity_type is EntityType.META
    assert str(a) == "dialogue:d/entity:meta"
    assert a == Address.parse("dialogue:d/entity:meta")
    assert hash(a) == hash(Address.parse("dialogue:d/entity:meta"))


# --- rejections: each names its reason -------------------------------------------------

_LONG = "x" * (MAX_COMPONENT_BYTES + 1)
_MAX = "x" * MAX_COMPONENT_BYTES

PARSE_REJECTS = [
    ("dialogue:e\u0301/entity:meta", "not in Unicode NFC"),
    ("dialogue:a\nb/entity:meta", "control character U+000A"),
    ("dialogue:a\x00/entity:meta", "control character U+0000"),
    ("dialogue:a\x85/entity:meta", "control character U+0085"),
    ("dialogue:a\ud800/entity:meta", "lone surrogate U+D800"),
    ("dialogue:a%2f/entity:meta", "not one of the escapes"),
    ("dialogue:a%41/entity:meta", "not one of the escapes"),
    ("dialogue:a%/entity:meta", "not one of the escapes"),
    ("dialogue:a%2/entity:meta", "not one of the escapes"),
    ("dialogue:a%3A/entity:meta", "not one of the escapes"),
    ("dialogue:/entity:meta", "empty component"),
    ("dialogue:a/entity:expert/", "empty subkey"),
    ("dialogue:a/entity:perspective/01##02", "takes 2 subkey part(s), got 3"),
    ("dialogue:a/entity:expert/x#", "takes 1 subkey part(s), got 2"),
    ("dialogue:a/entity:perspective/01", "takes 2 subkey part(s), got 1"),
    ("dialogue:a/entity:perspective/01#02#03", "takes 2 subkey part(s), got 3"),
    ("dialogue:a/entity:ref/x#y", "takes 3 subkey part(s), got 2"),
    ("dialogue:a/entity:meta/x", "meta address takes no subkey"),
    ("dialogue:a/entity:meta/", "meta address takes no subkey"),
    ("dialogue:a/entity:expert", "lacks the subkey"),
    ("dialogue:a/entity:Meta", "unknown entity type 'Meta'"),
    ("dialogue:a/entity:widget/x", "unknown entity type 'widget'"),
    ("dialogue:a/entity:round/1", "not a two-digit number"),
    ("dialogue:a/entity:round/001", "not a two-digit number"),
    ("dialogue:a/entity:round/٠١", "not a two-digit number"),
    ("dialogue:a/entity:event/event#x#2026-01-01T00:00:00Z", "not an entity type an event"),
    ("dialogue:a/entity:event/claim#x#2026-01-01 00:00:00Z", "not an RFC 3339 UTC timestamp"),
    ("dialogue:a/entity:event/claim#x#2026-01-01T00:00:00+00:00", "not an RFC 3339 UTC timestamp"),
    ("dialogue:a/entity:event/claim#x#2026-01-01T00:00:00.1234567890Z", "not an RFC 3339"),
    ("dialogue:a/entity:expert/x/y", "unescaped '/'"),
    ("dialogue:a/b/entity:meta", "unescaped '/'"),
    ("Dialogue:a/entity:meta", "does not start with 'dialogue:'"),
    (" dialogue:a/entity:meta", "does not start with 'dialogue:'"),
    ("dialogue:a/meta", "no '/entity:' part"),
    (f"dialogue:{_LONG}/entity:meta", f"over the limit of {MAX_COMPONENT_BYTES}"),
    (f"dialogue:a/entity:expert/{'é' * 128}", f"over the limit of {MAX_COMPONENT_BYTES}"),
    (f"dialogue:{_MAX}/entity:ref/{_MAX}#{_MAX}#{_MAX}", f"over the limit of {MAX_ADDRESS_BYTES}"),
]


@pytest.mark.parametrize(("text", "reason"), PARSE_REJECTS)
def test_parse_rejects_with_reason(text: str, reason: str) -> None:
    with pytest.raises(AddressError) as info:
        Address.parse(text)
    assert reason in str(info.value)


@pytest.mark.parametrize(
    ("pk", "sk", "reason"),
    [
        ("dialog#a", "meta", "does not start with 'dialogue#'"),
        ("dialogue#a", "meta#x", "meta takes no subkey"),
        ("dialogue#a", "expert", "has no '#'"),
        ("dialogue#a", "expert#", "empty subkey"),
        ("dialogue#a", "expert#a#b", "takes 1 subkey part(s), got 2"),
        ("dialogue#a#b", "meta", "unescaped '#'"),
        ("dialogue#", "meta", "empty component"),
        ("dialogue#a", "expert#a/b", "unescaped '/'"),
        ("dialogue#a", "META", "has no '#'"),
        ("dialogue#a", "dek#1", "unknown entity type 'dek'"),
    ],
)
def test_from_dynamodb_rejects_with_reason(pk: str, sk: str, reason: str) -> None:
    with pytest.raises(AddressError) as info:
        Address.from_dynamodb(pk, sk)
    assert reason in str(info.value)


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (("a", "meta", "x"), "meta row must have an empty subkey"),
        (("a", "expert", ""), "empty subkey"),
        (("a", "Expert", "x"), "unknown entity type"),
        (("a", "round", "1"), "not a two-digit number"),
        (("", "meta", ""), "empty component"),
    ],
)
def test_from_sql_rejects_with_reason(row: tuple[str, str, str], reason: str) -> None:
    with pytest.raises(AddressError) as info:
        Address.from_sql(*row)
    assert reason in str(info.value)


@pytest.mark.parametrize(
    ("logical", "reason"),
    [
        ("", "empty component"),
        ("e\u0301", "not in Unicode NFC"),
        ("\u212b", "not in Unicode NFC"),  # ANGSTROM SIGN: NFC is U+00C5
        ("a\tb", "control character U+0009"),
        ("\x7f", "control character U+007F"),
        ("\udfff", "lone surrogate U+DFFF"),
        ("é" * 128, "over the limit"),
        ("%" * 86, "over the limit"),  # 86 bytes logical, 258 escaped
    ],
)
def test_escape_rejects_with_reason(logical: str, reason: str) -> None:
    with pytest.raises(AddressError) as info:
        escape_component(logical)
    assert reason in str(info.value)


def test_component_limit_is_inclusive() -> None:
    assert escape_component("%" * 85) == "%25" * 85  # 255 bytes escaped
    assert unescape_component(_MAX) == _MAX


def test_of_rejects_wrong_part_count() -> None:
    with pytest.raises(AddressError, match=r"takes 0 subkey part\(s\), got 1"):
        Address.of("d", "meta", "x")
    with pytest.raises(AddressError, match=r"takes 3 subkey part\(s\), got 2"):
        Address.of("d", EntityType.MOVE, "01", "ada")
