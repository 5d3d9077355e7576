"""Focused tests of three verification modules (issue 15 mutants): the record
commitments' verifier (chainaudit/commitments/verify.py), the envelope
verifier (chainaudit/envelope/verify.py) and the report renderer
(chainaudit/report/render.py). Each test pins the exact findings, counters,
exit or text of the check it is named after."""

from __future__ import annotations

import dataclasses
import json
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainaudit import __version__
from chainaudit.chain.boundary import message as boundary_message
from chainaudit.chain.checkpoint import ChainExpectation, verify_checkpoint
from chainaudit.chain.events import chain_event_from_entity, lifecycle_record, seal
from chainaudit.chain.uuid7 import make as make_uuid7
from chainaudit.commitments.events import item_digest, receipt_message
from chainaudit.commitments.verify import (
    COUNTERS,
    CommitmentVerifier,
    merge_judged,
    verify_commitments,
)
from chainaudit.conformance.vectorgen.commitment_build import (
    T0_MS,
    DialogueWriter,
    records_of,
    signer,
)
from chainaudit.envelope.nonces import NonceLedger, NonceLimits
from chainaudit.envelope.seal import aad_hash, legacy_aad_for, legacy_aad_hash, seal_bytes
from chainaudit.envelope.verify import EnvelopeVerifier, check_record, verify_envelopes
from chainaudit.errors import LocalFaultError
from chainaudit.findings import Code, Finding, Result, Severity, codes
from chainaudit.keys.resolver import DekLookup, DekStatus
from chainaudit.keys.signing import TrustStore, public_bytes, sign
from chainaudit.primitives import crypto
from chainaudit.records.address import Address, EntityType
from chainaudit.records.digest import canonical_record_json
from chainaudit.records.model import (
    AuditEvent,
    EntityRecord,
    Envelope,
    KeyState,
    Record,
    WrappedDek,
)
from chainaudit.report.assurance import Assurance, Level
from chainaudit.report.render import (
    Summary,
    exit_code_for,
    redact,
    render_json,
    render_junit,
    render_text,
    report_exit_code,
    report_json,
    summary_from_json,
    summary_to_json,
)
from chainaudit.testing import dek, nonce, resolver_for, sealed_record
from chainaudit.testing import key_id_for as kid

# --- envelope/verify.py -------------------------------------------------------------

A = Address.of("d-1", "claim", "01", "02")
B = Address.of("d-1", "claim", "01", "03")


def _env(record: EntityRecord, **changes: Any) -> EntityRecord:
    assert record.envelope is not None
    return dataclasses.replace(record, envelope=dataclasses.replace(record.envelope, **changes))


def _found(record: EntityRecord, resolver: Any = None) -> list[tuple[str, str | None, str | None]]:
    return [(f.code.name, f.expected, f.actual) for f in check_record(record, resolver)]


def _names(record: EntityRecord, resolver: Any = None) -> list[str]:
    return [f.code.name for f in check_record(record, resolver)]


class _Resolver:
    """A resolver answering ``lookups`` by key id (MISSING for any other)."""

    def __init__(self, lookups: dict[str, DekLookup], versions: Sequence[str] = ()) -> None:
        self.lookups = lookups
        self._versions = list(versions)

    def resolve(self, key_id: str) -> DekLookup:
        return self.lookups.get(key_id, DekLookup(DekStatus.MISSING))

    def versions(self, dialogue: str) -> Sequence[str]:
        return self._versions


def test_a_key_found_without_its_dek_is_an_unwrap_failure() -> None:
    """ENV-6: a lookup that is FOUND but carries no DEK is never opened."""
    resolver = _Resolver({kid(A): DekLookup(DekStatus.FOUND, None, "no bytes")})
    assert _found(sealed_record(A), resolver) == [("KEY_UNWRAP_FAILED", None, None)]
    (f,) = check_record(sealed_record(A), resolver)
    assert f.message == f"key {kid(A)} does not unwrap (no bytes)"


def test_an_unwrap_failure_is_reported_even_when_the_lookup_carries_bytes() -> None:
    resolver = _Resolver({kid(A): DekLookup(DekStatus.UNWRAP_FAILED, dek(kid(A)))})
    assert _names(sealed_record(A), resolver) == ["KEY_UNWRAP_FAILED"]


def test_a_ciphertext_of_exactly_the_tag_length_is_long_enough() -> None:
    """ENV-6: 16 bytes hold the tag (an empty plaintext): not CIPHERTEXT_TOO_SHORT."""
    rec = EntityRecord(A, {}, seal_bytes(A, b"", dek(kid(A)), kid(A), nonce("empty")))
    assert rec.envelope is not None and len(rec.envelope.ciphertext) == 16
    assert check_record(rec) == []
    # keyed: it opens, and the empty payload is what ENV-8 refuses
    assert _names(rec, resolver_for(A)) == ["PAYLOAD_NOT_JSON_OBJECT"]
    short = _env(rec, ciphertext=rec.envelope.ciphertext[:15])
    assert _found(short) == [("CIPHERTEXT_TOO_SHORT", ">= 16 bytes", "15 bytes")]


def test_a_too_short_ciphertext_is_not_opened_with_keys() -> None:
    """ENV-6: the keyed checks do not run on a ciphertext that cannot hold the tag."""
    rec = _env(sealed_record(A), ciphertext=bytes(15))
    assert _found(rec, resolver_for(A)) == [("CIPHERTEXT_TOO_SHORT", ">= 16 bytes", "15 bytes")]


def test_a_wrong_nonce_length_is_not_opened_with_keys() -> None:
    rec = _env(sealed_record(A), nonce=bytes(8))
    assert _found(rec, resolver_for(A)) == [("NONCE_LENGTH", "12 bytes", "8 bytes")]


def test_an_invalid_key_id_is_not_resolved() -> None:
    """KEY-2: an unparsable key id ends the record's checks: no KEY_MISSING."""
    rec = _env(sealed_record(A), key_id="dek#d-1#01")
    assert _names(rec, resolver_for(A)) == ["KEY_ID_INVALID"]


def test_a_key_id_of_another_dialogue_is_not_resolved() -> None:
    rec = _env(sealed_record(A), key_id="dek#d-2#1")
    other = resolver_for(A, Address.of("d-2", "meta"))
    assert _found(rec, other) == [("KEY_ID_WRONG_DIALOGUE", "d-1", "d-2")]


def test_another_key_version_is_named_only_when_it_opens_the_record() -> None:
    """ENV-7 step 3: versions that exist but do not open it are no explanation."""
    rec = sealed_record(A, version=2)
    assert rec.envelope is not None
    garbled = _env(rec, ciphertext=bytes(len(rec.envelope.ciphertext)))
    assert _names(garbled, resolver_for(A, versions=3)) == ["AUTHENTICATION_FAILED"]
    # a version known but not found (destroyed, missing) is no explanation either
    states = {kid(A, 1): DekStatus.SHREDDED, kid(A, 3): DekStatus.MISSING}
    assert _names(garbled, resolver_for(A, versions=3, states=states)) == ["AUTHENTICATION_FAILED"]


def test_a_legacy_hash_is_refuted_by_another_key_version_that_opens_it() -> None:
    """ENV-9: opening under the own AAD with another version of the key also
    proves the ciphertext is v1: the keyless LEGACY_AAD becomes AAD_HASH_MISMATCH."""
    rec = _env(sealed_record(A, version=1), key_id=kid(A, 2), aad_hash=legacy_aad_hash(A))
    assert _names(rec) == ["LEGACY_AAD"]
    assert _found(rec, resolver_for(A, versions=2)) == [
        ("AAD_HASH_MISMATCH", aad_hash(A), legacy_aad_hash(A)),
        ("WRONG_KEY_VERSION", kid(A, 1), kid(A, 2)),
    ]


def test_a_legacy_hash_is_refuted_by_a_truncated_tag_that_opens_it() -> None:
    rec = sealed_record(A, {"long enough": "to keep 16 bytes after the cut"})
    assert rec.envelope is not None
    cut = _env(rec, ciphertext=rec.envelope.ciphertext[:-4], aad_hash=legacy_aad_hash(A))
    assert _found(cut, resolver_for(A)) == [
        ("AAD_HASH_MISMATCH", aad_hash(A), legacy_aad_hash(A)),
        ("TAG_TRUNCATED", "16-byte tag", "12-byte tag"),
    ]


