"""chainaudit.testing (issue 11, docs/api.md API-11): strategies generate what they
promise, every mutator's tampering is detected where it says, the assertions name
the findings, and the pytest plugin's fixtures are there."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chainaudit
from chainaudit.testing import (
    MUTATORS,
    AuditKeys,
    Dataset,
    Mutation,
    NoTarget,
    assert_detects,
    assert_mutation_detected,
    assert_verifies_clean,
    flip_ciphertext_byte,
    forge_boundary,
    sample_dataset,
)
from chainaudit.testing import strategies as cst

SLOW = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def sample() -> Dataset:
    return sample_dataset()


def test_importing_the_kit_and_its_plugin_imports_no_hypothesis() -> None:
    code = (
        "import sys, chainaudit.testing, chainaudit.testing.plugin; "
        "print('hypothesis' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --- mutators ------------------------------------------------------------------------------


def test_the_sample_verifies_clean_with_its_evidence(sample: Dataset) -> None:
    result = assert_verifies_clean(sample.records, **sample.evidence(), require="all")
    assert set(result.codes()) == {"KEY_SHREDDED"}


@pytest.mark.parametrize("name", sorted(MUTATORS))
@pytest.mark.parametrize("pick", [0, 5, 23])
def test_every_mutator_is_detected_on_the_sample(sample: Dataset, name: str, pick: int) -> None:
    mutation = MUTATORS[name](sample.records, pick=pick, superseded=sample.superseded)
    assert isinstance(mutation, Mutation) and mutation.name == name
    assert mutation.records != list(sample.records)
    assert_mutation_detected(mutation, **sample.evidence())


def test_mutators_cover_every_attack_class_of_the_threat_model() -> None:
    text = (Path(__file__).resolve().parent.parent / "docs" / "threat-model.md").read_text()
    codes = {m(sample_dataset().records, pick=1, superseded=sample_dataset().superseded).code
             for m in MUTATORS.values()}  # fmt: skip
    # One detection per section of the threat model that is about tampering.
    for code in (
        "AUTHENTICATION_FAILED", "TAG_TRUNCATED", "ENVELOPE_MISSING", "ADDRESS_MOVED",
        "NONCE_REUSE", "KEY_UNWRAP_FAILED", "EVENT_HASH_MISMATCH", "CHAIN_GAP",
        "CHAIN_FORK", "CHAIN_LINK_BROKEN", "CHAIN_TRUNCATED", "CHAIN_TIP_MISMATCH",
        "COMMIT_ROLLBACK", "COMMIT_MISMATCH", "COMMIT_MISSING", "COMMIT_RECORD_MISSING",
        "ERASURE_UNSIGNED", "ERASURE_RECEIPT_INVALID", "ERASURE_RECORD_AFTER",
        "BOUNDARY_SIGNATURE_INVALID",
    ):  # fmt: skip
        named = code in text or f"{code.split('_')[0]}_*" in text  # e.g. BOUNDARY_*
        assert code in codes and named, code


def test_a_mutator_without_a_target_says_so() -> None:
    with pytest.raises(NoTarget, match="boundary"):
        forge_boundary([])


def test_detection_needs_what_the_mutation_says(sample: Dataset) -> None:
    """Without the evidence a mutation needs, its finding is not there to see."""
    for name in ("truncate_chain", "rewrite_chain_from_genesis", "flip_ciphertext_byte"):
        m = MUTATORS[name](sample.records, superseded=sample.superseded)
        without = {"checkpoints": ()} if "checkpoints" in m.needs else {"umk": None}
        found = [(f.code.name, f.where) for f in sample.verify(m.records, **without)]
        assert (m.code, m.where) not in found, name


@SLOW
@given(cst.mutations())
def test_every_mutation_of_a_generated_dataset_is_detected(
    dataset_and_mutation: tuple[Dataset, Mutation],
) -> None:
    data, mutation = dataset_and_mutation
    assert_mutation_detected(mutation, **data.evidence())


# --- strategies ------------------------------------------------------------------------------


@SLOW
@given(cst.dialogues())
def test_generated_dialogues_verify_clean(data: Dataset) -> None:
    assert_verifies_clean(data.records, **data.evidence())


@settings(max_examples=50, deadline=None)
@given(cst.sealed_records())
def test_sealed_records_open_with_their_key(sealed: cst.SealedRecord) -> None:
    keys = chainaudit.DekMap({sealed.key_id: sealed.dek})
    assert chainaudit.check_record(sealed.record, keys) == []


@settings(max_examples=200, deadline=None)
@given(cst.hostile_ids())
def test_hostile_ids_are_escaped_one_to_one_or_refused(raw: str) -> None:
    try:
        a = chainaudit.Address.of(raw, "expert", raw)
    except chainaudit.AddressError:
        nfc = unicodedata.is_normalized("NFC", raw)
        assert not raw or not nfc or "\x00" in raw or len(raw.encode()) >= 85
        return
    assert chainaudit.Address.parse(str(a)) == a
    assert a.dialogue_id == raw and a.logical_parts() == (raw,)


@given(cst.long_ids())
def test_long_ids_are_at_the_limit(raw: str) -> None:
    n = len(chainaudit.escape_component(raw).encode())
    assert 250 <= n <= 255


@given(cst.non_nfc_ids())
def test_non_nfc_ids_are_refused(raw: str) -> None:
    with pytest.raises(chainaudit.AddressError, match="NFC"):
        chainaudit.escape_component(raw)


@SLOW
@given(cst.audit_chains(boundary=None), cst.lifecycle_chains())
def test_generated_chains_verify(audit: list[chainaudit.AuditEvent], lifecycle: list[object]) -> None:
    events: list[chainaudit.AuditEvent] = list(audit)
    for record in lifecycle:
        assert isinstance(record, chainaudit.EntityRecord)
        ev = chainaudit.chain_event_from_entity(record)
        assert isinstance(ev, chainaudit.AuditEvent)
        events.append(ev)
    policy = chainaudit.ChainPolicy(trust=AuditKeys.from_label().trust)
    result = chainaudit.verify_events(events, policy)
    assert result.ok, [str(f) for f in result]


@settings(max_examples=30, deadline=None)
@given(st.lists(cst.records(), max_size=4))
def test_any_model_record_round_trips_as_an_item(records: list[chainaudit.Record]) -> None:
    for r in records:
        back = chainaudit.record_from_item(chainaudit.item_from_record(r), "t")
        if not isinstance(back, chainaudit.Finding):
            assert chainaudit.record_key(back) == chainaudit.record_key(r)


# --- assertions ------------------------------------------------------------------------------


def test_a_failure_names_the_finding(sample: Dataset) -> None:
    m = flip_ciphertext_byte(sample.records)
    with pytest.raises(AssertionError) as info:
        assert_verifies_clean(m.records, **sample.evidence())
    assert f"AUTHENTICATION_FAILED at {m.where}" in str(info.value)
    with pytest.raises(AssertionError, match=r"COMMIT_ROLLBACK at .* was not reported"):
        assert_detects(m.records, "COMMIT_ROLLBACK", m.where, **sample.evidence())
    with pytest.raises(AssertionError, match="nothing was checked"):
        assert_verifies_clean([])


# --- the pytest plugin -----------------------------------------------------------------------

PLUGIN_TEST = """
    import chainaudit
    from chainaudit.testing import assert_verifies_clean, flip_ciphertext_byte, assert_mutation_detected

    def test_fixtures(chainaudit_keys, chainaudit_sample, chainaudit_verify):
        assert chainaudit_keys.trusted_keys and chainaudit_sample.records
        assert_verifies_clean(chainaudit_sample.records, **chainaudit_sample.evidence())
        assert_mutation_detected(flip_ciphertext_byte(chainaudit_sample.records), **chainaudit_sample.evidence())
        assert chainaudit.exit_code_for(chainaudit_verify([])) == 3
"""


def _pytest(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_plugin_user.py").write_text(textwrap.dedent(PLUGIN_TEST))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args, "test_plugin_user.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_plugin_is_registered_and_its_fixtures_work(tmp_path: Path) -> None:
    run = _pytest(tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "chainaudit 0.1.0 (testing plugin" in run.stdout


def test_the_plugin_can_be_disabled(tmp_path: Path) -> None:
    run = _pytest(tmp_path, "-p", "no:chainaudit")
    assert run.returncode == 1 and "fixture 'chainaudit_keys' not found" in run.stdout
