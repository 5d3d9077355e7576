"""The chain hash's fast JCS path gives exactly the rfc8785 bytes (CHAIN-3)."""

from __future__ import annotations

from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from chainaudit.chain.events import DOMAIN_EVENT, MAX_INT, hashed_bytes

_values = st.one_of(
    st.text(),
    st.none(),
    st.integers(-MAX_INT - 2, MAX_INT + 2),
    st.integers(),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.characters().map(lambda c: "a" + c),
)
_keys = st.one_of(st.text(), st.text(alphabet=st.characters(max_codepoint=127)))


def _reference(body: dict[str, Any]) -> bytes | type[BaseException]:
    try:
        return DOMAIN_EVENT + rfc8785.dumps(body)
    except Exception as exc:
        return type(exc)


@settings(max_examples=400)
@given(st.dictionaries(_keys, _values, max_size=8))
def test_fast_path_equals_rfc8785(body: dict[str, Any]) -> None:
    expected = _reference(body)
    if isinstance(expected, bytes):
        assert hashed_bytes(body) == expected
    else:
        with pytest.raises(expected):
            hashed_bytes(body)


def test_escapes_and_key_order() -> None:
    body = {"b": '\x00\x1f\x7f\u2028"\\/é', "a": -MAX_INT, "\ue000": 1, "\U0001f600": None}
    assert hashed_bytes(body) == DOMAIN_EVENT + rfc8785.dumps(body)


def test_lone_surrogate_raises_like_rfc8785() -> None:
    with pytest.raises(type(_reference_error({"x": "\ud800"}))):
        hashed_bytes({"x": "\ud800"})


def _reference_error(body: dict[str, Any]) -> BaseException:
    try:
        rfc8785.dumps(body)
    except Exception as exc:
        return exc
    raise AssertionError("rfc8785 accepted a lone surrogate")


def test_event_hash_excludes_itself() -> None:
    assert hashed_bytes({"a": "1", "event_hash": "x"}) == DOMAIN_EVENT + b'{"a":"1"}'