@pytest.mark.parametrize(
    ("length", "quoted"), [(1, "a"), (159, "a" * 159), (160, "a" * 160), (161, "a" * 160 + "…")]
)
def test_a_stored_aad_hash_is_quoted_up_to_160_characters(length: int, quoted: str) -> None:
    rec = _env(sealed_record(A), aad_hash="a" * length)
    assert _found(rec) == [("AAD_HASH_MISMATCH", aad_hash(A), quoted)]


def test_a_long_invalid_key_id_is_quoted_cut_short() -> None:
    bad = "dek#" + "x" * 300
    (f,) = check_record(_env(sealed_record(A), key_id=bad))
    assert (f.code.name, f.expected, f.actual) == (
        "KEY_ID_INVALID",
        "dek#{dialogue_id}#{version}",
        bad[:160] + "…",
    )
    assert len(f.message) <= 161


def _reused() -> list[EntityRecord]:
    first = sealed_record(A)
    second = sealed_record(B, label="other")
    assert first.envelope is not None and second.envelope is not None
    return [first, _env(second, nonce=first.envelope.nonce)]


def test_the_nonce_limits_given_are_the_ledgers(tmp_path: Path) -> None:
    """ENV-5: verify_envelopes and EnvelopeVerifier spill where their limits say
    (here a directory that does not exist: the run stops, exit 3)."""
    limits = NonceLimits(max_in_memory=1, tmp_dir=str(tmp_path / "absent"))
    with pytest.raises(LocalFaultError):
        verify_envelopes(_reused(), limits=limits)
    with pytest.raises(LocalFaultError), EnvelopeVerifier(limits=limits) as v:
        v.feed(_reused())
    ok = NonceLimits(max_in_memory=1, tmp_dir=str(tmp_path))
    assert verify_envelopes(_reused(), limits=ok).codes() == ["NONCE_REUSE"]


def test_a_ledger_given_to_the_verifier_is_the_one_fed() -> None:
    ledger = NonceLedger()
    with EnvelopeVerifier(ledger=ledger) as v:
        result = v.feed(_reused()).records_result()
    assert result.codes() == [] and result.checked["envelopes"] == 2
    assert [f.code.name for f in ledger.findings()] == ["NONCE_REUSE"]
    ledger.close()


def test_the_records_result_leaves_out_the_nonce_findings() -> None:
    with EnvelopeVerifier() as v:
        result = v.feed(_reused()).records_result()
        assert result.codes() == []
        with pytest.raises(RuntimeError, match="only once"):
            v.records_result()
        with pytest.raises(RuntimeError, match="only once"):
            v.result()
        with pytest.raises(RuntimeError, match="after result"):
            v.add(sealed_record(A))


def test_the_result_is_taken_once() -> None:
    v = EnvelopeVerifier()
    assert v.feed(_reused()).result().codes() == ["NONCE_REUSE"]
    with pytest.raises(RuntimeError, match="only once"):
        v.result()
    with pytest.raises(RuntimeError, match="only once"):
        v.records_result()


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 3), st.integers(1, 3))
def test_wrong_key_version_for_all_versions(sealed: int, named: int) -> None:
    """ENV-7: for all pairs of versions, the record opens under the version it
    was sealed with, and names it when the stored key id is another one."""
    rec = _env(sealed_record(A, version=sealed), key_id=kid(A, named))
    got = _found(rec, resolver_for(A, versions=3))
    assert got == (
        [] if sealed == named else [("WRONG_KEY_VERSION", kid(A, sealed), kid(A, named))]
    )


# --- report/render.py ---------------------------------------------------------------


def _result(*findings: Finding, records: int = 1) -> Result:
    r = Result()
    r.checked["records"] = records
    r.extend(findings)
    return r


def _error(where: str = "x#1", message: str = "m") -> Finding:
    return Finding(codes.MANIFEST_RECORD_MISSING, where, message)


PROVENANCE = {
    "inputs": [{"name": "a.ndjson", "sha256": "ab" * 32}, {"name": "b\x1b.ndjson", "sha256": None}],
    "manifest": {"name": "m.json", "sha256": "cd" * 32},
    "umk_fingerprint": "sha256:0011",
    "pinned": ["k1", "k2"],
    "checkpoints": ["c1.json", "c\x1b2.json"],
}


def test_the_provenance_header_lists_every_input_and_key() -> None:
    """REP-2.2: the header of a report handed to someone else, row by row."""
    s = Summary("verify", "a.ndjson", "2026-01-01T00:00:00Z", provenance=PROVENANCE)
    text = render_text(_result(), s)
    assert text.split("\n")[:10] == [
        "chainaudit verify a.ndjson: OK (exit 0)",
        "",
        f"  tool         chainaudit {__version__}, report made 2026-01-01T00:00:00Z",
        f"  input        a.ndjson sha256:{'ab' * 32}",
        "  input        b\\x1b.ndjson",
        f"  manifest     m.json sha256:{'cd' * 32}",
        "  umk          fingerprint sha256:0011",
        "  pinned keys  k1, k2",
        "  checkpoints  c1.json, c\\x1b2.json",
        "",
    ]
    assert text.split("\n")[10].startswith("  checked ")


def test_the_provenance_header_says_none_for_what_was_not_given() -> None:
    for manifest in ({"name": "m.json"}, {"sha256": "00"}, "m.json", None):
        s = Summary("verify", "x", provenance={"inputs": None, "manifest": manifest, "pinned": []})
        text = render_text(_result(), s, limit=1)
        head = text.split("\n")[2:7]
        want = [f"  tool         chainaudit {__version__}"]
        if isinstance(manifest, dict) and "name" in manifest:
            want.append("  manifest     m.json")
        want += ["  pinned keys  none", "  checkpoints  none", ""]
        assert head[: len(want)] == want, manifest


def test_the_provenance_header_comes_before_an_error() -> None:
    s = Summary("verify", "x", provenance={"umk_fingerprint": "f"}, error="boom", error_exit=2)
    assert render_text(_result(), s) == (
        "chainaudit verify x: ERROR (exit 2)\n"
        "\n"
        f"  tool         chainaudit {__version__}\n"
        "  umk          fingerprint f\n"
        "  pinned keys  none\n"
        "  checkpoints  none\n"
        "\n"
        "  error: boom\n"
    )


ASSURED = {
    "committed": Assurance("committed", Level.PROVEN, "every record committed"),
    "erasure": Assurance("erasure", Level.NOT_PROVEN, "no receipt\x1b"),
}


def test_the_assurance_table_of_an_ended_run() -> None:
    """REP-7: the table after an error, with the required family marked."""
    s = Summary("verify", "x", assurance=ASSURED, required=("erasure",), error="e", error_exit=3)
    assert render_text(_result(), s) == (
        "chainaudit verify x: UNVERIFIED (exit 3)\n"
        "\n"
        "  error: e\n"
        "\n"
        "  assurance   level       basis\n"
        "  committed   proven      every record committed\n"
        "  erasure*    NOT PROVEN  no receipt\\x1b\n"
        "  * required (--require): a family not proven ends the run in exit 3\n"
    )


def test_the_assurance_column_is_as_wide_as_its_header_at_least() -> None:
    short = {"x": Assurance("x", Level.PARTIAL, "b"), "y": Assurance("y", Level.NOT_APPLICABLE, "")}
    s = Summary("verify", "x", assurance=short, error="e", error_exit=2)
    assert render_text(_result(), s).split("\n")[3:7] == [
        "",
        "  assurance  level       basis",
        "  x          partial     b",
        "  y          n/a         ",
    ]
    one = Summary("verify", "x", assurance={"y": short["y"]})
    assert "\n  assurance  level       basis\n  y          n/a         \n" in render_text(
        _result(), one
    )


@pytest.mark.parametrize(
    ("mode", "suffix"),
    [("keyed", ", keyed"), ("keyless", ", keyless (no envelope authenticated)"), (None, "")],
)
def test_the_verdict_line_names_the_mode(mode: str | None, suffix: str) -> None:
    text = render_text(_result(), Summary("verify", "x", mode=mode))
    assert text.split("\n")[0] == f"chainaudit verify x: OK (exit 0){suffix}"


