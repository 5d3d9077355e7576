"""Reports say exactly what they proved (REP-7, REP-4, docs/threat-model.md).

Unit tests of the assurance statement, the check plan and the threat index,
then end-to-end runs of the installed ``chainaudit`` command on the demo: a
keyless and a keyed pass read differently; a chain rewritten from genesis
without a checkpoint is named (``CHAIN_UNANCHORED``) and is exit 3 under
``--require anchored``; a keyless JUnit report passes no keyed check; a run
that fails still writes its JSON and JUnit reports.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from e2e_cli import Cli, expect, key_args
from hypothesis import given
from hypothesis import strategies as st

from chainaudit.chain.events import seal
from chainaudit.findings import Finding, Result, codes, registry
from chainaudit.findings.threats import SECTIONS, section_of
from chainaudit.records.model import AuditEvent
from chainaudit.report.assurance import (
    FAMILIES,
    Anchor,
    Evidence,
    Level,
    assess,
    parse_require,
    policy_findings,
    unanchored_findings,
)
from chainaudit.report.checks import COMMANDS, RunFacts, family_of, plan
from chainaudit.report.checks import FAMILIES as CHECK_FAMILIES
from chainaudit.sources.ndjson import NdjsonSource, write_export

ROOT = Path(__file__).resolve().parents[1]

# --- the registry, the check plan and the threat index stay in step ----------------


def test_every_code_is_in_exactly_one_check_family() -> None:
    for name, code in registry().items():
        homes = [f for f, members in CHECK_FAMILIES.items() if code in members]
        assert len(homes) == 1, f"{name} is in check families {homes}: classify it in report/checks.py"


def test_every_code_names_a_threat_section_that_exists() -> None:
    doc = (ROOT / "docs" / "threat-model.md").read_text(encoding="utf-8")
    anchors = set(re.findall(r"\{#([a-z-]+)\}", doc))
    for name in registry():
        anchor = section_of(name)
        assert anchor is not None, f"{name}: no section in chainaudit/findings/threats.py"
        assert anchor in anchors, f"{name}: docs/threat-model.md has no {{#{anchor}}}"
    from chainaudit.report.assurance import SECTIONS as FAMILY_SECTIONS

    for family, link in FAMILY_SECTIONS.items():
        assert link.split("#", 1)[1] in anchors, f"assurance {family}: {link} does not exist"
    listed = [n for _, names in SECTIONS.values() for n in names]
    assert len(listed) == len(set(listed)), "a code is listed in two threat sections"
    assert set(listed) <= set(registry()), set(listed) - set(registry())


def test_findings_doc_links_every_code_to_its_threat() -> None:
    text = (ROOT / "docs" / "findings.md").read_text(encoding="utf-8")
    for name in registry():
        row = next(line for line in text.splitlines() if line.startswith(f"| `{name}` |"))
        assert f"threat-model.md#{section_of(name)}" in row, name


def test_keyless_plan_skips_keyed_checks_and_never_lists_foreign_codes() -> None:
    keyless = plan("verify", RunFacts(source_kind="export"))
    assert keyless["AUTHENTICATION_FAILED"] is not None
    assert "no keys given" in str(keyless["AUTHENTICATION_FAILED"])
    assert keyless["AAD_HASH_MISMATCH"] is None
    assert keyless["EXPORT_DIGEST_MISMATCH"] is None
    assert not any(n.startswith(("DIFF_", "PROOF_", "MANIFEST_")) for n in keyless)
    keyed = plan("verify", RunFacts(keyed=True, umk_given=True, pinned=True, checkpoints=True))
    assert keyed["AUTHENTICATION_FAILED"] is None and keyed["CHAIN_TIP_MISMATCH"] is None
    assert "EXPORT_DIGEST_MISMATCH" not in keyed  # a live store has no export trailer
    assert "SIGNATURES_UNCHECKED" not in keyed  # keys were pinned
    pre = plan("gate pre", RunFacts())
    assert not any(n.startswith(("DIFF_", "PROOF_")) for n in pre)
    assert "UMK_MISMATCH" not in pre  # no UMK was given
    assert pre["CHAIN_TIP_MISMATCH"] is not None  # no checkpoint: skipped, with a reason


def test_a_finding_proves_its_check_ran() -> None:
    r = Result()
    r.add(Finding(codes.AUTHENTICATION_FAILED, "dialogue:d/entity:meta", "x"))
    assert plan("verify", RunFacts(), r)["AUTHENTICATION_FAILED"] is None


def test_every_command_family_exists() -> None:
    for families in COMMANDS.values():
        assert set(families) <= set(CHECK_FAMILIES)
    for code in registry().values():
        assert family_of(code) is not None


def test_parse_require() -> None:
    assert parse_require("none") == () and parse_require(None) == ()
    assert parse_require("all") == FAMILIES
    assert parse_require("complete,authenticated") == ("authenticated", "complete")
    with pytest.raises(ValueError, match="unknown assurance signed"):
        parse_require("authenticated,signed")


# --- the assurance statement ---------------------------------------------------------


def _result(**checked: int) -> Result:
    r = Result()
    r.checked.update(checked)
    return r


def test_authenticated_needs_keys_and_every_envelope() -> None:
    keyless = assess(_result(envelopes=4), Evidence())["authenticated"]
    assert keyless.level is Level.NOT_PROVEN and "no keys given" in keyless.basis
    wrong = assess(_result(envelopes=4), Evidence(umk_fingerprint="ab"))["authenticated"]
    assert wrong.level is Level.NOT_PROVEN and "UMK_MISMATCH" in wrong.basis
    keyed = Evidence(keyed=True, umk_fingerprint="ab")
    assert assess(_result(envelopes=4, decrypted=4), keyed)["authenticated"].level is Level.PROVEN
    assert assess(_result(envelopes=4, decrypted=3), keyed)["authenticated"].level is Level.PARTIAL
    assert assess(_result(), keyed)["authenticated"].level is Level.NOT_APPLICABLE


def test_shredded_envelopes_count_only_with_proven_erasure() -> None:
    r = _result(envelopes=4, decrypted=2)
    r.extend(Finding(codes.KEY_SHREDDED, f"dialogue:d/entity:meta#{i}", "x") for i in range(2))
    keyed = Evidence(keyed=True)
    # No receipt checked: a forged erasure could hide edited records.
    a = assess(r, keyed)
    assert a["erasure"].level is Level.NOT_PROVEN
    assert a["authenticated"].level is Level.PARTIAL
    r.checked.update({"erasures_signed": 1, "erasures_unproven": 0})
    a = assess(r, keyed)
    assert a["erasure"].level is Level.PROVEN and a["authenticated"].level is Level.PROVEN


def test_complete_rests_on_signed_evidence_only() -> None:
    ev = Evidence(integrity_basis="an unsigned trailer", chain_lengths={"c": 3})
    r = _result(entities=5)
    c = assess(r, ev)["complete"]
    assert c.level is Level.NOT_PROVEN and "an unsigned trailer" in c.basis
    ev.manifest_signer = "ab" * 32
    assert assess(r, ev)["complete"].level is Level.PROVEN
    ev2 = Evidence(chain_lengths={"c": 3}, anchors=[Anchor("c", 3, "checkpoint", "cp")])
    r2 = _result(entities=5, records_committed=5)
    assert assess(r2, ev2)["complete"].level is Level.PROVEN
    r2.checked["records_committed_unanchored"] = 1
    assert assess(r2, ev2)["complete"].level is Level.NOT_PROVEN


def test_a_failed_anchor_does_not_anchor() -> None:
    ev = Evidence(chain_lengths={"c": 3}, anchors=[Anchor("c", 3, "checkpoint", "cp")])
    r = Result()
    r.add(Finding(codes.CHAIN_TIP_MISMATCH, "chain:c@2", "x", extra={"chain_id": "c"}))
    assert assess(r, ev)["anchored"].level is Level.NOT_PROVEN


@given(
    st.dictionaries(
        st.text(alphabet="abc/:", min_size=1, max_size=5),
        st.tuples(st.integers(0, 20), st.none() | st.integers(0, 25)),
        max_size=8,
    )
)
def test_anchored_iff_every_chain_is_anchored_to_its_end(
    chains: dict[str, tuple[int, int | None]],
) -> None:
    """For all chains and anchors: proven exactly when every chain's anchor reaches
    its last event; one CHAIN_UNANCHORED per chain that it does not reach."""
    ev = Evidence(
        chain_lengths={c: n for c, (n, _) in chains.items()},
        anchors=[Anchor(c, a, "checkpoint", "cp") for c, (_, a) in chains.items() if a is not None],
    )
    # An empty chain has nothing to anchor.
    short = {c for c, (n, a) in chains.items() if n > 0 and (a is None or a < n)}
    level = assess(Result(), ev)["anchored"].level
    if not chains:
        assert level is Level.NOT_APPLICABLE
    else:
        assert (level is Level.PROVEN) == (not short)
    notices = unanchored_findings(ev)
    assert {f.extra["chain_id"] for f in notices} == short
    assert all(f.code is codes.CHAIN_UNANCHORED for f in notices)


@given(st.sets(st.sampled_from(FAMILIES)), st.data())
def test_policy_names_every_required_family_not_proven(
    required: set[str], data: st.DataObject
) -> None:
    levels = {f: data.draw(st.sampled_from(list(Level))) for f in FAMILIES}
    from chainaudit.report.assurance import Assurance

    statement = {f: Assurance(f, levels[f], "b") for f in FAMILIES}
    found = policy_findings(statement, tuple(f for f in FAMILIES if f in required))
    missing = {
        f for f in required if levels[f] not in (Level.PROVEN, Level.NOT_APPLICABLE)
    }
    assert {f.where for f in found} == {f"assurance:{f}" for f in missing}
    assert all(f.code is codes.ASSURANCE_NOT_MET for f in found)


# --- end to end, through the installed command ---------------------------------------


def test_keyless_and_keyed_passes_read_differently(cli: Cli, demo: Path) -> None:
    export = demo / "export.ndjson"
    keyless = cli("verify", export, "--trusted-keys", demo / "trusted-keys.json")
    keyed = cli("verify", export, *key_args(demo))
    first_keyless = keyless.stdout.splitlines()[0]
    first_keyed = keyed.stdout.splitlines()[0]
    assert first_keyless.endswith(", keyless (no envelope authenticated)"), first_keyless
    assert first_keyed.endswith(", keyed"), first_keyed
    assert re.search(r"^  authenticated +NOT PROVEN +no keys given", keyless.stdout, re.M)
    assert not re.search(r"^  authenticated +NOT PROVEN", keyed.stdout, re.M)
    js = cli("verify", export, "--format", "json")
    doc = js.report()
    assert doc["mode"] == "keyless" and doc["version"] == 2
    assert doc["assurance"]["authenticated"]["level"] == "not_proven"
    assert set(doc["assurance"]) == set(FAMILIES)


def _rewrite_audit_log(export: Path, out: Path) -> tuple[str, int]:
    """A writer's rewrite of the crypto audit log from its second event on: one
    field changed, every later hash recomputed, the trailer rewritten. Returns
    the chain id and its length."""
    items = [i for i in NdjsonSource(export).read() if not isinstance(i, Finding)]
    audit = [i for i in items if isinstance(i, AuditEvent)]
    chain_id = audit[0].chain_id
    chain = sorted((e for e in audit if e.chain_id == chain_id), key=lambda e: e.fields["seq"])
    rewritten: dict[int, AuditEvent] = {}
    previous = chain[0].fields["event_hash"]
    for e in chain[1:]:
        fields = dict(e.fields)
        if fields["seq"] == 1:
            fields["principal"] = "someone-else"
        fields["previous_hash"] = previous
        fields = seal(fields)
        previous = fields["event_hash"]
        rewritten[id(e)] = AuditEvent(e.chain_id, fields, e.origin)
    items = [rewritten.get(id(i), i) for i in items]
    write_export(out, items, source="a writer", created_at="2026-03-02T12:00:00.000Z")
    return chain_id, len(chain)


def test_an_unanchored_rewrite_is_named_and_fails_the_policy(
    cli: Cli, demo: Path, tmp_path: Path
) -> None:
    export = demo / "export.ndjson"
    forged = tmp_path / "rewritten.ndjson"
    chain_id, _ = _rewrite_audit_log(export, forged)
    original = cli("verify", export, *key_args(demo), "--format", "json")
    plain = cli("verify", forged, *key_args(demo), "--format", "json")
    # Without an anchor, the rewrite verifies exactly as the original ...
    assert plain.returncode == original.returncode
    assert plain.codes() == original.codes()
    # ... and the report says so, naming the chain.
    assert f"chain:{chain_id}" in plain.where("CHAIN_UNANCHORED")
    assert plain.report()["assurance"]["anchored"]["level"] != "proven"
    required = expect(
        cli("verify", forged, *key_args(demo), "--require", "anchored", "--format", "json"), 3
    )
    assert required.where("ASSURANCE_NOT_MET") == ["assurance:anchored"]
    text = expect(cli("verify", forged, *key_args(demo), "--require", "anchored"), 3)
    assert "anchored*" in text.stdout and "ASSURANCE_NOT_MET" in text.stdout
    # The demo's checkpoint of that chain catches it.
    anchored = cli(
        "verify", forged, *key_args(demo), "--checkpoint", demo / "checkpoint.json", "--format", "json"
    )
    expect(anchored, 1)
    assert any(w.startswith(f"chain:{chain_id}@") for w in anchored.where("CHAIN_TIP_MISMATCH"))


def test_keyless_junit_passes_no_keyed_check(cli: Cli, demo: Path) -> None:
    run = cli("verify", demo / "export.ndjson", "--format", "junit")
    suite = ET.fromstring(run.stdout).find("testsuite")
    assert suite is not None
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    for name in ("AUTHENTICATION_FAILED", "WRONG_KEY_VERSION", "ADDRESS_MOVED"):
        skipped = cases[name].find("skipped")
        assert skipped is not None and "no keys given" in (skipped.get("message") or ""), name
    assert cases["AAD_HASH_MISMATCH"].find("skipped") is None
    assert not any(n and n.startswith(("DIFF_", "PROOF_", "MANIFEST_")) for n in cases)
    assert int(suite.get("skipped") or 0) >= 3
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["mode"] == "keyless" and props["assurance.authenticated"] == "not_proven"


def test_gate_pre_junit_lists_no_diff_or_proof_codes(cli: Cli, demo: Path, tmp_path: Path) -> None:
    run = cli(
        "gate", "pre", demo / "export.ndjson", "--signing-key", demo / "signer.key",
        *key_args(demo), "-m", tmp_path / "m.json", "--format", "junit", "--require", "none",
    )  # fmt: skip
    names = {c.get("name") for c in ET.fromstring(run.stdout).iter("testcase")}
    assert "RECORD_KEY_DUPLICATE" in names
    assert not any(n and n.startswith(("DIFF_", "PROOF_")) for n in names)


def test_gate_pre_requires_authentication_by_default(cli: Cli, demo: Path, tmp_path: Path) -> None:
    manifest = tmp_path / "m.json"
    run = cli(
        "gate", "pre", demo / "export.ndjson", "--signing-key", demo / "signer.key",
        "--trusted-keys", demo / "trusted-keys.json", "-m", manifest, "--format", "json",
    )  # fmt: skip
    expect(run, 3)
    assert "assurance:authenticated" in run.where("ASSURANCE_NOT_MET")
    assert not manifest.exists(), "a gate never signs data no key authenticated"


@pytest.mark.parametrize("fmt", ["json", "junit"])
def test_a_failed_run_still_writes_its_report(
    cli: Cli, demo: Path, tmp_path: Path, fmt: str
) -> None:
    bad = tmp_path / "bad.ndjson"
    lines = (demo / "export.ndjson").read_text(encoding="utf-8").splitlines(keepends=True)
    bad.write_text("".join(lines[:3]) + '{"kind": "entity"}\n' + "".join(lines[3:]))
    out = tmp_path / f"report.{fmt}"
    run = cli("verify", bad, "--format", fmt, "-o", out)
    expect(run, 2)
    assert len(run.stderr.splitlines()) == 1 and "Traceback" not in run.stderr
    text = out.read_text(encoding="utf-8")
    if fmt == "json":
        doc = json.loads(text)
        assert doc["exit_code"] == 2 and doc["verdict"] == "error"
        assert doc["error"]["message"] in run.stderr
    else:
        root = ET.fromstring(text)
        err = root.find("testsuite/testcase[@name='RUN']/error")
        assert err is not None and err.get("type") == "EXIT_2"
    # exit 3: a store that is not there, reported on stdout as JSON
    down = cli(
        "verify", "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2", "--format", "json"
    )
    expect(down, 3)
    doc = down.report()
    assert doc["exit_code"] == 3 and doc["error"] and "127.0.0.1" in doc["error"]["message"]


def test_a_forged_checkpoint_anchors_nothing(cli: Cli, demo: Path, tmp_path: Path) -> None:
    """Evidence forged: a checkpoint bundle whose signatures are altered is an error,
    and the report does not count the chains it names as anchored."""
    bundle = json.loads((demo / "checkpoint.json").read_text())
    docs = bundle if isinstance(bundle, list) else [bundle]
    for doc in docs:
        sig = doc["signature"]
        doc["signature"] = ("0" if sig[0] != "0" else "1") + sig[1:]
    forged = tmp_path / "forged-checkpoint.json"
    forged.write_text(json.dumps(docs))
    run = cli("verify", demo / "export.ndjson", *key_args(demo), "--checkpoint", forged,
              "--format", "json")  # fmt: skip
    expect(run, 1)
    assert "CHECKPOINT_SIGNATURE_INVALID" in run.codes()
    assert run.report()["assurance"]["anchored"]["level"] == "not_proven"
    assert run.where("CHAIN_UNANCHORED"), "every chain is reported unanchored"


def test_a_forged_manifest_proves_no_completeness(cli: Cli, demo: Path, tmp_path: Path) -> None:
    """Evidence forged: gate post against a manifest whose signature was altered does
    not state completeness, and its default --require complete says so (exit 1 here,
    the bad signature being an error)."""
    manifest = tmp_path / "m.json"
    pre = cli("gate", "pre", demo / "export.ndjson", "--signing-key", demo / "signer.key",
              *key_args(demo), "-m", manifest, "--format", "json")  # fmt: skip
    expect(pre, 0)
    doc = json.loads(manifest.read_text())
    sig = doc["signature"]
    doc["signature"] = ("0" if sig[0] != "0" else "1") + sig[1:]
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(doc))
    (tmp_path / "forged.json.leaves").write_bytes((tmp_path / "m.json.leaves").read_bytes())
    post = cli("gate", "post", demo / "export.ndjson", "-m", forged, *key_args(demo),
               "--allow-unbridged", "--format", "json")  # fmt: skip
    report = post.report()
    assert "MANIFEST_SIGNATURE_INVALID" in post.codes()
    assert report["assurance"]["complete"]["level"] != "proven"
    assert "assurance:complete" in post.where("ASSURANCE_NOT_MET")
    assert post.returncode == 1
    honest = cli("gate", "post", demo / "export.ndjson", "-m", manifest, *key_args(demo),
                 "--allow-unbridged", "--format", "json")  # fmt: skip
    assert honest.report()["assurance"]["complete"]["level"] == "proven"
