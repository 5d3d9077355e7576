"""The HTML report (REP-8): one self-contained page to hand to someone else.

:func:`render_html` turns the same :class:`~chainaudit.findings.Result` and
:class:`~chainaudit.report.render.Summary` the other forms render into one HTML
document: the verdict (worded as the text report's first line), the
provenance header, what was proven (REP-7, each family linked to its
threat-model section), the checked counters, the findings grouped as in
the text report (REP-2 item 4) with severity, code, dialogue and text
filters (``report.html#filter=TEXT`` presets the text one), and a
per-dialogue view drawing each hash chain as a timeline from genesis to its
last event: anchors (checkpoints, manifest entries), migration boundaries,
key rotations, destructions and erasure receipts, and the first broken
link.

The page is self-contained: inline CSS, one small inline script (the
filters; without JavaScript every finding is listed), no external resource
of any kind, and a Content-Security-Policy that allows exactly that style
and that script by hash, so even markup that escaped escaping could load
or run nothing. Every value that comes from data (subject, addresses,
messages, values, sources, chain ids, labels) is first made printable
(REP-2.1) and then HTML-escaped. The page holds only what the result, the
summary, the chain timeline and the anchors hold, which by contract is never
key material or a decrypted payload. Rendering is pure and deterministic:
no clock (the time is the summary's ``generated_at``), no randomness.
"""

from __future__ import annotations

import base64
import hashlib
import html
import itertools
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from chainaudit import __version__
from chainaudit.chain.events import LIFECYCLE_PREFIX, LIFECYCLE_SUFFIX
from chainaudit.findings import Finding, Result, Severity
from chainaudit.findings.result import code_counts
from chainaudit.findings.threats import link_of
from chainaudit.records.address import AddressError, unescape_component
from chainaudit.report.assurance import SECTIONS, Anchor, Level
from chainaudit.report.render import (
    _LEVEL_WORDS,
    _VERDICTS,
    SUMMARY_ROWS,
    Summary,
    _codes_in_order,
    _mode_suffix,
    _safe,
    first_groups,
    group_key,
    report_exit_code,
)
from chainaudit.spillmap import NONE, PICKLE, SpillMap, sorted_by_utf8

#: Finding groups listed when the caller gives no maximum (the counts by
#: code always cover every finding).
DEFAULT_MAX_GROUPS = 1000
#: Chains drawn at most; chains with a broken link are drawn first.
MAX_CHAINS = 300

#: chain id -> notable events, as :class:`chainaudit.report.assurance.Evidence` keeps them.
Timeline = Mapping[str, Sequence[tuple[int, str, str]]]

_SEVERITIES = (Severity.ERROR, Severity.UNVERIFIED, Severity.NOTICE)

_HEADLINES = {
    "ok": "Everything was checked and is sound.",
    "findings": "Integrity findings: data was damaged, tampered with or is missing.",
    "unverified": "Not everything could be verified: evidence or input is missing.",
    "error": "The run ended in an error before a complete result.",
}

#: Words for the timeline's event kinds (chainaudit.report.assurance.TIMELINE_KINDS, and
#: the anchors, the tip and the first broken link the page adds).
_KIND_WORDS = {
    "genesis": "genesis",
    "rotate": "key rotated",
    "destroy": "key destroyed",
    "boundary": "migration boundary",
    "receipt": "erasure receipt",
    "anchor": "anchor",
    "tip": "last event",
    "broken": "first broken link",
}

