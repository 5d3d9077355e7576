"""The HTML report (docs/report.md REP-8): unit tests, then the pages in a real Chromium.

The unit tests pin what ``render_html`` promises: every value from data is
escaped (a ``<script>`` in an address stays text), findings are grouped as
in the text report, the assurance table marks required families and links
each to its threat-model section, an error report shows the error, the
page is self-contained and deterministic, and the chain timeline marks what
``Evidence.note_event`` kept.

The browser tests run ``chainaudit`` as a user does on the demo, a tampered
demo and a migration gate, write ``--format html -o FILE``, scan every page
for the demo's key material and payload text, and open each page in
Debian's ``chromium`` headless: a screenshot, and the DOM after the page's
script ran. They FAIL when chromium is missing (``scripts/test.sh``
installs it): a skipped browser test would let a page that never renders
pass. ``CHAINAUDIT_UPDATE_SCREENSHOTS=1`` copies the screenshots to
``docs/img/`` (how the ones there were made).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path

import pytest
from e2e_cli import Cli, expect, without
from hypothesis import given, settings
from hypothesis import strategies as st

from chainaudit.findings import Finding, Result, codes
from chainaudit.records.address import EntityType
from chainaudit.records.model import AuditEvent, EntityRecord
from chainaudit.report.assurance import (
    SECTIONS,
    TIMELINE_CAP,
    Anchor,
    Assurance,
    Evidence,
    Level,
    timeline_entry,
)
from chainaudit.report.html import CONTENT_SECURITY_POLICY, render_html
from chainaudit.report.render import Summary
from chainaudit.sources.ndjson import NdjsonSource, write_export

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
LIFECYCLE = "dialogue:dlg-1/events"


# --- helpers --------------------------------------------------------------------


class _Page(HTMLParser):
    """Every element of a page: (tag, attributes), and the text of each script and style."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self._in: str | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        self._in = tag if tag in ("script", "style") else None

    def handle_data(self, data: str) -> None:
        if self._in == "script":
            self.scripts.append(data)
        elif self._in == "style":
            self.styles.append(data)

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def tags(self, name: str) -> list[dict[str, str | None]]:
        return [attrs for tag, attrs in self.elements if tag == name]


def _result(*findings: Finding, checked: int = 10) -> Result:
    r = Result()
    r.checked["records"] = checked
    r.extend(findings)
    return r


def _summary(**kw: object) -> Summary:
    base: dict[str, object] = {"command": "verify", "subject": "ndjson:x.ndjson"}
    base.update(kw)
    return Summary(**base)  # type: ignore[arg-type]


def _hostile() -> Finding:
    return Finding(
        codes.AUTHENTICATION_FAILED,
        'dialogue:<script>alert("where")</script>/entity:claim/01#01',
        "bad <img src=x onerror=alert(1)> & \u202eevil",
        expected='"><script>alert(2)</script>',
        actual="</code></li><script>alert(3)</script>",
        source="file.ndjson:<b>7</b>",
        extra={"chain_id": "<svg onload=alert(4)>", "seq": 3},
    )


# --- unit: escaping ------------------------------------------------------------------


def test_a_script_in_an_address_renders_inert() -> None:
    """Attacker-controlled values (where, message, values, source, chain ids, timeline
    labels, subject) are text: no element, attribute or script comes from data."""
    timeline = {"<svg onload=alert(4)>": [(0, "genesis", "<script>alert(5)</script>")]}
    page = render_html(
        _result(_hostile()),
        _summary(subject="x<script>alert(6)</script>"),
        timeline,
        anchors=[Anchor("<svg onload=alert(4)>", 2, "checkpoint", "<i>cp</i>.json")],
    )
    parsed = _Page(page)
    assert len(parsed.tags("script")) == 1, "only the page's own filter script"
    assert not parsed.tags("img") and not parsed.tags("b") and not parsed.tags("i")
    handlers = [a for _, attrs in parsed.elements for a in attrs if a.startswith("on")]
    assert handlers == []
    for n in range(1, 7):
        assert f"alert({n})" not in "".join(parsed.scripts)
    assert "&lt;script&gt;alert(&quot;where&quot;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt; &amp; " in page
    # REP-2.1 too: a bidi override from data is shown as an escape, not obeyed.
    assert "\u202e" not in page and "\\u202eevil" in page


