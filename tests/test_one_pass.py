"""One read of every source (docs/cli.md CLI-5): a grouped read equals a spooled one.

An NDJSON export is sorted, so :func:`chainaudit.audit.audit` reads it
grouped: each dialogue is held until the next begins, then checked and
released. Any other source is read spooled (envelopes spilled until the last
key, chain events and commitments to disk). Both must report exactly the same
findings, in the same order, the same counters, chain lengths and evidence,
on intact data and on every kind of damage, with keys, with the wrong UMK
and without keys. A grouped source that breaks its promise is read again,
spooled; that is the only case of a second read.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from chainaudit import audit as audit_mod
from chainaudit.audit import AuditOptions, audit
from chainaudit.chain.checkpoint import make_checkpoint
from chainaudit.findings import Result
from chainaudit.keys.signing import TrustStore, public_bytes
from chainaudit.keys.umk import Umk
from chainaudit.report.assurance import Evidence
from chainaudit.sample import Sample, build_sample, iter_records
from chainaudit.sources import SourceItem
from chainaudit.sources.jsonlines import canonical_json
from chainaudit.sources.ndjson import NdjsonSource, write_export

T0 = "2026-01-01T00:00:00Z"


class Counting(NdjsonSource):
    """The export, counting how often it is read."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.reads = 0

    def read(self) -> Iterator[SourceItem]:
        self.reads += 1
        return super().read()


class Spooled(Counting):
    """The same export read the other way: the reference."""

    grouped = False


@pytest.fixture(scope="module")
def sample() -> Sample:
    return build_sample()