_CSS = """
:root{--err:#b3261e;--unv:#a35f00;--note:#2f5f93;--ok:#1e7b34;--line:#d5d8de;--ink:#1b1f24;--mut:#5b6470}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--ink);background:#f6f7f9}
main{max-width:1200px;margin:0 auto;padding:0 20px 40px}
[hidden]{display:none!important}
code,.mono{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:12.5px;overflow-wrap:anywhere}
h2{font-size:17px;margin:26px 0 10px;border-bottom:1px solid var(--line);padding-bottom:4px}
h3{font-size:15px;margin:0 0 4px}
table{border-collapse:collapse;background:#fff;border:1px solid var(--line)}
th,td{text-align:left;padding:4px 10px;border-bottom:1px solid var(--line);vertical-align:top}
th{background:#eef0f3;font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums}
a{color:#1a56a8}
.verdict{padding:18px 20px;color:#fff;margin:0 0 8px}
.verdict .wrap{max-width:1160px;margin:0 auto}
.top{display:grid;grid-template-columns:minmax(0,3fr) minmax(0,2fr);gap:0 28px}
.counters{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:0 18px;margin:0;background:#fff;border:1px solid var(--line);padding:4px 10px}
.counters div{display:flex;justify-content:space-between;gap:10px;border-bottom:1px solid #eceef1;padding:2px 0}
.counters dt{overflow-wrap:anywhere}
.counters dd{margin:0;font-variant-numeric:tabular-nums}
.verdict h1{font-size:20px;margin:0;font-family:ui-monospace,"DejaVu Sans Mono",Menlo,monospace;overflow-wrap:anywhere}
.verdict p{margin:6px 0 0;font-size:15px}
.v-ok{background:var(--ok)}.v-findings{background:var(--err)}.v-unverified{background:var(--unv)}.v-error{background:#5a1a16}
.counts span{display:inline-block;margin-right:14px}
.sev{display:inline-block;min-width:78px;padding:0 6px;border-radius:3px;color:#fff;font-size:12px;text-align:center}
.sev-error{background:var(--err)}.sev-unverified{background:var(--unv)}.sev-notice{background:var(--note)}
.lvl{font-weight:600}.lvl-proven{color:var(--ok)}.lvl-partial{color:var(--unv)}.lvl-not_proven{color:var(--err)}.lvl-not_applicable{color:var(--mut)}
.req{font-size:11px;border:1px solid var(--ink);border-radius:3px;padding:0 4px;margin-left:4px}
.error-box{background:#fff;border-left:5px solid var(--err);padding:10px 14px}
#filters{background:#fff;border:1px solid var(--line);padding:8px 12px;margin:12px 0;display:flex;flex-wrap:wrap;gap:14px;align-items:center}
#filters input[type=search]{min-width:260px;padding:3px 6px}
#finding-list{list-style:none;padding:0;margin:0}
.finding{background:#fff;border:1px solid var(--line);border-left:5px solid var(--note);margin:0 0 6px;padding:5px 12px}
.finding.sev-error{border-left-color:var(--err);background:#fff}.finding.sev-unverified{border-left-color:var(--unv);background:#fff}
.finding p{margin:3px 0}.finding .more{color:var(--mut)}.finding .advice{color:var(--mut)}
.chain{background:#fff;border:1px solid var(--line);padding:10px 14px;margin:0 0 12px}
.chain .meta{color:var(--mut);margin:0 0 4px}
.status{font-size:12px;border-radius:3px;padding:0 6px;margin-left:6px;color:#fff}
.st-broken{background:var(--err)}.st-anchored{background:var(--ok)}.st-partial{background:var(--unv)}.st-unanchored{background:var(--mut)}
svg.timeline{display:block;width:100%;height:auto;max-height:90px}
.axis{stroke:#8a929c;stroke-width:3}.anchored{stroke:var(--ok);stroke-width:7;stroke-opacity:.35}
.tick{font-size:13px;fill:var(--mut);font-family:ui-monospace,"DejaVu Sans Mono",monospace}
.m-genesis{fill:#2a7}.m-tip{fill:#555}.m-anchor{stroke:var(--ok);stroke-width:3;fill:var(--ok)}
.m-boundary{fill:#7a3fb0}.m-rotate{fill:#d98000}.m-destroy{stroke:#6b1d1d;stroke-width:4}.m-receipt{fill:#2f5f93}
.m-broken{fill:var(--err)}.m-broken text{fill:#fff;font-weight:700;font-size:15px}
.events{margin:4px 0 0;padding:0;list-style:none;columns:2 420px;color:var(--ink)}
.events li{break-inside:avoid}
.k{display:inline-block;min-width:122px;font-size:12px}
.k-broken{color:var(--err);font-weight:700}.k-anchor{color:var(--ok)}.k-boundary{color:#7a3fb0}.k-rotate{color:#b36a00}.k-destroy{color:#6b1d1d}.k-receipt{color:#2f5f93}
.legend span{margin-right:14px;white-space:nowrap}
.keys{margin:4px 0 0;color:var(--mut)}
footer{color:var(--mut);margin-top:30px;font-size:12px}
""".strip()