def test_the_text_shows_twenty_groups_by_default() -> None:
    r = _result(*(_error(f"x#{i}", f"m{i}") for i in range(21)))
    text = render_text(r, Summary("verify", "x"))
    assert "First 20 of 21 finding group(s) (21 finding(s)):" in text
    assert "at x#19\n" in text and "at x#20\n" not in text


@pytest.mark.parametrize(
    ("n", "more"), [(1, ""), (2, " (+1 more like it)"), (3, " (+2 more like it)")]
)
def test_a_group_of_findings_says_how_many_more(n: int, more: str) -> None:
    r = _result(*(_error(f"x#{i}") for i in range(n)))
    assert f"  [error] MANIFEST_RECORD_MISSING at x#0{more}\n" in render_text(r, Summary("v", "x"))


def test_errors_come_before_unverified_codes_whatever_their_names() -> None:
    """REP-2/REP-3: by_code lists error codes first, then unverified, then notices."""
    r = _result(
        Finding(codes.KEY_SHREDDED, "a", "m"),
        Finding(codes.KEY_MISSING, "b", "m"),
        _error(),
        Finding(codes.ASSURANCE_NOT_MET, "c", "m"),
    )
    doc = report_json(r, Summary("verify", "x"))
    assert list(doc["by_code"]) == [
        "MANIFEST_RECORD_MISSING",
        "ASSURANCE_NOT_MET",
        "KEY_MISSING",
        "KEY_SHREDDED",
    ]


def test_a_report_states_the_errors_exit_only_when_both_are_given() -> None:
    r = _result(_error())
    assert report_exit_code(r, Summary("v", "x", error="e", error_exit=3)) == 3
    assert report_exit_code(r, Summary("v", "x", error="e")) == exit_code_for(r) == 1
    assert report_exit_code(r, Summary("v", "x", error_exit=2)) == 1
    assert report_json(r, Summary("v", "x", error="e"))["exit_code"] == 1


def test_the_json_report_is_indented_and_keeps_utf8() -> None:
    r = _result(Finding(codes.KEY_SHREDDED, "dialogue:é", "m", extra={"p": Path("a/b"), "n": 1}))
    text = render_json(r, Summary("verify", "é.ndjson"))
    assert text.startswith('{\n  "type": "chainaudit/report",\n  "version": 2,\n  "tool": {\n')
    assert '  "subject": "é.ndjson",\n' in text and text.endswith("}\n")
    assert '"extra": {\n        "p": "a/b",\n        "n": 1\n      }' in text


def test_the_summary_round_trips_through_json_with_its_provenance() -> None:
    s = Summary(
        "gate post",
        "x",
        "t",
        mode="keyed",
        assurance=ASSURED,
        required=("erasure",),
        error="e",
        error_exit=3,
        provenance=PROVENANCE,
    )
    assert summary_from_json(summary_to_json(s)) == s
    assert summary_from_json({"command": "c", "subject": "s"}) == Summary("c", "s")


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("postgresql://u:p@h/db", "postgresql://u:***@h/db"),
        ("postgresql://u:p@ss@h/db", "postgresql://u:***@h/db"),
        ("postgresql://u:p:q@h/db", "postgresql://u:***@h/db"),
        ("postgresql://u:p@h/db?next=s://v:w@z", "postgresql://u:***@z"),
        ("postgresql://u:p@h/db?x=a://b", "postgresql://u:***@h/db?x=a://b"),
        ("postgresql://host:5432/db", "postgresql://host:5432/db"),
        ("postgresql://u@h:5432/db", "postgresql://u@h:5432/db"),
        ("s://@h:1", "s://@h:1"),
        ("host=db password=x&y=1 PASSWORD=z", "host=db password=***&y=1 PASSWORD=***"),
    ],
)
def test_redaction_hides_exactly_the_password(text: str, shown: str) -> None:
    assert redact(text) == shown


@given(
    st.text(
        st.characters(codec="ascii", categories=["L", "N", "P", "S"], exclude_characters="@:/"),
        min_size=1,
    ),
    st.text(st.characters(exclude_categories=["Z", "C"]), min_size=1),
)
def test_redaction_hides_any_password_for_all_users(user: str, password: str) -> None:
    shown = redact(f"postgresql://{user}:{password}@db.example/blue")
    assert shown == f"postgresql://{user}:***@db.example/blue"


def test_a_control_character_is_escaped_by_its_width() -> None:
    r = _result(_error("a\x7fb\x9fc\ufffed\uffffe\U000e0001f"))
    line = next(ln for ln in render_text(r, Summary("v", "x")).split("\n") if "[error]" in ln)
    assert line == "  [error] MANIFEST_RECORD_MISSING at a\\x7fb\\x9fc\\ufffed\\uffffe\\U000e0001f"


def _junit(result: Result, summary: Summary, applicable: Any = ()) -> ET.Element:
    root = ET.fromstring(render_junit(result, summary, applicable))
    (suite,) = root.findall("testsuite")
    return suite


def test_junit_counts_every_unverified_code_and_the_run_error() -> None:
    r = _result(Finding(codes.KEY_MISSING, "a", "m"), Finding(codes.ASSURANCE_NOT_MET, "b", "m"))
    suite = _junit(r, Summary("v", "x"))
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("2", "0", "2")
    suite = _junit(r, Summary("v", "x", error="e", error_exit=3))
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "0", "3")


def test_junit_has_a_case_for_every_assurance_family() -> None:
    families = {
        "anchored": Assurance("anchored", Level.PROVEN, "p"),
        "committed": Assurance("committed", Level.NOT_APPLICABLE, "n"),
        "erasure": Assurance("erasure", Level.PARTIAL, "some"),
        "complete": Assurance("complete", Level.NOT_PROVEN, "none"),
    }
    suite = _junit(_result(), Summary("v", "x", assurance=families, required=("complete",)))
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert list(cases) == list(families)
    assert [len(cases[f]) for f in ("anchored", "committed")] == [0, 0]
    skipped = cases["erasure"].find("skipped")
    assert skipped is not None and skipped.get("message") == "partial: some"
    error = cases["complete"].find("error")
    assert error is not None and error.get("type") == "ASSURANCE_NOT_MET"
    assert (suite.get("tests"), suite.get("errors"), suite.get("skipped")) == ("4", "1", "1")


@pytest.mark.parametrize(
    ("n", "tail"), [(100, None), (101, "... and 1 more"), (102, "... and 2 more")]
)
def test_junit_lists_a_hundred_findings_per_case(n: int, tail: str | None) -> None:
    r = _result(*(_error(f"x#{i}") for i in range(n)))
    suite = _junit(r, Summary("v", "x"))
    failure = suite.find("testcase/failure")
    assert failure is not None and failure.text is not None
    lines = failure.text.split("\n")
    assert lines[99] == "x#99: m"
    assert lines[100:] == [
        *([tail] if tail else []),
        f"What to do: {codes.MANIFEST_RECORD_MISSING.advice}",
    ]


# --- commitments/verify.py ----------------------------------------------------------

COMMIT_VECTORS = sorted(
    (Path(__file__).resolve().parent.parent / "vectors" / "commitment").rglob("*.json")
)


def _vector(path: Path) -> tuple[list[Record], TrustStore, list[ChainExpectation]]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    trust = TrustStore.of(bytes.fromhex(k) for k in doc["trusted_keys"])
    expectations = []
    for cp in doc["checkpoints"]:
        got = verify_checkpoint(cp, trust, "cp")
        assert isinstance(got, ChainExpectation)
        expectations.append(got)
    return records_of(doc), trust, expectations


def _dialogue_of(r: Record) -> str:
    return r.address.dialogue if isinstance(r, EntityRecord) else r.dialogue  # type: ignore[union-attr]


def _feed(v: CommitmentVerifier, records: Iterable[Record]) -> None:
    for r in records:
        if isinstance(r, EntityRecord) and r.address.entity_type is EntityType.EVENT:
            ev = chain_event_from_entity(r)
            if isinstance(ev, AuditEvent):
                v.add_event(ev)
        else:
            v.add(r)


def _outcome(result: Result) -> tuple[list[dict[str, Any]], dict[str, int]]:
    return [f.to_json() for f in result.findings], {n: result.checked[n] for n in COUNTERS}


