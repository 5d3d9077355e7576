"""chainaudit's pytest plugin (``pytest11`` entry point ``chainaudit``; docs/api.md API-11).

Installed with chainaudit, it adds three session-scoped fixtures (session
scope, so ``@hypothesis.given`` tests can use them):

* ``chainaudit_keys``: :class:`chainaudit.testing.AuditKeys`, a UMK, a
  checkpoint signer and an erasure authority derived from a fixed label;
* ``chainaudit_sample``: :class:`chainaudit.testing.Dataset`, the demo's
  sample store (five dialogues, every entity type, rotation, signed
  erasure, boundary) as records with its own keys and checkpoints;
* ``chainaudit_verify``: a :class:`Verifier`, ``chainaudit.verify`` with the
  fixture keys pinned and their UMK (``verifier(records, checkpoints=...)``).

The assertions are functions: ``from chainaudit.testing import
assert_verifies_clean, assert_detects``. Loading the plugin imports nothing
heavy (each fixture imports what it needs when used), never hypothesis, so
it costs nothing in test suites that do not use it; ``-p no:chainaudit``
disables it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from chainaudit.findings import Result
    from chainaudit.records.model import Record
    from chainaudit.testing.dataset import AuditKeys, Dataset


class Verifier:
    """``chainaudit.verify`` bound to test keys: the UMK and both public keys pinned."""

    def __init__(self, keys: AuditKeys) -> None:
        self.keys = keys

    def __repr__(self) -> str:
        return f"Verifier({self.keys!r})"

    def __call__(
        self,
        records: Iterable[Record],
        *,
        checkpoints: Iterable[Mapping[str, Any]] = (),
        **overrides: Any,
    ) -> Result:
        from chainaudit.api import verify

        kwargs: dict[str, Any] = {
            "umk": self.keys.umk,
            "trusted_keys": self.keys.trusted_keys,
            "checkpoints": checkpoints,
        }
        kwargs.update(overrides)
        return verify(list(records), **kwargs)


@pytest.fixture(scope="session")
def chainaudit_keys() -> AuditKeys:
    """A UMK, a checkpoint/boundary signer and an erasure authority, from a fixed label."""
    from chainaudit.testing.dataset import AuditKeys

    return AuditKeys.from_label()


@pytest.fixture(scope="session")
def chainaudit_sample() -> Dataset:
    """The demo's sample store as records, with its UMK, pinned keys and checkpoints."""
    from chainaudit.testing.dataset import sample_dataset

    return sample_dataset()


@pytest.fixture(scope="session")
def chainaudit_verify(chainaudit_keys: AuditKeys) -> Verifier:
    """``chainaudit.verify`` with ``chainaudit_keys`` (UMK and pinned signers)."""
    return Verifier(chainaudit_keys)


def pytest_report_header(config: pytest.Config) -> str:
    from chainaudit import __version__

    return f"chainaudit {__version__} (testing plugin: chainaudit_keys, chainaudit_sample, chainaudit_verify)"