_SCRIPT = """
(function () {
  var form = document.getElementById("filters");
  var list = document.getElementById("finding-list");
  if (!form || !list) { return; }
  form.hidden = false;
  var items = Array.prototype.slice.call(list.children);
  var shown = document.getElementById("shown");
  function apply() {
    var want = {};
    Array.prototype.forEach.call(form.querySelectorAll("input[name=severity]"), function (box) {
      want[box.value] = box.checked;
    });
    var code = form.elements.code.value;
    var dialogue = form.elements.dialogue.value;
    var text = form.elements.q.value.toLowerCase();
    var n = 0;
    items.forEach(function (li) {
      var ok = want[li.getAttribute("data-severity")] &&
        (code === "" || li.getAttribute("data-code") === code) &&
        (dialogue === "" || (li.getAttribute("data-dialogues") || "").indexOf("/" + dialogue + "/") >= 0) &&
        (text === "" || li.textContent.toLowerCase().indexOf(text) >= 0);
      li.hidden = !ok;
      if (ok) { n += 1; }
    });
    shown.textContent = n + " of " + items.length + " finding group(s) shown";
  }
  form.addEventListener("input", apply);
  form.addEventListener("change", apply);
  form.addEventListener("submit", function (e) { e.preventDefault(); });
  var preset = /^#filter=(.*)$/.exec(window.location.hash);
  if (preset) {
    try { form.elements.q.value = decodeURIComponent(preset[1]); } catch (e) { /* not a filter */ }
  }
  Array.prototype.forEach.call(document.querySelectorAll("a[data-dialogue]"), function (a) {
    a.addEventListener("click", function () {
      form.elements.code.value = "";
      form.elements.q.value = "";
      form.elements.dialogue.value = a.getAttribute("data-dialogue");
      apply();
    });
  });
  apply();
})();
""".strip()


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


#: Only the page's own style and script, by hash; nothing else, from anywhere.
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src {_csp_hash(_CSS)}; script-src {_csp_hash(_SCRIPT)}; "
    "img-src 'none'; base-uri 'none'; form-action 'none'"
)


def _e(text: object) -> str:
    """A data value for HTML text or a double-quoted attribute: printable (REP-2.1), then escaped."""
    return html.escape(_safe(None if text is None else str(text)), quote=True)


# --- chains ------------------------------------------------------------------------


@dataclass
class _Chain:
    """What the page knows of one chain."""

    chain_id: str
    length: int | None
    events: list[tuple[int, str, str]] = field(default_factory=list)
    anchors: list[Anchor] = field(default_factory=list)
    broken: Finding | None = None

    @property
    def broken_seq(self) -> int | None:
        seq = None if self.broken is None else self.broken.extra.get("seq")
        return seq if isinstance(seq, int) and not isinstance(seq, bool) else None

    @property
    def best_anchor(self) -> Anchor | None:
        return max(self.anchors, key=lambda a: a.count, default=None)

    @property
    def last(self) -> int:
        """The last seq the axis shows."""
        seqs = [s for s, _, _ in self.events] + [a.count - 1 for a in self.anchors]
        if self.length:
            seqs.append(self.length - 1)
        if self.broken_seq is not None:
            seqs.append(self.broken_seq)
        return max([0, *seqs])


def _dialogue_of_chain(chain_id: str) -> str | None:
    """The escaped dialogue id of a lifecycle chain id, else None."""
    if chain_id.startswith(LIFECYCLE_PREFIX) and chain_id.endswith(LIFECYCLE_SUFFIX):
        return chain_id[len(LIFECYCLE_PREFIX) : -len(LIFECYCLE_SUFFIX)]
    return None


_OUTCOME_SUFFIX = re.compile(r" \([a-z?]+\)\Z")


def _dialogue_of_key(key_id: str) -> str | None:
    """The escaped dialogue id a key id (``dek#D#V``) names, else None."""
    parts = key_id.split("#")
    return parts[1] if len(parts) == 3 and parts[0] == "dek" else None


def _display_dialogue(escaped: str) -> str:
    try:
        return unescape_component(escaped)
    except (AddressError, ValueError):
        return escaped


def _chains(
    result: Result, timeline: Timeline, anchors: Sequence[Anchor]
) -> tuple[list[_Chain], int]:
    """The chains drawn, in UTF-8 order of their ids, and how many chains
    there are: every chain a length, a timeline, an anchor or an error
    finding names. All are drawn up to :data:`MAX_CHAINS`; past that the
    broken ones first (each chain's first error finding naming it), then
    the others, each in UTF-8 order. Only the drawn chains are built: the
    ids are counted in a :class:`~chainaudit.spillmap.SpillMap`, so a run
    with a hundred thousand chains draws its page in bounded memory."""
    broken: SpillMap[str, Finding] = SpillMap(PICKLE)  # chain id -> its first error
    if result.severities()[Severity.ERROR]:
        for f in result.findings:
            named = f.extra.get("chain_id")
            if f.severity is Severity.ERROR and isinstance(named, str):
                broken.put_new(named, f)
    every: SpillMap[str, None] = SpillMap(NONE)
    for ids in (result.chain_lengths, timeline, broken):
        for cid in ids:
            every.put_new(cid, None)
    for a in anchors:
        every.put_new(a.chain_id, None)
    drawn = [cid for cid, _ in itertools.islice(sorted_by_utf8(broken), MAX_CHAINS)]
    if len(drawn) < MAX_CHAINS:
        room = MAX_CHAINS - len(drawn)
        others = (cid for cid, _ in sorted_by_utf8(every) if cid not in broken)
        drawn += itertools.islice(others, room)
    drawn.sort(key=lambda cid: cid.encode("utf-8", "surrogatepass"))
    chains = []
    for cid in drawn:
        c = _Chain(cid, result.chain_lengths.get(cid))
        c.events = sorted(timeline.get(cid, ()))
        c.anchors = [a for a in anchors if a.chain_id == cid]
        c.broken = broken.get(cid)
        chains.append(c)
    return chains, len(every)