@pytest.mark.parametrize("lazy_max", [0, 1, 2048])
@pytest.mark.parametrize("path", COMMIT_VECTORS, ids=lambda p: p.stem)
def test_grouped_judging_is_the_spooled_judging(
    path: Path, lazy_max: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """COMMIT-6/8: judging each dialogue from memory as its group ends (one
    verifier, or one per dialogue merged) gives the spooled verifier's result,
    whether a record's digests wait for a commitment to ask (at most
    LAZY_MAX records of a group) or are computed at once (lazy_max 0)."""
    import chainaudit.commitments.verify as cv

    monkeypatch.setattr(cv, "LAZY_MAX", lazy_max)
    records, trust, expectations = _vector(path)
    want = _outcome(verify_commitments(records, trust, expectations))
    by_dialogue: dict[str, list[Record]] = {}
    for r in records:
        by_dialogue.setdefault(_dialogue_of(r), []).append(r)
    # one grouped verifier, finished as the spooled one is
    with CommitmentVerifier(trust, expectations, grouped=True) as v:
        for group in by_dialogue.values():
            _feed(v, group)
            v.end_group()
        assert _outcome(v.finish()) == want
    # one verifier per dialogue (workers), merged
    parts = []
    for group in reversed(by_dialogue.values()):
        with CommitmentVerifier(trust, expectations, grouped=True) as v:
            _feed(v, group)
            parts.append(v.take_judged())
    assert _outcome(merge_judged(parts)) == want
    # a grouped verifier may also be fed everything as one group
    with CommitmentVerifier(trust, expectations, grouped=True) as v:
        _feed(v, records)
        assert _outcome(merge_judged([v.take_judged()])) == want


def test_a_spool_larger_than_a_batch_is_judged_whole(tmp_path: Path) -> None:
    """The spool writes in batches of 5,000 rows: every row reaches the judging."""
    records, trust, expectations = _vector(COMMIT_VECTORS[0])
    with CommitmentVerifier(trust, expectations, str(tmp_path)) as v:
        assert v.path.parent == tmp_path
        _feed(v, records)
        for i in range(5001):
            v.add(EntityRecord(Address.of("d-x", "meta"), {"n": {"N": str(i)}}, None))
        result = v.finish()
    assert (
        result.checked["records_uncommitted"]
        == 5001
        + _outcome(verify_commitments(records, trust, expectations))[1]["records_uncommitted"]
    )
    assert not v.path.exists()


TRUST = TrustStore.of(
    public_bytes(signer(label))
    for label in ("checkpoint-signer", "erasure-authority", "migration-signer")
)


def _verify(w: DialogueWriter, records: Iterable[Record] | None = None) -> Result:
    events = [lifecycle_record(w.dialogue, f) for f in w.events]
    return verify_commitments(
        [*(w.records.values() if records is None else records), *events], TRUST
    )


def _counters(result: Result) -> dict[str, int]:
    return {n: result.checked[n] for n in COUNTERS if result.checked[n]}


def test_a_commitment_at_seq_zero_is_unanchored_without_an_anchor() -> None:
    w = DialogueWriter("d-1")
    w.new_key(1)
    result = _verify(w)
    assert result.findings == []
    assert _counters(result) == {"records_committed_unanchored": 1}


def _bounded(**change: Any) -> DialogueWriter:
    """seq 0 dek#1, 1 meta, 2 a boundary of source_count 2 (``change``: its fields,
    re-signed by ``label``), 3 a claim."""
    label = change.pop("label", "migration-signer")
    w = DialogueWriter("d-1")
    w.new_key(1)
    w.entity(EntityType.META, (), {"title": "t"})
    w.boundary(label)
    fields = {**w.events[-1], **change}
    fields["signature"] = sign(signer(label), boundary_message(fields)).hex()
    w.events[-1] = seal(fields)
    w.entity(EntityType.CLAIM, ("01", "01"), {"text": "after"})
    return w


def test_a_pinned_boundary_anchors_the_commitments_before_it() -> None:
    """COMMIT-5: a boundary anchors its source prefix; what follows it is unanchored."""
    result = _verify(_bounded())
    assert result.findings == []
    assert _counters(result) == {"records_committed": 2, "records_committed_unanchored": 1}


@pytest.mark.parametrize(
    "change",
    [
        {"label": "mallory"},  # not pinned
        {"target_chain_id": "dialogue:d-2/events"},  # another chain's boundary, signed
        {"seq": 3},  # not at its own source_count
        {"source_count": 1},  # ... nor this one
        {"source_tip_hash": "00" * 32},  # not continuing the tip it names
    ],
)
def test_a_boundary_that_is_not_pinned_valid_and_in_place_anchors_nothing(
    change: dict[str, Any],
) -> None:
    result = _verify(_bounded(**change))
    assert [f.code.name for f in result.findings] == []
    assert _counters(result) == {"records_committed_unanchored": 3}


def test_a_boundary_whose_signature_does_not_verify_anchors_nothing() -> None:
    w = _bounded()
    fields = dict(w.events[2])
    fields["signature"] = "00" * 64
    w.events[2] = seal(fields)
    assert _counters(_verify(w)) == {"records_committed_unanchored": 3}


def _shredded(**receipt: Any) -> tuple[DialogueWriter, dict[str, Any]]:
    """dek#1, meta, then a receipt for dek#1 (``receipt``: its fields, re-signed)
    and dek#1 destroyed. Returns the writer and the receipt."""
    w = DialogueWriter("d-1")
    w.new_key(1)
    w.entity(EntityType.META, (), {"title": "t"})
    w.shred(1)
    i = next(i for i, e in enumerate(w.events) if e["event_type"] == "erasure_receipt")
    fields = {**w.events[i], **receipt}
    fields.pop("signature")
    fields["signature"] = sign(
        signer("erasure-authority"), receipt_message(w.chain_id, fields)
    ).hex()
    w.events[i] = seal(fields)
    return w, w.events[i]


def _receipt_finding(result: Result) -> tuple[Any, ...]:
    (f,) = [f for f in result.findings if f.code.name.startswith("ERASURE_RECEIPT")]
    return (f.code.name, f.where, f.expected, f.actual, f.extra["event_id"], f.extra["seq"])


def test_a_receipt_is_stored_at_the_tip_it_names_by_count_and_hash() -> None:
    """COMMIT-8 step 3: a wrong tip count alone, or a wrong tip hash alone, is a mismatch."""
    w, r = _shredded()
    assert _verify(w).findings == []
    # a valid receipt anchors what precedes it (the meta, not the destroyed key's record)
    assert _counters(_verify(w)) == {
        "erasures_signed": 1,
        "records_committed": 1,
        "records_committed_unanchored": 1,
    }
    for change in ({"tip_count": r["seq"] + 1}, {"tip_hash": "ab" * 32}):
        w, r = _shredded(**change)
        want = (
            "ERASURE_RECEIPT_MISMATCH",
            f"chain:{w.chain_id}@{r['seq']}",
            f"seq={r['tip_count']} previous_hash={r['tip_hash']}",
            f"seq={r['seq']} previous_hash={r['previous_hash']}",
            r["event_id"],
            r["seq"],
        )
        assert _receipt_finding(_verify(w)) == want, change
        assert [f.message for f in _verify(w).findings] == [
            "the receipt is not stored at the chain tip it names: events were inserted before "
            "it, or it was moved"
        ]
        assert _counters(_verify(w)) == {
            "erasures_unproven": 1,
            "records_committed_unanchored": 2,
        }


def test_a_receipt_for_a_key_still_active_names_its_state() -> None:
    w, _ = _shredded()
    records = {**w.records, "dek#d-1#1": _active(w)}
    result = _verify(w, records.values())
    (f,) = [f for f in result.findings if f.code.name == "ERASURE_RECEIPT_MISMATCH"]
    assert (f.expected, f.actual) == ("destroyed", "active")
    assert f.message == (
        "the receipt says this key was destroyed, but the source holds it in state active: "
        "the erasure did not take effect"
    )


def test_a_receipt_for_a_key_without_a_record_says_it_is_absent() -> None:
    w, _ = _shredded()
    records = [rec for k, rec in w.records.items() if k != "dek#d-1#1"]
    (f,) = [f for f in _verify(w, records).findings if f.code.name == "ERASURE_RECEIPT_MISMATCH"]
    assert (f.expected, f.actual) == ("destroyed", "absent")
    assert "holds no wrapped-DEK record for it: the erasure" in f.message


def test_a_receipt_names_the_records_destruction_time_when_they_differ() -> None:
    w, _ = _shredded(destroyed_at="2026-01-01T00:00:00.000Z")
    (f,) = [f for f in _verify(w).findings if f.code.name == "ERASURE_RECEIPT_MISMATCH"]
    dek_record = w.records["dek#d-1#1"]
    assert isinstance(dek_record, WrappedDek)
    assert (f.expected, f.actual) == ("2026-01-01T00:00:00.000Z", dek_record.destroyed_at)
    assert f.message == (
        "the receipt's destruction time is not the wrapped-DEK record's destroyed_at"
    )


def _active(w: DialogueWriter) -> WrappedDek:
    rec = w.records["dek#d-1#1"]
    assert isinstance(rec, WrappedDek)
    return dataclasses.replace(rec, state=KeyState.ACTIVE, destroyed_at=None)


def test_findings_name_the_records_origin_and_none_without_one() -> None:
    """The spooled and the grouped verifier keep each record's origin for its finding."""
    w = DialogueWriter("d-1")
    w.new_key(1)
    meta = w.entity(EntityType.META, (), {"title": "t"}, {"status": {"S": "open"}})
    assert isinstance(meta, EntityRecord)
    edited = dataclasses.replace(meta, attributes={**meta.attributes, "x": {"S": "y"}})
    for origin, source in (("file.ndjson:7", "file.ndjson:7"), ("", None)):
        records = [w.records["dek#d-1#1"], dataclasses.replace(edited, origin=origin)]
        (f,) = _verify(w, records).findings
        assert (f.code.name, f.source) == ("COMMIT_MISMATCH", source)
        with CommitmentVerifier(TRUST, grouped=True) as v:
            _feed(v, [*records, *(lifecycle_record("d-1", e) for e in w.events)])
            (g,) = merge_judged([v.take_judged()]).findings
        assert g.to_json() == f.to_json()


def _meta_copies() -> tuple[DialogueWriter, list[EntityRecord]]:
    """A dialogue with its meta record, and four differing copies of that record."""
    w = DialogueWriter("d-1")
    w.new_key(1)
    meta = w.entity(EntityType.META, (), {"title": "t"})
    assert isinstance(meta, EntityRecord)
    copies = [
        dataclasses.replace(meta, attributes={**meta.attributes, "x": {"S": str(i)}})
        for i in range(4)
    ]
    return w, copies


def test_copies_of_one_record_are_judged_in_the_order_read() -> None:
    w, copies = _meta_copies()
    actual = [item_digest(c, "sha256") for c in copies]
    for order in (copies, copies[::-1]):
        result = _verify(w, [w.records["dek#d-1#1"], *order])
        want = actual if order is copies else actual[::-1]
        assert [f.actual for f in result.findings] == want


def test_the_canonical_json_given_is_the_one_committed_to() -> None:
    """COMMIT-3: add(record, item_json) digests the bytes the caller read."""
    w = DialogueWriter("d-1")
    w.new_key(1)
    meta = w.entity(EntityType.META, (), {"title": "t"})
    events = [lifecycle_record("d-1", e) for e in w.events]
    for item_json, codes_ in ((canonical_record_json(meta), []), (b"{}", ["COMMIT_MISMATCH"])):
        with CommitmentVerifier(TRUST) as v:
            _feed(v, events)
            v.add(w.records["dek#d-1#1"])
            v.add(meta, item_json)
            assert [f.code.name for f in v.finish().findings] == codes_


def test_lifecycle_events_given_as_records_are_not_committable() -> None:
    """COMMIT-4: an event entity handed to add() is ignored (its chain event
    goes to add_event), so a committed dialogue's events are never COMMIT_MISSING."""
    w = DialogueWriter("d-1")
    w.new_key(1)
    w.entity(EntityType.META, (), {"title": "t"})
    events = [lifecycle_record("d-1", e) for e in w.events]
    with CommitmentVerifier(TRUST) as v:
        _feed(v, [*w.records.values(), *events])
        for e in events:
            v.add(e)
        result = v.finish()
    assert result.findings == []
    assert _counters(result) == {"records_committed_unanchored": 2}


def test_every_destroyed_key_of_a_dialogue_is_counted() -> None:
    """COMMIT-8: each destroyed key is signed or unproven, whatever keys sort before it."""
    w = DialogueWriter("d-1")
    w.new_key(1)
    w.new_key(2)  # dek#1 retired: not destroyed
    w.new_key(3)
    w.shred(2)
    result = _verify(w)
    assert result.findings == []
    assert result.checked["erasures_signed"] == 1 and result.checked["erasures_unproven"] == 0
    w.shred(3, authority=None)
    result = _verify(w)
    assert [(f.code.name, f.where) for f in result.findings] == [("ERASURE_UNSIGNED", "dek#d-1#3")]
    assert result.checked["erasures_signed"] == 1 and result.checked["erasures_unproven"] == 1
    u = DialogueWriter("d-1")
    u.new_key(1)
    u.new_key(2)
    u.shred(1, authority=None)
    u.shred(2, authority=None)
    result = _verify(u)
    assert [f.where for f in result.findings] == ["dek#d-1#1", "dek#d-1#2"]
    assert result.checked["erasures_unproven"] == 2


def _json(result: Result) -> list[dict[str, Any]]:
    return [f.to_json() for f in result.findings]


def test_commitment_findings_are_pinned_exactly() -> None:
    """COMMIT-6 findings, each field: a blake3 dialogue (digests quoted under
    the commitment's algorithm), the records read from origins f:1..f:4."""
    w = DialogueWriter("d-1", alg="blake3")
    w.new_key(1)
    old = w.entity(EntityType.META, (), {"title": "t"}, {"status": {"S": "open"}}, label="v1")
    w.entity(EntityType.META, (), {"title": "t2"}, {"status": {"S": "closed"}}, label="v2")
    c1 = w.entity(EntityType.CLAIM, ("01", "01"), {"text": "a"})
    c2 = w.entity(EntityType.CLAIM, ("01", "02"), {"text": "b"})
    w.delete(str(c2.address))
    assert isinstance(old, EntityRecord) and isinstance(c1, EntityRecord)
    assert isinstance(c2, EntityRecord)
    edited = dataclasses.replace(c1, attributes={"x": {"S": "y"}}, origin="f:2")
    planted = dataclasses.replace(c1, address=Address.of("d-1", "claim", "09", "09"), origin="f:4")
    dek1 = w.records.pop("dek#d-1#1")
    records = [
        dataclasses.replace(old, origin="f:1"),
        edited,
        dataclasses.replace(c2, origin="f:3"),
        planted,
    ]
    chain = "dialogue:d-1/events"

    def b3(r: Record) -> str:
        return item_digest(r, "blake3")

    def extra(key: str, seq: int | None, **more: Any) -> dict[str, Any]:
        return {"chain_id": chain, "seq": seq, "record_key": key, **more}

    meta, k1, k2, k9 = (
        "dialogue:d-1/entity:meta",
        str(c1.address),
        str(c2.address),
        str(planted.address),
    )
    assert _json(_verify(w, records)) == [
        {
            "code": "COMMIT_RECORD_MISSING",
            "severity": "error",
            "where": "dek#d-1#1",
            "message": f"the record's latest commitment (chain:{chain}@0) puts it, but the source "
            "does not hold it: it was deleted without a delete commitment",
            "spec": "COMMIT-6",
            "expected": b3(dek1),
            "actual": "absent",
            "extra": extra("dek#d-1#1", 0),
        },
        {
            "code": "COMMIT_MISMATCH",
            "severity": "error",
            "where": k1,
            "message": f"the record differs from its latest commitment (chain:{chain}@3) and from "
            "every earlier committed version: it (envelope or cleartext attributes) was edited "
            "after it was committed, or the commitment was forged",
            "spec": "COMMIT-6",
            "expected": b3(c1),
            "actual": b3(edited),
            "source": "f:2",
            "extra": extra(k1, 3),
        },
        {
            "code": "COMMIT_ROLLBACK",
            "severity": "error",
            "where": k2,
            "message": f"the record is the version committed at chain:{chain}@4, not the latest "
            "one (@5, which deletes it): it was rolled back to an older, validly sealed version",
            "spec": "COMMIT-6",
            "expected": "deleted",
            "actual": b3(c2),
            "source": "f:3",
            "extra": extra(k2, 5, matches_seq=4),
        },
        {
            "code": "COMMIT_MISSING",
            "severity": "error",
            "where": k9,
            "message": f"no commitment in {chain} names this record, though the dialogue's "
            "records are committed: it was planted, or written around the writer",
            "spec": "COMMIT-6",
            "expected": "a record_commit event for this key",
            "actual": "none",
            "source": "f:4",
            "extra": extra(k9, None),
        },
        {
            "code": "COMMIT_ROLLBACK",
            "severity": "error",
            "where": meta,
            "message": f"the record is the version committed at chain:{chain}@1, not the latest "
            "one (@2): it was rolled back to an older, validly sealed version",
            "spec": "COMMIT-6",
            "expected": b3(w.records[meta]),
            "actual": b3(old),
            "source": "f:1",
            "extra": extra(meta, 2, matches_seq=1),
        },
    ]


def test_a_record_present_after_its_delete_commitment_in_an_unnamed_version() -> None:
    w = DialogueWriter("d-1", alg="blake3")
    w.new_key(1)
    c = w.entity(EntityType.CLAIM, ("01", "01"), {"text": "a"})
    w.delete(str(c.address))
    assert isinstance(c, EntityRecord)
    edited = dataclasses.replace(c, attributes={"x": {"S": "y"}})
    (f,) = _verify(w, [*w.records.values(), edited]).findings
    assert (f.code.name, f.expected, f.actual, f.source) == (
        "COMMIT_MISMATCH",
        "deleted",
        item_digest(edited, "blake3"),
        None,
    )
    assert f.message == (
        "the record's latest commitment (chain:dialogue:d-1/events@2) deletes it, yet it is "
        "present, in a version no commitment names"
    )


def test_erasure_findings_are_pinned_exactly() -> None:
    """COMMIT-8 findings, each field: records after an erasure (committed after
    the receipt, or never), and a key destroyed with no receipt."""
    w = DialogueWriter("d-2")
    w.new_key(1)
    w.entity(EntityType.META, (), {"title": "t"})
    w.shred(1)
    late = w.entity(EntityType.CLAIM, ("01", "01"), {"text": "late"})
    planted = dataclasses.replace(
        late, address=Address.of("d-2", "claim", "09", "09"), origin="f:9"
    )
    chain = "dialogue:d-2/events"
    result = _verify(w, [*w.records.values(), planted])

    def after(where: str, how: str, actual: str, seq: int | None) -> dict[str, Any]:
        return {
            "code": "ERASURE_RECORD_AFTER",
            "severity": "error",
            "where": where,
            "message": f"this record is sealed under dek#d-2#1, which the erasure receipt at "
            f"chain:{chain}@2 destroyed, but {how}: it appeared after the erasure (planted, "
            "or restored)",
            "spec": "COMMIT-8",
            "expected": "a commitment before seq 2",
            "actual": actual,
            "extra": {"chain_id": chain, "seq": seq, "record_key": where, "key_id": "dek#d-2#1"},
        }

    assert _json(result) == [
        after(
            str(late.address), "its latest commitment is at @4, after the receipt's tip", "seq 4", 4
        ),
        {**after(str(planted.address), "no commitment names it", "none", None), "source": "f:9"},
    ]
    assert _counters(result) == {
        "erasures_signed": 1,
        "records_committed": 1,
        "records_committed_unanchored": 1,
    }
    u = DialogueWriter("d-3")
    u.new_key(1)
    u.shred(1, authority=None)
    records = [dataclasses.replace(r, origin="f:5") for r in u.records.values()]
    assert _json(_verify(u, records)) == [
        {
            "code": "ERASURE_UNSIGNED",
            "severity": "unverified",
            "where": "dek#d-3#1",
            "message": "this key was destroyed, but no erasure receipt in its dialogue's "
            "lifecycle chain proves it was destroyed on purpose: anyone who can write to the "
            "store can mark a key destroyed",
            "spec": "COMMIT-8",
            "expected": "an erasure_receipt event for dek#d-3#1 in dialogue:d-3/events",
            "actual": "none",
            "source": "f:5",
            "extra": {"chain_id": "dialogue:d-3/events", "seq": None, "key_id": "dek#d-3#1"},
        }
    ]


def test_a_receipt_finding_names_the_receipt_event() -> None:
    w = DialogueWriter("d-1")
    w.new_key(1)
    w.shred(1, authority="mallory")
    receipt = next(e for e in w.events if e["event_type"] == "erasure_receipt")
    (f,) = _verify(w).findings
    assert f.to_json() == {
        "code": "ERASURE_SIGNER_UNTRUSTED",
        "severity": "unverified",
        "where": f"chain:dialogue:d-1/events@{receipt['seq']}",
        "message": "the erasure receipt's signer is not a pinned key, so the destruction is not "
        "proven lawful",
        "spec": "COMMIT-8",
        "actual": receipt["signer_key_id"],
        "extra": {
            "chain_id": "dialogue:d-1/events",
            "seq": receipt["seq"],
            "event_id": receipt["event_id"],
            "key_id": "dek#d-1#1",
        },
    }


def test_every_copy_of_a_record_is_judged() -> None:
    """COMMIT-6: a key read twice is judged twice: counted twice in an
    uncommitted dialogue, reported twice after an erasure."""
    meta = EntityRecord(Address.of("d-1", "meta"), {}, None)
    result = verify_commitments([meta, meta, meta])
    assert _counters(result) == {"records_uncommitted": 3}
    w = DialogueWriter("d-2")
    w.new_key(1)
    w.shred(1)
    late = w.entity(EntityType.CLAIM, ("01", "01"), {"text": "late"})
    result = _verify(w, [*w.records.values(), late])  # late is among the records too
    assert [f.code.name for f in result.findings] == ["ERASURE_RECORD_AFTER"] * 2


def test_a_commitment_at_the_receipts_own_seq_is_not_before_it() -> None:
    """COMMIT-8: only a commitment strictly before the receipt's seq predates
    the erasure (here a forked commitment stored at the receipt's seq)."""
    w = DialogueWriter("d-2")
    w.new_key(1)
    w.shred(1)
    at = next(e for e in w.events if e["event_type"] == "erasure_receipt")
    claim = w.entity(EntityType.CLAIM, ("01", "01"), {"text": "forked"})
    fork = {**w.events[-1], "seq": at["seq"], "previous_hash": at["previous_hash"]}
    w.events[-1] = seal(fork)
    (f,) = _verify(w).findings
    assert (f.code.name, f.where, f.actual) == (
        "ERASURE_RECORD_AFTER",
        str(claim.address),
        f"seq {at['seq']}",
    )


def _reversed_event_ids(w: DialogueWriter) -> None:
    """Give the chain's events event ids in the reverse of their seq order."""
    n = len(w.events)
    for i, e in enumerate(w.events):
        w.events[i] = seal({**e, "event_id": make_uuid7(T0_MS + 10_000 * (n - i), 1, i)})


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(COMMIT_VECTORS), st.randoms(use_true_random=False))
def test_records_and_events_may_come_in_any_order(path: Path, rnd: Any) -> None:
    """COMMIT-6/8: for all orders of a vector's items, spooled and grouped
    verifiers judge each dialogue's events in seq order, giving one result."""
    records, trust, expectations = _vector(path)
    want = _outcome(verify_commitments(records, trust, expectations))
    shuffled = list(records)
    rnd.shuffle(shuffled)
    assert _outcome(verify_commitments(shuffled, trust, expectations)) == want
    with CommitmentVerifier(trust, expectations, grouped=True) as v:
        _feed(v, shuffled)
        assert _outcome(merge_judged([v.take_judged()])) == want