@pytest.fixture(scope="module")
def lines(sample: Sample, tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    path = tmp_path_factory.mktemp("one-pass") / "sample.ndjson"
    write_export(path, iter_records(sample), source="test", created_at=T0)
    return path.read_bytes().splitlines(keepends=True)


def _options(sample: Sample, mode: str) -> AuditOptions:
    assert sample.signer is not None and sample.erasure_signer is not None and sample.umk
    trust = TrustStore.of([public_bytes(sample.signer), public_bytes(sample.erasure_signer)])
    checkpoints = [
        (f"cp:{chain}", make_checkpoint(sample.signer, chain, count, tip, alg, T0))
        for chain, count, tip, alg in sample.tips[:3]
    ]
    if mode == "keyless":
        return AuditOptions(trust=trust, checkpoints=checkpoints)
    if mode == "keyed":
        return AuditOptions(umk=sample.umk, trust=trust, checkpoints=checkpoints)
    if mode == "wrong-umk":
        return AuditOptions(umk=Umk.from_hex("11" * 32), trust=trust)
    assert mode == "unpinned"
    return AuditOptions(umk=sample.umk)


MODES = ["keyless", "keyed", "wrong-umk", "unpinned"]


def _run(source: Counting, options: AuditOptions) -> tuple[Result, Evidence]:
    ev = Evidence()
    return audit(source, options, evidence=ev), ev


def _compare(path: Path, options: AuditOptions) -> tuple[Result, int]:
    grouped_src, spooled_src = Counting(path), Spooled(path)
    grouped, ev_grouped = _run(grouped_src, options)
    spooled, ev_spooled = _run(spooled_src, options)
    assert [f.to_json() for f in grouped.findings] == [f.to_json() for f in spooled.findings]
    assert grouped.checked == spooled.checked
    assert grouped.chain_lengths == spooled.chain_lengths
    assert ev_grouped == ev_spooled
    assert spooled_src.reads == 1
    return grouped, grouped_src.reads


def _write(tmp_path: Path, lines: list[bytes], name: str = "x.ndjson") -> Path:
    path = tmp_path / name
    path.write_bytes(b"".join(lines))
    return path


@pytest.mark.parametrize("mode", MODES)
def test_intact_export_is_read_once_and_reads_as_spooled(
    sample: Sample, lines: list[bytes], tmp_path: Path, mode: str
) -> None:
    result, reads = _compare(_write(tmp_path, lines), _options(sample, mode))
    assert reads == 1
    assert result.checked["records"] == len(lines) - 2
    if mode == "keyed":
        assert result.checked["decrypted"] > 100
    if mode == "wrong-umk":
        assert "UMK_MISMATCH" in result.codes()


def _edit(line: bytes, change: Any) -> bytes:
    obj = orjson.loads(line)
    change(obj["item"])
    return canonical_json(obj) + b"\n"


def _index(lines: list[bytes], needle: bytes, nth: int = 0) -> int:
    found = [i for i, line in enumerate(lines) if needle in line and 0 < i < len(lines) - 1]
    return found[nth]


def _flip_wrapped_key(item: dict[str, Any]) -> None:
    wrapped = item["wrapped_key"]["B"]
    item["wrapped_key"]["B"] = ("A" if wrapped[0] != "A" else "B") + wrapped[1:]


def _damage(lines: list[bytes], how: str) -> list[bytes]:
    out = list(lines)
    if how == "dek-moved-to-the-end":  # the dialogue reappears: read again, spooled
        moved = out.pop(_index(out, b'"sk":{"S":"dek#'))
        out.insert(len(out) - 1, moved)
    elif how == "two-lines-swapped":
        i = _index(out, b'"sk":{"S":"claim#')
        out[i], out[i + 1] = out[i + 1], out[i]
    elif how == "audit-events-swapped":
        i = _index(out, b'"pk":{"S":"audit#', 5)
        out[i], out[i + 1] = out[i + 1], out[i]
    elif how == "line-removed":
        del out[_index(out, b'"sk":{"S":"event#', 3)]
    elif how == "line-duplicated":
        i = _index(out, b'"sk":{"S":"event#', 7)
        out.insert(i, out[i])
    elif how == "dek-altered":
        i = _index(out, b'"wrapped_key"')
        out[i] = _edit(out[i], _flip_wrapped_key)
    elif how == "every-dek-altered":
        out = [_edit(x, _flip_wrapped_key) if b'"wrapped_key"' in x else x for x in out]
    elif how == "ciphertext-altered":
        i = _index(out, b'"content_encrypted"', 4)
        out[i] = out[i].replace(b'"content_encrypted":{"B":"', b'"content_encrypted":{"B":"AAAA', 1)
    elif how == "dek-duplicated-differently":
        i = _index(out, b'"wrapped_key"', 1)
        out.insert(i + 1, _edit(out[i], _flip_wrapped_key))
    elif how == "lifecycle-seq-edited":
        i = _index(out, b'"sk":{"S":"event#', 11)
        out[i] = _edit(out[i], lambda item: item.update(seq={"N": "9999"}))
    elif how == "dialogue-split":  # half a dialogue moved after the next one
        i = _index(out, b'"sk":{"S":"meta"}', 1)
        j = _index(out, b'"sk":{"S":"meta"}', 2)
        out = out[:i] + out[i + 5 : j] + out[i : i + 5] + out[j:]
    elif how == "truncated":
        out = out[: len(out) // 2]
    else:
        raise AssertionError(how)
    return out


DAMAGE = [
    "dek-moved-to-the-end",
    "two-lines-swapped",
    "audit-events-swapped",
    "line-removed",
    "line-duplicated",
    "dek-altered",
    "every-dek-altered",
    "ciphertext-altered",
    "dek-duplicated-differently",
    "lifecycle-seq-edited",
    "dialogue-split",
    "truncated",
]


@pytest.mark.parametrize("how", DAMAGE)
@pytest.mark.parametrize("mode", MODES)
def test_damaged_exports_read_as_spooled(
    sample: Sample, lines: list[bytes], tmp_path: Path, how: str, mode: str
) -> None:
    result, reads = _compare(_write(tmp_path, _damage(lines, how)), _options(sample, mode))
    assert result.findings, how
    if how in ("dek-moved-to-the-end", "dialogue-split", "audit-events-swapped"):
        assert reads == 2  # the grouping promise broke: read again, spooled
    elif how not in ("two-lines-swapped",):
        assert reads == 1


def test_random_damage_reads_as_spooled(sample: Sample, lines: list[bytes], tmp_path: Path) -> None:
    rng = random.Random(1207)
    for n in range(16):
        out = list(lines)
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(1, len(out) - 1)
            op = rng.choice(["del", "dup", "move", "swap"])
            if op == "del":
                del out[i]
            elif op == "dup":
                out.insert(i, out[i])
            elif op == "move":
                moved = out.pop(i)
                out.insert(rng.randrange(1, len(out) - 1), moved)
            elif i + 1 < len(out) - 1:
                out[i], out[i + 1] = out[i + 1], out[i]
        _compare(_write(tmp_path, out, f"r{n}.ndjson"), _options(sample, MODES[n % 4]))


def test_a_dialogue_larger_than_the_bound_is_read_again_spooled(
    sample: Sample, lines: list[bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_mod, "MAX_GROUP", 20)
    result, reads = _compare(_write(tmp_path, lines), _options(sample, "keyed"))
    assert reads == 2 and result.checked["decrypted"] > 100