_X0, _X1, _Y = 40.0, 960.0, 34.0


def _marker(kind: str, x: float, title: str) -> str:
    y = _Y
    if kind == "genesis":
        shape = f'<circle cx="{x:.1f}" cy="{y}" r="7"/>'
    elif kind == "tip":
        shape = f'<circle cx="{x:.1f}" cy="{y}" r="5"/>'
    elif kind == "anchor":
        shape = f'<path d="M{x:.1f} {y + 10} V{y - 22} h13 l-4 5 l4 5 h-13"/>'
    elif kind == "boundary":
        shape = (
            f'<polygon points="{x:.1f},{y - 10} {x + 9:.1f},{y} {x:.1f},{y + 10} {x - 9:.1f},{y}"/>'
        )
    elif kind == "rotate":
        shape = f'<polygon points="{x:.1f},{y - 10} {x + 9:.1f},{y + 7} {x - 9:.1f},{y + 7}"/>'
    elif kind == "destroy":
        shape = f'<path d="M{x - 7:.1f} {y - 7} L{x + 7:.1f} {y + 7} M{x + 7:.1f} {y - 7} L{x - 7:.1f} {y + 7}"/>'
    elif kind == "receipt":
        shape = f'<rect x="{x - 7:.1f}" y="{y - 7}" width="14" height="14"/>'
    else:  # broken
        shape = (
            f'<circle cx="{x:.1f}" cy="{y}" r="12"/>'
            f'<text x="{x:.1f}" y="{y + 5}" text-anchor="middle">!</text>'
        )
    return f'<g class="m m-{kind}"><title>{title}</title>{shape}</g>'


def _chain_points(c: _Chain) -> list[tuple[int, str, str]]:
    """Every mark of ``c``'s timeline as (seq, kind, escaped description), by seq."""
    points: list[tuple[int, str, str]] = []
    kinds = {k for _, k, _ in c.events}
    if (c.length or 0) > 0 and "genesis" not in kinds:
        points.append((0, "genesis", ""))
    points += [(s, k, _e(label)) for s, k, label in c.events if k in _KIND_WORDS]
    for a in c.anchors:
        if a.count > 0:
            desc = f"{_e(a.kind)} {_e(a.origin)}: holds events 0 to {a.count - 1}"
            if a.signer:
                desc += f" (signer {_e(a.signer[:16])})"
            points.append((a.count - 1, "anchor", desc))
    if c.length:
        points.append((c.length - 1, "tip", f"{c.length} event(s)"))
    if c.broken is not None:
        b = c.broken
        seq = c.broken_seq
        desc = f"{_e(b.code.name)} at <code>{_e(b.where)}</code>: {_e(b.message)}"
        points.append((c.last if seq is None else seq, "broken", desc))
    order = list(_KIND_WORDS)
    return sorted(points, key=lambda p: (p[0], order.index(p[1])))