def test_events_are_ordered_by_seq_not_by_event_id() -> None:
    """A rollback is judged against the commitment latest in seq, whatever the
    event ids say (spooled and grouped)."""
    w = DialogueWriter("d-1")
    w.new_key(1)
    v1 = w.entity(EntityType.META, (), {"title": "v1"}, label="v1")
    w.entity(EntityType.META, (), {"title": "v2"}, label="v2")
    _reversed_event_ids(w)
    records = [w.records["dek#d-1#1"], v1]
    items = [*records, *(lifecycle_record("d-1", e) for e in w.events)]
    want = [("COMMIT_ROLLBACK", 2)]
    result = verify_commitments(items, TRUST)
    assert [(f.code.name, f.extra["seq"]) for f in result.findings] == want
    with CommitmentVerifier(TRUST, grouped=True) as v:
        _feed(v, reversed(items))
        got = merge_judged([v.take_judged()]).findings
    assert [(f.code.name, f.extra["seq"]) for f in got] == want


def test_grouped_copies_of_one_record_are_judged_in_the_order_read() -> None:
    w, copies = _meta_copies()
    events = [lifecycle_record("d-1", e) for e in w.events]
    for order in (copies, copies[::-1]):
        with CommitmentVerifier(TRUST, grouped=True) as v:
            _feed(v, [*events, w.records["dek#d-1#1"], *order])
            got = merge_judged([v.take_judged()]).findings
        assert [f.actual for f in got] == [item_digest(c, "sha256") for c in order]


