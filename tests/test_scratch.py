"""chainaudit.scratch: what the on-disk spools store of an event comes back equal."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from chainaudit.scratch import pack_fields, unpack_fields

_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=6)
_VALUE = st.one_of(st.none(), _TEXT, st.integers(min_value=-(2**80), max_value=2**80))


@settings(max_examples=400)
@given(st.dictionaries(_TEXT, _VALUE, max_size=6))
def test_fields_come_back_equal_in_the_same_order(fields: dict) -> None:
    """For all event fields (strings with lone surrogates, integers beyond
    64 bits, null): the same values, names in the order the standard
    library's sorted encoding gave (the order findings are made in)."""
    back = unpack_fields(pack_fields(fields))
    assert back == fields
    assert list(back) == list(json.loads(json.dumps(fields, sort_keys=True)))
    assert all(type(back[k]) is type(v) for k, v in fields.items())