def _timeline_svg(c: _Chain, points: list[tuple[int, str, str]]) -> str:
    last = c.last

    def x(seq: int) -> float:
        return _X0 + (_X1 - _X0) * (min(max(seq, 0), last) / last if last else 0.0)

    out = [
        f'<svg class="timeline" viewBox="0 0 1000 64" role="img" '
        f'aria-label="chain {_e(c.chain_id)}: events 0 to {last}">',
        f'<line class="axis" x1="{_X0}" y1="{_Y}" x2="{_X1}" y2="{_Y}"/>',
    ]
    best = c.best_anchor
    if best is not None and best.count > 0:
        out.append(
            f'<line class="anchored" x1="{_X0}" y1="{_Y}" x2="{x(best.count - 1):.1f}" y2="{_Y}"/>'
        )
    # Draw the first broken link last, so nothing hides it.
    for seq, kind, desc in sorted(points, key=lambda p: p[1] == "broken"):
        title = f"seq {seq}: {_KIND_WORDS[kind]}" + (f": {desc}" if desc else "")
        # <title> is text: drop the <code> markup the list uses.
        title = title.replace("<code>", "").replace("</code>", "")
        out.append(_marker(kind, x(seq), title))
    out.append(f'<text class="tick" x="{_X0}" y="60" text-anchor="start">0</text>')
    out.append(f'<text class="tick" x="{_X1}" y="60" text-anchor="end">{last}</text>')
    out.append("</svg>")
    return "".join(out)


def _chain_status(c: _Chain) -> tuple[str, str]:
    if c.broken is not None:
        seq = c.broken_seq
        return "st-broken", "first error" + ("" if seq is None else f" at seq {seq}")
    best = c.best_anchor
    if best is None:
        return "st-unanchored", "not anchored"
    if c.length is None or best.count >= c.length:
        return "st-anchored", "anchored"
    return "st-partial", f"anchored to seq {best.count - 1}; {c.length - best.count} newer"


#: A key event of a dialogue found in an audit-log chain: (that chain's page
#: id, its chain id, seq, kind, label).
_KeyEvent = tuple[str, str, int, str, str]


def _chain_article(
    c: _Chain,
    anchor_id: str,
    key_events: Sequence[_KeyEvent],
    per_dialogue: Mapping[str, Counter[str]],
) -> str:
    dialogue = _dialogue_of_chain(c.chain_id)
    cls, status = _chain_status(c)
    if dialogue is not None:
        heading = f"dialogue <code>{_e(_display_dialogue(dialogue))}</code>"
    else:
        heading = f"chain <code>{_e(c.chain_id)}</code>"
    meta = [f"chain <code>{_e(c.chain_id)}</code>"]
    meta.append("length unknown" if c.length is None else f"{c.length} event(s)")
    if dialogue is not None:
        counts = per_dialogue.get(dialogue)
        if counts:
            said = ", ".join(f"{counts[s.value]} {s.value}" for s in _SEVERITIES if counts[s.value])
            meta.append(
                f'findings at this dialogue: {said} (<a href="#findings" data-dialogue="{_e(dialogue)}">'
                "show them</a>)"
            )
    points = _chain_points(c)
    items = "".join(
        f'<li><span class="k k-{kind}">{_KIND_WORDS[kind]}</span> seq {seq}'
        + (f" — {desc}" if desc else "")
        + "</li>"
        for seq, kind, desc in points
    )
    keys = ""
    if key_events:
        keys = '<p class="keys">Key events of this dialogue in the audit log: ' + "; ".join(
            f"{_KIND_WORDS[kind]} <code>{_e(label)}</code> "
            f'(<a href="#{ref}">{_e(chain)}</a> seq {seq})'
            for ref, chain, seq, kind, label in key_events
        ) + "</p>"  # fmt: skip
    return (
        f'<article class="chain" id="{anchor_id}" data-chain-id="{_e(c.chain_id)}">'
        f'<h3>{heading}<span class="status {cls}">{_e(status)}</span></h3>'
        f'<p class="meta">{" · ".join(meta)}</p>'
        f"{_timeline_svg(c, points)}"
        f'<ul class="events">{items}</ul>{keys}</article>'
    )


def _dialogue_of_where(where: str) -> str | None:
    """The escaped dialogue a finding's ``where`` names, for the per-dialogue counts."""
    for prefix in ("chain:dialogue:", "dialogue:"):
        if where.startswith(prefix):
            return where[len(prefix) :].split("/", 1)[0] or None
    return _dialogue_of_key(where) if where.startswith("dek#") else None


def _dialogue_attr(dialogues: set[str] | None) -> str:
    """``/D1/D2/``: escaped dialogue ids hold no ``/`` (ADDR-3 escapes it), so each is
    found by ``/D/``."""
    if not dialogues:
        return ""
    return "/" + "/".join(sorted(dialogues, key=lambda d: d.encode("utf-8", "surrogatepass"))) + "/"