def test_the_largest_expected_count_of_a_chain_anchors_it() -> None:
    """COMMIT-5: of several expectations of one chain the largest count anchors;
    a count of 0 anchors nothing."""
    w = DialogueWriter("d-1")
    w.new_key(1)
    w.entity(EntityType.META, (), {"title": "t"})
    w.entity(EntityType.CLAIM, ("01", "01"), {"text": "c"})
    items = [*w.records.values(), *(lifecycle_record("d-1", e) for e in w.events)]

    def expect(*counts: int) -> dict[str, int]:
        xs = [ChainExpectation(w.chain_id, n, "00" * 32) for n in counts]
        return _counters(verify_commitments(items, TRUST, xs))

    assert expect(0) == {"records_committed_unanchored": 3}
    assert expect(2, 1) == {"records_committed": 2, "records_committed_unanchored": 1}
    assert expect(1, 3, 2) == {"records_committed": 3}
    other = ChainExpectation("dialogue:d-2/events", 3, "00" * 32)
    assert _counters(verify_commitments(items, TRUST, [other])) == {
        "records_committed_unanchored": 3
    }


def test_without_a_trust_store_no_receipt_or_boundary_is_trusted() -> None:
    w = DialogueWriter("d-1")
    w.new_key(1)
    w.entity(EntityType.META, (), {"title": "t"})
    w.boundary()
    w.shred(1)
    items = [*w.records.values(), *(lifecycle_record("d-1", e) for e in w.events)]
    result = verify_commitments(items)
    assert [f.code.name for f in result.findings] == ["ERASURE_SIGNER_UNTRUSTED"]
    assert _counters(result) == {"erasures_unproven": 1, "records_committed_unanchored": 2}