def test_control_characters_are_escaped() -> None:
    f = Finding(codes.AUTHENTICATION_FAILED, "dialogue:a\x1b[2J/entity:x/1", "m\x07\nforged")
    page = render_html(_result(f), _summary())
    assert "\x1b" not in page and "\x07" not in page
    assert "a\\x1b[2J" in page and "m\\x07\\x0aforged" in page


def test_csp_allows_exactly_the_page_style_and_script() -> None:
    """Self-contained: no external resource, and the CSP admits only the inline style and
    script by hash, so markup that escaped escaping could still load or run nothing."""
    page = render_html(_result(_hostile()), _summary())
    parsed = _Page(page)
    (meta,) = [m for m in parsed.tags("meta") if m.get("http-equiv") == "Content-Security-Policy"]
    assert meta["content"] == CONTENT_SECURITY_POLICY
    assert "default-src 'none'" in CONTENT_SECURITY_POLICY

    def digest(text: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"

    assert f"script-src {digest(parsed.scripts[0])};" in CONTENT_SECURITY_POLICY
    assert f"style-src {digest(parsed.styles[0])};" in CONTENT_SECURITY_POLICY
    assert not parsed.tags("link") and not parsed.tags("img") and not parsed.tags("iframe")
    assert all("src" not in attrs for _, attrs in parsed.elements)
    hrefs = [a["href"] for a in parsed.tags("a")]
    assert hrefs and all(h and (h.startswith(("#", "docs/threat-model.md#"))) for h in hrefs)
    assert "url(" not in parsed.styles[0] and "@import" not in parsed.styles[0]
    assert "://" not in page


# --- unit: content ---------------------------------------------------------------------


def test_findings_are_grouped_errors_first_and_filterable() -> None:
    shredded = [
        Finding(codes.KEY_SHREDDED, f"dialogue:d/entity:claim/{i:02d}#01", "key destroyed")
        for i in range(30)
    ]
    error = Finding(codes.CHAIN_GAP, "chain:dialogue:d/events@4", "1 event(s) missing",
                    expected="4", actual="5", extra={"chain_id": "dialogue:d/events", "seq": 4})  # fmt: skip
    page = render_html(_result(*shredded, error), _summary())
    items = re.findall(r'<li class="finding sev-(\w+)" data-severity="\w+" data-code="(\w+)"', page)
    assert items == [("error", "CHAIN_GAP"), ("notice", "KEY_SHREDDED")]
    assert "(+29 more like it)" in page
    assert "2 of 2 finding group(s) (31 finding(s)) listed" in page
    parsed = _Page(page)
    (form,) = [f for f in parsed.tags("form") if f.get("id") == "filters"]
    assert "hidden" in form, "hidden until the script shows it: without JS, no dead controls"
    boxes = [i["value"] for i in parsed.tags("input") if i.get("name") == "severity"]
    assert boxes == ["error", "unverified", "notice"]
    options = [o["value"] for o in parsed.tags("option")]
    assert options == ["", "CHAIN_GAP", "KEY_SHREDDED", "", "d"], "codes, then dialogues"
    assert page.count('data-dialogues="/d/"') == 2
    assert [i for i in parsed.tags("input") if i.get("name") == "q"]
    # The finding links to its chain's timeline.
    assert 'href="#chain-1">chain timeline</a>' in page


def test_max_findings_caps_the_groups_listed() -> None:
    fs = [Finding(codes.CHAIN_GAP, f"chain:c@{i}", f"gap {i}") for i in range(5)]
    page = render_html(_result(*fs), _summary(), max_findings=2)
    assert page.count('<li class="finding') == 2
    assert "2 of 5 finding group(s) (5 finding(s)) listed" in page


def test_verdict_line_is_the_text_reports() -> None:
    keyless = render_html(_result(), _summary(mode="keyless"))
    assert (
        ">chainaudit verify ndjson:x.ndjson: OK (exit 0), keyless (no envelope authenticated)</h1>"
        in keyless
    )
    keyed = render_html(_result(_hostile()), _summary(mode="keyed"))
    assert ": FINDINGS (exit 1), keyed</h1>" in keyed
    nothing = render_html(_result(checked=0), _summary())
    assert ": UNVERIFIED (exit 3)</h1>" in nothing


def test_assurance_marks_required_and_links_the_threat_model() -> None:
    assurance = {
        "authenticated": Assurance(
            "authenticated", Level.PROVEN, "all 3 envelope(s) authenticated"
        ),
        "anchored": Assurance("anchored", Level.NOT_PROVEN, "no <checkpoint> given"),
        "erasure": Assurance("erasure", Level.NOT_APPLICABLE, "no destroyed key met"),
    }
    page = render_html(_result(), _summary(assurance=assurance, required=("anchored",)))
    rows = re.findall(r"<tr><td><strong>(\w+)</strong>(\*?)", page)
    assert rows == [("authenticated", ""), ("anchored", "*"), ("erasure", "")]
    assert '<span class="req">required</span>' in page
    assert "Required and not proven: anchored." in page
    assert '<span class="lvl lvl-not_proven">NOT PROVEN</span>' in page
    assert "no &lt;checkpoint&gt; given" in page
    for family in assurance:
        assert f'<a href="{SECTIONS[family]}">' in page


def test_provenance_header() -> None:
    prov = {
        "inputs": [{"name": "ndjson:x.ndjson", "sha256": "ab" * 32}, {"name": "-", "sha256": None}],
        "umk_fingerprint": "b8a9dbe207751eec",
        "pinned": ["7f" * 32],
        "checkpoints": ["cp.json"],
    }
    page = render_html(
        _result(), _summary(provenance=prov, generated_at="2026-03-02T12:00:00.000Z")
    )
    assert "sha256 <code>" + "ab" * 32 + "</code>" in page
    assert "fingerprint <code>b8a9dbe207751eec</code>" in page
    assert "<code>" + "7f" * 32 + "</code>" in page and "<code>cp.json</code>" in page
    assert "2026-03-02T12:00:00.000Z" in page


def test_error_report_shows_the_error() -> None:
    summary = _summary(error="x.ndjson: no such file or directory", error_exit=2)
    page = render_html(Result(), summary)
    assert ": ERROR (exit 2)</h1>" in page
    assert '<p class="error-box"><code>x.ndjson: no such file or directory</code></p>' in page
    assert 'id="findings"' not in page and 'id="chains"' not in page


def test_deterministic_and_no_clock() -> None:
    def make() -> str:
        r = _result(_hostile())
        r.chain_lengths.update({LIFECYCLE: 9, "audit": 4})
        tl = {LIFECYCLE: [(8, "boundary", "from dynamodb to postgresql"), (0, "genesis", "t0")]}
        return render_html(r, _summary(generated_at="2026-03-02T12:00:00.000Z"), tl)

    assert make() == make()
    assert "2026-03-02T12:00:00.000Z" in make()
    assert "report made</td><td>not stated" in render_html(_result(), _summary())


# --- unit: the timeline ---------------------------------------------------------------


def _ev(chain: str, seq: int, **fields: object) -> AuditEvent:
    return AuditEvent(chain, {"seq": seq, "timestamp": "2026-03-02T09:00:00.000Z", **fields})


def test_note_event_keeps_notable_events_only_and_is_bounded() -> None:
    ev = Evidence()
    ev.note_event(_ev("audit", 0, operation="derive_kek"))
    ev.note_event(_ev("audit", 1, operation="decrypt", key_id="dek#d#1"))
    ev.note_event(_ev("audit", 2, operation="rotate_dek", key_id="dek#d#1", outcome="success"))
    ev.note_event(_ev("audit", 3, operation="destroy_dek", key_id="dek#d#2", outcome="denied"))
    ev.note_event(_ev(LIFECYCLE, 5, event_kind="migration_boundary", source_backend="dynamodb",
                      target_backend="postgresql"))  # fmt: skip
    ev.note_event(_ev(LIFECYCLE, 6, event_type="erasure_receipt", erased_key_id="dek#dlg-1#1"))
    ev.note_event(_ev(LIFECYCLE, 7, event_type="record_commit"))
    ev.note_event(_ev(LIFECYCLE, "8", operation="rotate_dek"))  # type: ignore[arg-type]
    assert ev.timeline == {
        "audit": [
            (0, "genesis", "2026-03-02T09:00:00.000Z"),
            (2, "rotate", "dek#d#1"),
            (3, "destroy", "dek#d#2 (denied)"),
        ],
        LIFECYCLE: [(5, "boundary", "from dynamodb to postgresql"), (6, "receipt", "dek#dlg-1#1")],
    }
    for i in range(TIMELINE_CAP + 50):
        ev.note_event(_ev("busy", i, operation="rotate_dek", key_id="k" * 10_000))
    assert len(ev.timeline["busy"]) == TIMELINE_CAP
    assert max(len(label) for _, _, label in ev.timeline["busy"]) <= 160
    assert timeline_entry(_ev("x", -1)) is None


def test_timeline_marks_anchor_boundary_keys_and_first_broken_link() -> None:
    r = _result(
        Finding(codes.KEY_SHREDDED, "dialogue:dlg-1/entity:claim/01#01", "shredded"),
        Finding(codes.CHAIN_GAP, f"chain:{LIFECYCLE}@4", "first", extra={"chain_id": LIFECYCLE, "seq": 4}),
        Finding(codes.CHAIN_GAP, f"chain:{LIFECYCLE}@7", "second", extra={"chain_id": LIFECYCLE, "seq": 7}),
    )  # fmt: skip
    spaced = "dialogue:dlg%2F2 Zürich/events"  # escaped ids may hold spaces
    r.chain_lengths.update({LIFECYCLE: 10, "crypto-audit": 20, spaced: 3})
    timeline = {
        LIFECYCLE: [(6, "boundary", "from dynamodb to postgresql"), (0, "genesis", "t0")],
        "crypto-audit": [
            (0, "genesis", "t"),
            (12, "rotate", "dek#dlg-1#1"),
            (15, "destroy", "dek#dlg%2F2 Zürich#1 (denied)"),
        ],
    }
    anchors = [Anchor(LIFECYCLE, 5, "checkpoint", "cp.json", "7f" * 32)]
    page = render_html(r, _summary(), timeline, anchors=anchors)

    def article_of(chain_id: str) -> str:
        (found,) = re.findall(
            rf'<article class="chain" id="chain-\d" data-chain-id="{re.escape(chain_id)}".*?</article>',
            page,
        )
        return str(found)

    article = article_of(LIFECYCLE)
    assert "dialogue <code>dlg-1</code>" in article and "first error at seq 4" in article
    assert article.count('class="m m-broken"') == 1
    assert "seq 4: first broken link: CHAIN_GAP" in article  # the first one, not the second
    assert "seq 4: first broken link" in article and "seq 7: first broken link" not in article
    assert "seq 6: migration boundary: from dynamodb to postgresql" in article
    assert (
        "seq 4: anchor: checkpoint cp.json: holds events 0 to 4 (signer 7f7f7f7f7f7f7f7f)"
        in article
    )
    assert "seq 9: last event" in article
    # The rotation lives in the audit log; the dialogue lists it, linked to that chain.
    assert (
        'key rotated <code>dek#dlg-1#1</code> (<a href="#chain-1">crypto-audit</a> seq 12)'
        in article
    )
    assert "findings at this dialogue: 2 error, 1 notice" in article
    assert '<a href="#findings" data-dialogue="dlg-1">show them</a>' in article
    assert page.count('<svg class="timeline"') == 3
    spaced_article = article_of(spaced)
    assert "dialogue <code>dlg/2 Zürich</code>" in spaced_article
    assert "key destroyed <code>dek#dlg%2F2 Zürich#1 (denied)</code>" in spaced_article


# --- the CLI and a real browser ---------------------------------------------------------


def _tampered(demo: Path, out: Path) -> tuple[str, str]:
    """The demo with one byte of a ciphertext flipped and one lifecycle event deleted,
    rewritten with a fresh trailer (so only the envelope and the chain tell)."""
    kept: list[object] = []
    flipped = dropped = ""
    for item in NdjsonSource(demo / "export.ndjson").read():
        if (
            isinstance(item, EntityRecord)
            and not flipped
            and item.address.dialogue == "dlg-2026-001"
            and item.envelope is not None
        ):
            ct = bytearray(item.envelope.ciphertext)
            ct[3] ^= 0x01
            item = dataclasses.replace(
                item, envelope=dataclasses.replace(item.envelope, ciphertext=bytes(ct))
            )
            flipped = str(item.address)
        if (
            isinstance(item, EntityRecord)
            and not dropped
            and item.address.dialogue == "dlg-2026-002"
            and item.address.entity_type is EntityType.EVENT
            and item.attributes.get("seq") == {"N": "40"}
        ):
            dropped = str(item.address)
            continue
        kept.append(item)
    assert flipped and dropped
    write_export(out, kept, source="tampered", created_at="2026-03-02T12:00:00.000Z")  # type: ignore[arg-type]
    return flipped, dropped


@pytest.fixture(scope="module")
def pages(cli: Cli, demo: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The three HTML reports, written with ``-o`` through the CLI and scanned for secrets.

    The commands run in a copy of the demo directory with relative paths, as a user
    would type them (so the screenshots show ``export.ndjson``, not a temporary path)."""
    tmp = tmp_path_factory.mktemp("pages")
    for name in ("export.ndjson", "checkpoint.json", "umk.hex", "trusted-keys.json", "signer.key"):
        shutil.copy2(demo / name, tmp / name)
    _tampered(demo, tmp / "tampered.ndjson")
    without(demo / "export.ndjson", tmp / "migrated.ndjson", ["dek#dlg-2026-001#1"])
    trust = ("--umk", "umk.hex", "--trusted-keys", "trusted-keys.json")
    checkpoint = ("--checkpoint", "checkpoint.json")
    expect(cli("gate", "pre", "export.ndjson", "--signing-key", "signer.key", *trust,
               "-m", "manifest.json", "-q", cwd=tmp), 0)  # fmt: skip
    out = {name: tmp / f"report-{name}.html" for name in ("demo", "tampered", "gate")}
    for argv, name, code in (
        (("verify", "export.ndjson", *trust, *checkpoint), "demo", 0),
        (("verify", "tampered.ndjson", *trust, *checkpoint), "tampered", 1),
        (("gate", "post", "migrated.ndjson", "-m", "manifest.json", *trust), "gate", 1),
    ):
        run = expect(cli(*argv, "--format", "html", "-o", out[name].name, cwd=tmp), code)
        assert run.stdout == ""
    for path in out.values():
        leaked = cli.secrets.leaks(path.read_text(encoding="utf-8"))
        assert not leaked, f"{path.name} holds {leaked}"
    return out


def _browse(page: Path, png: Path, fragment: str = "") -> str:
    """Open ``page`` in headless Chromium: a screenshot to ``png``, and the DOM after
    the page's script ran."""
    assert Path(CHROMIUM).exists(), (
        f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium; "
        "scripts/test.sh does)"
    )
    profile = png.with_suffix(".profile")
    argv = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={profile}", f"--screenshot={png}",
        "--window-size=1280,2600", "--hide-scrollbars", "--dump-dom",
        page.resolve().as_uri() + fragment,
    ]  # fmt: skip
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    shutil.rmtree(profile, ignore_errors=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    return proc.stdout


@pytest.fixture(scope="module")
def rendered(pages: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Each page's DOM after JavaScript, rendered concurrently (each screenshot kept)."""
    shots = tmp_path_factory.mktemp("shots")
    jobs = {name: (page, shots / f"report-{name}.png", "") for name, page in pages.items()}
    jobs["filtered"] = (pages["tampered"], shots / "filtered.png", "#filter=CHAIN_GAP")
    with ThreadPoolExecutor(2) as pool:
        doms = dict(zip(jobs, pool.map(lambda j: _browse(*j), jobs.values()), strict=True))
    if os.environ.get("CHAINAUDIT_UPDATE_SCREENSHOTS") == "1":
        (REPO / "docs" / "img").mkdir(exist_ok=True)
        for name in pages:
            shutil.copyfile(
                shots / f"report-{name}.png", REPO / "docs" / "img" / f"report-{name}.png"
            )
    return doms


def _visible_findings(dom: str) -> list[tuple[str, str]]:
    """(code, where) of each finding group the filters leave visible in the DOM."""
    out = []
    for li in re.findall(r'<li class="finding[^"]*"[^>]*>.*?</li>', dom, re.S):
        if re.match(r"<li[^>]* hidden", li):
            continue
        code = re.search(r'<code class="code">([^<]*)</code>', li)
        where = re.search(r'<code class="where">([^<]*)</code>', li)
        assert code and where
        out.append((code.group(1), where.group(1)))
    return out


def _script_ran(dom: str) -> None:
    """The filter script ran (the CSP admitted it): the filters are shown and counted."""
    assert '<form id="filters">' in dom, "the filter form is still hidden: the script did not run"
    assert re.search(r'<span id="shown">\d+ of \d+ finding group\(s\) shown</span>', dom)


def test_demo_page_in_chromium(rendered: dict[str, str]) -> None:
    dom = rendered["demo"]
    assert ">chainaudit verify ndjson:export.ndjson: OK (exit 0), keyed</h1>" in dom
    _script_ran(dom)
    assert _visible_findings(dom) == [("KEY_SHREDDED", "dialogue:dlg-2026-003/entity:claim/01#01")]
    assert dom.count('<svg class="timeline"') == 6
    assert dom.count('class="status st-anchored"') == 6
    assert "seq 63 — from dynamodb to postgresql" in dom  # dlg-2026-005's boundary
    assert "seq 63 — dek#dlg-2026-003#1" in dom  # the erasure receipt
    assert '<span class="lvl lvl-proven">proven</span>' in dom


def test_tampered_page_in_chromium(rendered: dict[str, str]) -> None:
    dom = rendered["tampered"]
    assert ": FINDINGS (exit 1), keyed</h1>" in dom
    _script_ran(dom)
    visible = _visible_findings(dom)
    assert ("AUTHENTICATION_FAILED", "dialogue:dlg-2026-001/entity:claim/01#01") in visible
    assert ("CHAIN_GAP", "chain:dialogue:dlg-2026-002/events@40") in visible
    assert visible[-1][0] == "KEY_SHREDDED", "errors first, notices last"
    assert "first error at seq 40" in dom and dom.count('class="m m-broken"') >= 1
    # The text filter, preset from the address: only the chain gap is left.
    filtered = rendered["filtered"]
    _script_ran(filtered)
    assert _visible_findings(filtered) == [("CHAIN_GAP", "chain:dialogue:dlg-2026-002/events@40")]
    assert '<span id="shown">1 of 4 finding group(s) shown</span>' in filtered


def test_gate_page_in_chromium(rendered: dict[str, str]) -> None:
    dom = rendered["gate"]
    assert (
        "chainaudit gate post ndjson:migrated.ndjson" in dom
        and ": FINDINGS (exit 1), keyed</h1>" in dom
    )
    _script_ran(dom)
    visible = _visible_findings(dom)
    assert ("MANIFEST_RECORD_MISSING", "dek#dlg-2026-001#1") in visible
    assert any(code == "MANIFEST_CHAIN_UNBRIDGED" for code, _ in visible)
    assert 'complete</strong>*<span class="req">required</span>' in dom
    assert dom.count('<svg class="timeline"') == 6
    assert "manifest " in dom and "holds events 0 to" in dom  # the manifest anchors each chain


def test_html_error_report_through_the_cli(cli: Cli, tmp_path: Path) -> None:
    """An exit-2 run still writes its HTML report, showing the error (REP-1, REP-8)."""
    out = tmp_path / "error.html"
    run = cli("verify", tmp_path / "absent.ndjson", "--format", "html", "-o", out)
    expect(run, 2)
    page = out.read_text(encoding="utf-8")
    assert ": ERROR (exit 2)</h1>" in page
    assert "absent.ndjson: no such file or directory" in page


_CHAIN_IDS = ["dialogue:b/events", "dialogue:a/events", "audit:crypto", "dialogue:é/events", "x"]


@given(
    lengths=st.dictionaries(st.sampled_from(_CHAIN_IDS), st.integers(0, 9), max_size=5),
    broken=st.lists(st.sampled_from([*_CHAIN_IDS, "dialogue:z/events"]), max_size=6),
    timeline=st.dictionaries(
        st.sampled_from(_CHAIN_IDS),
        st.lists(
            st.tuples(st.integers(0, 5), st.sampled_from(["genesis", "rotate"]), st.just("k")),
            max_size=3,
        ),
        max_size=3,
    ),
    anchored=st.lists(st.sampled_from(_CHAIN_IDS), max_size=3),
    most=st.integers(0, 7),
    spill=st.sampled_from(["0", "4096"]),
)
@settings(max_examples=80, deadline=None)
def test_the_chains_drawn_are_the_first_broken_then_the_others_in_utf8_order(
    lengths: dict[str, int],
    broken: list[str],
    timeline: dict[str, list[tuple[int, str, str]]],
    anchored: list[str],
    most: int,
    spill: str,
) -> None:
    """What the page draws (built for the drawn chains only, ids counted on
    disk) is what drawing every chain, then keeping at most MAX_CHAINS of
    them broken ones first, draws."""
    from chainaudit.report import html as page

    result = Result()
    result.chain_lengths.update(lengths)
    for n, cid in enumerate(broken):
        result.add(
            Finding(
                codes.CHAIN_LINK_BROKEN, f"chain:{cid}@{n}", "m", extra={"chain_id": cid, "seq": n}
            )
        )
    anchors = [Anchor(cid, 1, "checkpoint", "cp.json") for cid in anchored]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(page, "MAX_CHAINS", most)
        mp.setenv("CHAINAUDIT_SPILL_LIMIT", spill)
        drawn, total = page._chains(result, timeline, anchors)
    every = sorted({*lengths, *broken, *timeline, *anchored}, key=lambda c: c.encode("utf-8"))
    first_error = {}
    for n, cid in enumerate(broken):
        first_error.setdefault(cid, n)
    keep = sorted(every, key=lambda c: c not in first_error)[:most]
    assert total == len(every)
    assert [c.chain_id for c in drawn] == [c for c in every if c in keep]
    for c in drawn:
        assert c.length == lengths.get(c.chain_id)
        assert c.events == sorted(timeline.get(c.chain_id, []))
        assert c.anchors == [a for a in anchors if a.chain_id == c.chain_id]
        n = first_error.get(c.chain_id)
        assert (c.broken is None) == (n is None)
        assert n is None or (c.broken is not None and c.broken.extra["seq"] == n)