def _chains_section(
    result: Result, total: int, shown: list[_Chain], ids: Mapping[str, str]
) -> list[str]:
    """The drawn chains (``shown``) of ``total``."""
    if not total:
        return []
    # Rotations and destructions live in the audit log: list them under their dialogue.
    key_events: dict[str, list[_KeyEvent]] = {}
    for c in shown:
        if _dialogue_of_chain(c.chain_id) is not None:
            continue
        for seq, kind, label in c.events:
            # The label is the key id, then " (outcome)" when the operation did not succeed.
            key_id = _OUTCOME_SUFFIX.sub("", label)
            d = _dialogue_of_key(key_id) if kind in ("rotate", "destroy") else None
            if d is not None:
                key_events.setdefault(d, []).append((ids[c.chain_id], c.chain_id, seq, kind, label))
    dialogues = [c for c in shown if _dialogue_of_chain(c.chain_id) is not None]
    # Findings by severity for each drawn dialogue (only those: bounded).
    per_dialogue: dict[str, Counter[str]] = {
        d: Counter() for c in dialogues if (d := _dialogue_of_chain(c.chain_id)) is not None
    }
    if per_dialogue:
        for f in result.findings:
            d = _dialogue_of_where(f.where)
            if d is not None and d in per_dialogue:
                per_dialogue[d][f.severity.value] += 1
    others = [c for c in shown if _dialogue_of_chain(c.chain_id) is None]
    legend = "".join(
        f'<span><svg viewBox="-12 22 24 24" width="18" height="18">{_marker(k, 0, _KIND_WORDS[k])}'
        f"</svg> {_KIND_WORDS[k]}</span>"
        for k in ("genesis", "anchor", "boundary", "rotate", "destroy", "receipt", "broken", "tip")
    )
    out = [
        '<section id="chains"><h2>Dialogues and their chains</h2>',
        f'<p class="legend">{legend}</p>',
        "<p>Each hash chain from its genesis (seq 0) to its last event; the shaded part "
        "is held by a verified anchor (a signed checkpoint or manifest). Hover a mark for "
        "details.</p>",
    ]
    if len(shown) < total:
        out.append(
            f"<p>{total - len(shown)} of {total} chain(s) not drawn "
            f"(at most {MAX_CHAINS}, broken ones first); the JSON report lists every finding.</p>"
        )
    for c in dialogues:
        d = _dialogue_of_chain(c.chain_id) or ""
        out.append(_chain_article(c, ids[c.chain_id], key_events.get(d, ()), per_dialogue))
    if others:
        out.append("<h3>Other chains (the crypto audit log)</h3>")
        for c in others:
            out.append(_chain_article(c, ids[c.chain_id], (), per_dialogue))
    out.append("</section>")
    return out


# --- the page ----------------------------------------------------------------------


def _table(head: Sequence[str], rows: Iterable[Sequence[str]], cls: str = "") -> str:
    """A table of already-escaped cells."""
    th = "".join(f"<th>{h}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(c if c.startswith("<td") else f"<td>{c}</td>" for c in row) + "</tr>"
        for row in rows
    )
    attr = f' class="{cls}"' if cls else ""
    return f"<table{attr}><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _provenance(summary: Summary) -> list[str]:
    p = summary.provenance
    made = _e(summary.generated_at) if summary.generated_at else "not stated"
    rows: list[list[str]] = [
        ["tool", f"chainaudit {_e(__version__)}"],
        ["report made", made],
        ["command", f"<code>chainaudit {_e(summary.command)}</code>"],
        ["subject", f"<code>{_e(summary.subject)}</code>"],
    ]
    if p:
        for item in p.get("inputs") or ():
            digest = item.get("sha256")
            rows.append([
                "input",
                f"<code>{_e(item.get('name'))}</code>"
                + (f"<br>sha256 <code>{_e(digest)}</code>" if digest else " (not a file: no digest)"),
            ])  # fmt: skip
        fp = p.get("umk_fingerprint")
        rows.append(["UMK", f"fingerprint <code>{_e(fp)}</code>" if fp else "none given"])
        pinned = list(p.get("pinned") or ())
        rows.append(["pinned keys", "<br>".join(f"<code>{_e(k)}</code>" for k in pinned) or "none"])
        cps = list(p.get("checkpoints") or ())
        rows.append(["checkpoints", "<br>".join(f"<code>{_e(c)}</code>" for c in cps) or "none"])
    return [
        '<section id="provenance"><h2>Provenance</h2>',
        _table(["item", "value"], rows),
        "</section>",
    ]