def test_the_spool_is_a_named_file_in_the_directory_given_removed_at_close(
    tmp_path: Path,
) -> None:
    v = CommitmentVerifier(directory=str(tmp_path))
    assert v.path.parent == tmp_path and v.path.name.startswith("chainaudit-commit-")
    assert v.path.exists()
    v.finish()
    assert list(tmp_path.iterdir()) == []
    v.close()  # idempotent
    gone = CommitmentVerifier(directory=str(tmp_path))
    gone.path.unlink()  # a temporary-file cleaner was faster
    gone.close()
    assert list(tmp_path.iterdir()) == []


def test_a_commitment_under_an_unknown_algorithm_matches_nothing() -> None:
    """COMMIT-6: a digest under an algorithm the verifier does not know never
    matches; the record's own SHA-256 digest is quoted."""
    w = DialogueWriter("d-1")
    w.new_key(1)
    meta = w.entity(EntityType.META, (), {"title": "t"})
    w.events[-1] = {**w.events[-1], "hash_alg": "sha3-256"}  # left unsealed: CHAIN's to report
    (f,) = _verify(w).findings
    assert (f.code.name, f.where, f.actual) == (
        "COMMIT_MISMATCH",
        str(meta.address),
        item_digest(meta, "sha256"),
    )


def test_of_two_events_at_one_seq_and_id_the_one_read_last_is_latest() -> None:
    """COMMIT-6: events are ordered by seq, event id, then arrival."""
    w = DialogueWriter("d-1")
    w.new_key(1)
    w.entity(EntityType.META, (), {"title": "v1"}, label="v1")
    v2 = w.entity(EntityType.META, (), {"title": "v2"}, label="v2")
    first, second = w.events[1], w.events[2]
    w.events[2] = seal({**second, "seq": first["seq"], "event_id": first["event_id"]})
    events = [lifecycle_record("d-1", e) for e in w.events]
    records = [w.records["dek#d-1#1"], v2]
    for order, codes_ in ((events, []), ([events[0], events[2], events[1]], ["COMMIT_ROLLBACK"])):
        assert [f.code.name for f in verify_commitments([*records, *order], TRUST).findings] == (
            codes_
        )
        with CommitmentVerifier(TRUST, grouped=True) as v:
            _feed(v, [*records, *order])
            got = merge_judged([v.take_judged()]).findings
        assert [f.code.name for f in got] == codes_


def test_the_default_verifier_spools_every_5000_rows() -> None:
    """Memory stays bounded: records and events go to the spool file in
    batches of 5,000 (a grouped verifier keeps its group in memory instead)."""
    w = DialogueWriter("d-1")
    w.new_key(1)
    commit = chain_event_from_entity(lifecycle_record("d-1", w.events[0]))
    assert isinstance(commit, AuditEvent)
    meta = EntityRecord(Address.of("d-1", "meta"), {}, None)
    rows = "SELECT (SELECT count(*) FROM rec), (SELECT count(*) FROM ev)"
    with CommitmentVerifier() as v:
        for _ in range(4999):
            v.add_event(commit)
        assert v._db.execute(rows).fetchone() == (0, 0)
        v.add_event(commit)
        assert v._db.execute(rows).fetchone() == (0, 5000)
        for _ in range(4999):
            v.add(meta)
        assert v._db.execute(rows).fetchone() == (0, 5000)
        v.add(meta)
        assert v._db.execute(rows).fetchone() == (5000, 5000)
        result = v.finish()
    assert Counter(f.code.name for f in result.findings) == {
        "COMMIT_MISSING": 5000,
        "COMMIT_RECORD_MISSING": 1,
    }


def test_a_code_without_advice_gets_no_what_to_do_line() -> None:
    bare = Code("MANIFEST_RECORD_MISSING", Severity.ERROR, "MAN-4", "a record is missing")
    r = _result(Finding(bare, "x#1", "m"))
    failure = _junit(r, Summary("v", "x")).find("testcase/failure")
    assert failure is not None and failure.text == "x#1: m"
    assert "what to do" not in render_text(r, Summary("v", "x"))


def _legacy_sealed(stored_hash: str) -> EntityRecord:
    k = kid(A)
    ct = crypto.gcm_encrypt(dek(k), nonce("legacy"), legacy_aad_for(A), b'{"a":1}')
    return EntityRecord(A, {}, Envelope(ct, nonce("legacy"), k, stored_hash))


W = str(A)
LEGACY = (
    "aad_hash is the legacy SHA-256(pk||sk): sealed under the pre-v1 AAD, which binds the "
    "ciphertext to DynamoDB keys and is not portable"
)
MISMATCH = "aad_hash is not the SHA-256 of this record's address"
STATED = " (as stated by the vector)"