def _assurance(summary: Summary) -> list[str]:
    if not summary.assurance:
        return []
    rows = []
    for family, a in summary.assurance.items():
        name = f"<strong>{_e(family)}</strong>"
        if family in summary.required:
            name += '*<span class="req">required</span>'
        see = SECTIONS.get(family)
        link = f'<a href="{_e(see)}">{_e(see.split("#", 1)[1])}</a>' if see else ""
        rows.append([
            name,
            f'<span class="lvl lvl-{_e(a.level.value)}">{_e(_LEVEL_WORDS[a.level])}</span>',
            _e(a.basis),
            link,
        ])  # fmt: skip
    out = [
        '<section id="assurance"><h2>What was proven</h2>',
        _table(["assurance", "level", "basis", "threat model"], rows),
    ]
    if summary.required:
        out.append("<p>* required (--require): a family not proven ends the run in exit 3.</p>")
    unmet = [f for f in summary.required if summary.assurance[f].level
             not in (Level.PROVEN, Level.NOT_APPLICABLE)]  # fmt: skip
    if unmet:
        out.append(f"<p>Required and not proven: {_e(', '.join(unmet))}.</p>")
    out.append(
        '<p class="meta">Threat-model links are relative to the chainaudit source tree '
        "(docs/threat-model.md).</p></section>"
    )
    return out


def _checked(result: Result) -> list[str]:
    rows = [(k, result.checked.get(k, 0)) for k in SUMMARY_ROWS]
    rows += [(k, result.checked[k]) for k in sorted(result.checked) if k not in SUMMARY_ROWS]
    cells = "".join(f"<div><dt>{_e(k)}</dt><dd>{int(v)}</dd></div>" for k, v in rows)
    return [
        '<section id="checked"><h2>Checked</h2>',
        f'<dl class="counters">{cells}</dl>',
        "</section>",
    ]


def _findings(result: Result, max_groups: int, chain_refs: Mapping[str, str]) -> list[str]:
    out = ['<section id="findings"><h2>Findings</h2>']
    codes_ = _codes_in_order(result)
    if not codes_:
        out.append("<p>No findings.</p>")
        out.append("</section>")
        return out
    counts = Counter({c.name: n for c, n in code_counts(result.findings).items()})
    out.append(
        _table(
            ["finding", "severity", "count", "spec"],
            (
                [
                    f"<code>{_e(c.name)}</code>",
                    f'<span class="sev sev-{c.severity.value}">{c.severity.value}</span>',
                    f'<td class="num">{counts[c.name]}</td>',
                    _e(c.spec),
                ]
                for c in codes_
            ),
        )
    )
    listed, groups = first_groups(result.findings, max_groups)
    # The dialogues of every finding of a listed group (a group can span
    # dialogues), so the dialogue filter shows a group when any of its
    # findings is in that dialogue. Only the listed groups': the page shows
    # no other, and a run may have millions.
    spans: dict[str, set[str]] = {group_key(f): set() for f, _ in listed}
    for f in result.findings:
        named = spans.get(group_key(f))
        if named is not None:
            d = _dialogue_of_where(f.where)
            if d is not None:
                named.add(d)
    in_dialogues = (
        sorted(set().union(*spans.values()), key=lambda d: d.encode("utf-8", "surrogatepass"))
        if spans
        else []
    )
    severities = "".join(
        f'<label><input type="checkbox" name="severity" value="{s.value}" checked> '
        f"{s.value}</label>"
        for s in _SEVERITIES
    )
    options = "".join(f'<option value="{_e(c.name)}">{_e(c.name)}</option>' for c in codes_)
    dialogue_options = "".join(
        f'<option value="{_e(d)}">{_e(_display_dialogue(d))}</option>' for d in in_dialogues
    )
    out.append(
        '<form id="filters" hidden><strong>Filter</strong>'
        f"{severities}"
        f'<label>code <select name="code"><option value="">all codes</option>{options}</select></label>'
        '<label>dialogue <select name="dialogue"><option value="">all dialogues</option>'
        f"{dialogue_options}</select></label>"
        '<label>text <input type="search" name="q" placeholder="address, message, value..."></label>'
        '<span id="shown"></span></form>'
        "<noscript><p>JavaScript is off: every finding group is listed; the filters "
        "need JavaScript.</p></noscript>"
    )
    out.append(
        f"<p>{len(listed)} of {groups} finding group(s) ({len(result.findings)} "
        "finding(s)) listed: findings that say the same thing (code, message, values) are "
        "one group; errors first, then unverified, then notices.</p>"
    )
    out.append('<ol id="finding-list">')
    for f, n in listed:
        sev = f.severity.value
        parts = [
            f'<li class="finding sev-{sev}" data-severity="{sev}" data-code="{_e(f.code.name)}"'
            f' data-dialogues="{_e(_dialogue_attr(spans.get(group_key(f))))}">',
            f'<p><span class="sev sev-{sev}">{sev}</span> <code class="code">{_e(f.code.name)}</code>'
            f' at <code class="where">{_e(f.where)}</code>',
        ]
        if n > 1:
            parts.append(f' <span class="more">(+{n - 1} more like it)</span>')
        parts.append("</p>")
        parts.append(f'<p class="msg">{_e(f.message)}</p>')
        if f.expected is not None or f.actual is not None:
            parts.append(
                f'<p class="vals">expected <code>{_e(f.expected) if f.expected is not None else "-"}'
                f"</code>, got <code>{_e(f.actual) if f.actual is not None else '-'}</code></p>"
            )
        if f.source:
            parts.append(f'<p class="src">source: <code>{_e(f.source)}</code></p>')
        if f.code.advice:
            parts.append(f'<p class="advice">what to do: {_e(f.code.advice)}</p>')
        refs = [f"spec {_e(f.code.spec)}"]
        threat = link_of(f.code)
        if threat:
            refs.append(f'threat: <a href="{_e(threat)}">{_e(threat.split("#", 1)[-1])}</a>')
        cid = f.extra.get("chain_id")
        if isinstance(cid, str) and cid in chain_refs:
            refs.append(f'<a href="#{chain_refs[cid]}">chain timeline</a>')
        parts.append(f'<p class="advice">{" · ".join(refs)}</p></li>')
        out.append("".join(parts))
    out.append("</ol></section>")
    return out