def _envelope_cases() -> list[tuple[EntityRecord, Any, list[tuple[Any, ...]]]]:
    """(record, resolver, its findings as (code, where, message, expected, actual))."""
    sound = sealed_record(A)
    assert sound.envelope is not None
    ct = sound.envelope.ciphertext
    ref = Address.of("d-1", "ref", "a", "cites", "b")
    long_ = sealed_record(A, {"long enough": "to keep 16 bytes after the cut"})
    assert long_.envelope is not None
    return [
        (EntityRecord(A, {}, None), None, [("ENVELOPE_MISSING", W, "a claim must be encrypted but has no envelope", None, None)]),
        (EntityRecord(ref, {}, sound.envelope), None, [("ENVELOPE_UNEXPECTED", str(ref), "a ref carries no encrypted fields but has an envelope", None, None)]),
        (_env(sound, version=2), None, [("ENVELOPE_VERSION_UNSUPPORTED", W, "envelope version 2 is not implemented; other checks skipped", "1", "2")]),
        (_env(sound, aad_hash="0" * 64), None, [("AAD_HASH_MISMATCH", W, MISMATCH, aad_hash(A), "0" * 64)]),
        (_legacy_sealed(legacy_aad_hash(A)), None, [("LEGACY_AAD", W, LEGACY, aad_hash(A), legacy_aad_hash(A))]),
        (_legacy_sealed(aad_hash(A)), resolver_for(A), [("LEGACY_AAD", W, "the ciphertext opens only with the legacy SHA-256(pk||sk) AAD; it is bound to DynamoDB keys and is not portable: re-seal under the v1 address AAD", None, None)]),
        (_env(sound, nonce=bytes(8)), None, [("NONCE_LENGTH", W, "content_nonce must be 12 bytes", "12 bytes", "8 bytes")]),
        (_env(sound, ciphertext=bytes(15)), None, [("CIPHERTEXT_TOO_SHORT", W, "content_encrypted cannot hold the 16-byte tag", ">= 16 bytes", "15 bytes")]),
        (_env(sound, key_id="dek#d-1#01"), None, [("KEY_ID_INVALID", W, "key id 'dek#d-1#01': version '01' is not a positive decimal without leading zeros", "dek#{dialogue_id}#{version}", "dek#d-1#01")]),
        (_env(sound, key_id="dek#d-2#1"), None, [("KEY_ID_WRONG_DIALOGUE", W, "key_id names another dialogue's key; it is not used on this record", "d-1", "d-2")]),
        (_env(sound, nonce=bytes(12)), resolver_for(A), [("AUTHENTICATION_FAILED", W, "the GCM tag does not verify for this address and key: ciphertext, nonce or tag was changed", None, None)]),
        (dataclasses.replace(sound, address=B), resolver_for(A), [
            ("AAD_HASH_MISMATCH", str(B), MISMATCH, aad_hash(B), aad_hash(A)),
            ("ADDRESS_MOVED", str(B), "the ciphertext authenticates for the address whose hash is stored, not for this one: it was moved here (cut-and-paste)", aad_hash(B), aad_hash(A)),
        ]),
        (_env(sound, key_id=kid(A, 2)), resolver_for(A, versions=2), [("WRONG_KEY_VERSION", W, f"the ciphertext opens under {kid(A)}, not under the key_id it names", kid(A), kid(A, 2))]),
        (_env(long_, ciphertext=long_.envelope.ciphertext[:-4]), resolver_for(A), [("TAG_TRUNCATED", W, "the ciphertext verifies only with a 12-byte tag: the tag was cut short", "16-byte tag", "12-byte tag")]),
        (EntityRecord(A, {}, seal_bytes(A, b"[1]", dek(kid(A)), kid(A), nonce("p"))), resolver_for(A), [("PAYLOAD_NOT_JSON_OBJECT", W, "the decrypted payload is a JSON array, not an object", None, None)]),
        (EntityRecord(A, {}, seal_bytes(A, b'{"b":1,"a":1}', dek(kid(A)), kid(A), nonce("p"))), resolver_for(A), [("PAYLOAD_NOT_CANONICAL", W, "the payload is a JSON object but its bytes are not the RFC 8785 form", None, None)]),
        (sound, resolver_for(A, states={kid(A): DekStatus.SHREDDED}), [("KEY_SHREDDED", W, f"key {kid(A)} was destroyed (crypto-shredded); not decryptable by design{STATED}", None, None)]),
        (sound, resolver_for(Address.of("d-9", "meta")), [("KEY_MISSING", W, f"no key for {kid(A)}; record not decrypted{STATED}", None, None)]),
        (sound, _Resolver({}), [("KEY_MISSING", W, f"no key for {kid(A)}; record not decrypted", None, None)]),
        (sound, resolver_for(A, states={kid(A): DekStatus.UNWRAP_FAILED}), [("KEY_UNWRAP_FAILED", W, f"key {kid(A)} does not unwrap{STATED}", None, None)]),
        (_env(sound, aad_hash=legacy_aad_hash(A)), resolver_for(A), [("AAD_HASH_MISMATCH", W, "aad_hash is the legacy SHA-256(pk||sk), but the ciphertext authenticates under this record's v1 address AAD: only the stored aad_hash is wrong", aad_hash(A), legacy_aad_hash(A))]),
        (_env(sound, ciphertext=bytes(len(ct))), resolver_for(A), [("AUTHENTICATION_FAILED", W, "the GCM tag does not verify for this address and key: ciphertext, nonce or tag was changed", None, None)]),
    ]  # fmt: skip


def test_every_envelope_finding_is_pinned_exactly() -> None:
    """ENV-2..ENV-9: each finding's code, place, message, values and source."""
    for record, resolver, want in _envelope_cases():
        for origin, source in (("f:1", "f:1"), ("", None)):
            got = check_record(dataclasses.replace(record, origin=origin), resolver)
            assert [(f.code.name, f.where, f.message, f.expected, f.actual) for f in got] == want
            assert [f.source for f in got] == [source] * len(want)


def test_a_nonce_reused_at_one_address_for_other_bytes_is_reuse() -> None:
    """ENV-5: one address read twice with the same ciphertext is one record; the
    same key and nonce at that address over other bytes is a reuse (the
    verifier hands the ciphertext to the ledger)."""
    first = sealed_record(A, {"v": 1})
    again = sealed_record(A, {"v": 2})
    assert first.envelope is not None and again.envelope is not None
    assert first.envelope.nonce == again.envelope.nonce
    assert verify_envelopes([first, first]).codes() == []
    assert verify_envelopes([first, again]).codes() == ["NONCE_REUSE"]


def test_misuse_is_refused_with_its_reason() -> None:
    with pytest.raises(TypeError, match=r"^check_record takes an EntityRecord, not WrappedDek$"):
        check_record(WrappedDek("k", "d", 1, "u", "x", None, None, KeyState.ACTIVE, "t"))  # type: ignore[arg-type]
    v = EnvelopeVerifier()
    v.result()
    with pytest.raises(RuntimeError, match=r"^EnvelopeVerifier\.add\(\) after result\(\)$"):
        v.add(sealed_record(A))
    with pytest.raises(
        RuntimeError, match=r"^EnvelopeVerifier\.result\(\) may be called only once$"
    ):
        v.result()
    with pytest.raises(
        RuntimeError, match=r"^EnvelopeVerifier\.records_result\(\) may be called only once$"
    ):
        v.records_result()


def test_a_forged_or_copied_receipt_is_named_for_what_it_is() -> None:
    w, r = _shredded()
    w.events[[e["event_type"] for e in w.events].index("erasure_receipt")] = seal(
        {**r, "signature": "00" * 64}
    )
    (f,) = _verify(w).findings
    assert (f.code.name, f.expected, f.actual, f.message) == (
        "ERASURE_RECEIPT_INVALID",
        None,
        r["signer_key_id"],
        "the erasure receipt's signature does not verify under the pinned key: the receipt "
        "was altered or forged",
    )
    w, r = _shredded(erased_key_id="dek#d-2#1")
    (f,) = [f for f in _verify(w).findings if f.code.name == "ERASURE_RECEIPT_MISMATCH"]
    assert (f.expected, f.actual, f.message) == (
        "a key of dialogue d-1",
        "dek#d-2#1",
        "the receipt names a key of another dialogue: it was copied here",
    )


def test_a_rollback_across_a_change_of_algorithm_quotes_the_older_digest() -> None:
    """COMMIT-6: the version matched was committed under SHA-256, the latest
    under BLAKE3 (after a boundary): the rollback quotes the SHA-256 digest."""
    w = DialogueWriter("d-1")
    w.new_key(1)
    v1 = w.entity(EntityType.META, (), {"title": "v1"}, label="v1")
    w.boundary()
    w.entity(EntityType.META, (), {"title": "v2"}, label="v2")
    (f,) = _verify(w, [w.records["dek#d-1#1"], v1]).findings
    assert (f.code.name, f.actual) == ("COMMIT_ROLLBACK", item_digest(v1, "sha256"))
    assert f.expected == item_digest(w.records[str(v1.address)], "blake3")


def test_junit_names_every_unregistered_code() -> None:
    with pytest.raises(ValueError, match=r"^not registered finding codes: NOT_A, NOT_B$"):
        render_junit(Result(), Summary("v", "x"), ["NOT_B", "NOT_A", "PROOF_INVALID"])