def render_html(
    result: Result,
    summary: Summary,
    timeline: Timeline | None = None,
    *,
    anchors: Sequence[Anchor] = (),
    max_findings: int | None = None,
) -> str:
    """The HTML report (REP-8) of ``result``: one self-contained, deterministic page.

    ``timeline`` holds each chain's notable events
    (:attr:`chainaudit.report.assurance.Evidence.timeline`), ``anchors`` the anchors
    that verified (:attr:`~chainaudit.report.assurance.Evidence.anchors`); both are
    optional: without them a chain is drawn from its length alone.
    ``max_findings`` caps the finding groups listed (default
    :data:`DEFAULT_MAX_GROUPS`); the counts by code cover every finding.
    """
    code = report_exit_code(result, summary)
    verdict = _VERDICTS[code]
    line = (
        f"chainaudit {summary.command} {summary.subject}: "
        f"{verdict.upper()} (exit {code}){_mode_suffix(summary)}"
    )
    sev = Counter({s.value: n for s, n in result.severities().items()})
    counts = " ".join(
        f'<span><span class="sev sev-{s.value}">{s.value}</span> {sev[s.value]}</span>'
        for s in _SEVERITIES
    )
    header = (
        f'<header class="verdict v-{verdict}"><div class="wrap"><h1 id="verdict">{_e(line)}</h1>'
        f"<p>{_HEADLINES[verdict]}</p></div></header>"
    )
    body: list[str] = []
    if summary.mode == "keyless":
        body.append(
            "<p><strong>Keyless run:</strong> no envelope was authenticated; a well-formed "
            "replacement ciphertext would not be detected (docs/threat-model.md).</p>"
        )
    if summary.error is None:
        body.append(f'<p class="counts">{counts}</p>')
    if summary.error is not None:
        body.append(
            '<section id="error"><h2>Error</h2>'
            f'<p class="error-box"><code>{_e(summary.error)}</code></p>'
            f"<p>The run ended in exit {code} before a complete result: nothing was "
            "checked to the end, so there are no findings or counters to show.</p></section>"
        )
    top = _provenance(summary) + ([] if summary.error is not None else _checked(result))
    body.append(f'<div class="top">{"".join(top)}</div>')
    body += _assurance(summary)
    if summary.error is None:
        shown, total = _chains(result, timeline or {}, anchors)
        ids = {c.chain_id: f"chain-{i}" for i, c in enumerate(shown, 1)}
        limit = DEFAULT_MAX_GROUPS if max_findings is None else max_findings
        body += _findings(result, limit, ids)
        body += _chains_section(result, total, shown, ids)
    body.append(
        f"<footer>chainaudit {_e(__version__)} · docs/report.md REP-8 · a self-contained page: "
        "no external resource; it holds addresses, digests, counts, key ids and messages, "
        "never key material or decrypted payload.</footer>"
    )
    title = f"chainaudit {summary.command}: {verdict.upper()} (exit {code})"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">'
        '<meta name="referrer" content="no-referrer">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head>\n"
        f"<body>{header}<main>\n{chr(10).join(body)}\n</main><script>{_SCRIPT}</script></body></html>\n"
    )
