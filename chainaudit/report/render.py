"""Reports: one verdict rule and three renderings of a :class:`~chainaudit.findings.Result`.

* :func:`exit_code_for` is the single place that turns findings into the
  documented exit code (REP-1): 1 if any error, 3 if nothing failed but
  something could not be verified or nothing was checked, else 0.
* :func:`render_text` is for people: a summary table, findings by code,
  then the first findings with their address and what to do (REP-2).
* :func:`render_json` follows the versioned schema of ``docs/report.md``
  (REP-3), for scripts.
* :func:`render_junit` is JUnit XML with one test case per finding code,
  so CI shows each class of finding as a test (REP-4).

Reports carry only what :class:`~chainaudit.findings.Finding` holds, which
by contract is never key material or a decrypted payload. Renderers are
pure: the caller supplies the time, if any.

>>> from chainaudit.findings import Result
>>> r = Result(); r.checked["records"] = 3
>>> exit_code_for(r), verdict_for(r)
(0, 'ok')
"""

from __future__ import annotations

import itertools
import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from chainaudit import __version__
from chainaudit.errors import EXIT_FINDINGS, EXIT_OK, EXIT_UNVERIFIED, EXIT_USAGE
from chainaudit.findings import Code, Finding, Result, Severity, registry
from chainaudit.findings.result import code_counts
from chainaudit.findings.threats import link_of
from chainaudit.report.assurance import Assurance, Level
from chainaudit.spillmap import NONE, SpillMap

REPORT_TYPE = "chainaudit/report"
REPORT_VERSION = 2
#: Rows always shown first in the text summary, in this order (REP-2).
SUMMARY_ROWS = ("records", "dialogues", "chains", "keys")
#: Findings listed per JUnit test case before "... and N more" (REP-4).
JUNIT_FINDINGS_PER_CASE = 100


#: REP-3: a URL token: a scheme, ``://``, then everything up to whitespace.
_URL_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S*")
#: REP-3: a ``password=`` parameter (libpq query string or key/value DSN).
_PASSWORD_PARAM = re.compile(r"(?i)(password=)[^&\s]*")


def _redact_url(m: re.Match[str]) -> str:
    token = m.group(0)
    scheme, rest = token.split("://", 1)
    at = rest.rfind("@")
    if at >= 0 and ":" in rest[:at]:
        user = rest[:at].split(":", 1)[0]
        token = f"{scheme}://{user}:***@{rest[at + 1 :]}"
    return token


def redact(text: str) -> str:
    """Hide passwords in ``text`` (REP-3): in every URL token
    ``scheme://user:password@host...`` everything between the first ``:``
    after ``://`` and the token's **last** ``@`` (so a password holding
    ``@`` or ``/`` is hidden whole), and the value of every ``password=``
    parameter up to ``&`` or whitespace.

    >>> redact("postgresql://u:p@s/s@db/x?password=z&a=1 vs dynamodb://t")
    'postgresql://u:***@db/x?password=***&a=1 vs dynamodb://t'
    """
    return _PASSWORD_PARAM.sub(r"\1***", _URL_TOKEN.sub(_redact_url, text))


@dataclass(frozen=True, slots=True)
class Summary:
    """What was run on what: the report's header (REP-3).

    ``command`` is the CLI command (``verify``, ``gate post`` ...),
    ``subject`` what it examined (a path, ``dynamodb://TABLE``, a manifest).
    ``generated_at`` is supplied by the caller (renderers read no clock).
    A password in a URL subject is replaced by ``***``.

    REP-7: ``mode`` is ``keyed`` or ``keyless`` for commands that open
    envelopes (None otherwise); ``assurance`` states what the run proved,
    family by family; ``required`` lists the families ``--require`` asked
    for. ``error`` is set when the run ended in an error before a complete
    result (exit ``error_exit``, 2 or 3): the report then still exists, so a
    CI step has something to publish.
    """

    command: str
    subject: str
    generated_at: str | None = None
    mode: str | None = None
    assurance: Mapping[str, Assurance] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    error: str | None = None
    error_exit: int | None = None
    #: REP-2.2: what the run was given, for the report's reader: ``inputs``
    #: (name and SHA-256 of each input file, or null), ``umk_fingerprint``,
    #: ``pinned`` key ids, ``checkpoints`` files. Empty when not stated.
    provenance: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "subject", redact(self.subject))


def summary_to_json(summary: Summary) -> dict[str, Any]:
    """The summary as the report vectors hold it (REP-5)."""
    return {
        "command": summary.command,
        "subject": summary.subject,
        "generated_at": summary.generated_at,
        "mode": summary.mode,
        "assurance": {
            k: {"level": a.level.value, "basis": a.basis} for k, a in summary.assurance.items()
        },
        "required": list(summary.required),
        "error": summary.error,
        "error_exit": summary.error_exit,
        "provenance": dict(summary.provenance),
    }


def summary_from_json(obj: Mapping[str, Any]) -> Summary:
    """The inverse of :func:`summary_to_json`; members added in REP version 2 may be absent."""
    return Summary(
        obj["command"],
        obj["subject"],
        obj.get("generated_at"),
        mode=obj.get("mode"),
        assurance={
            k: Assurance(k, Level(v["level"]), v["basis"])
            for k, v in (obj.get("assurance") or {}).items()
        },
        required=tuple(obj.get("required") or ()),
        error=obj.get("error"),
        error_exit=obj.get("error_exit"),
        provenance=dict(obj.get("provenance") or {}),
    )


# --- the verdict (REP-1) --------------------------------------------------------


def something_checked(result: Result) -> bool:
    """REP-1: zero records checked never passes; with no ``records`` counter
    (e.g. a proof check) any positive counter counts."""
    if "records" in result.checked:
        return result.checked["records"] > 0
    return sum(result.checked.values()) > 0


def exit_code_for(result: Result) -> int:
    """REP-1: 1 if any error finding; else 3 if any unverified finding or
    nothing was checked; else 0."""
    counts = result.severities()  # not a pass over findings that may be on disk
    if counts[Severity.ERROR]:
        return EXIT_FINDINGS
    if counts[Severity.UNVERIFIED] or not something_checked(result):
        return EXIT_UNVERIFIED
    return EXIT_OK


_VERDICTS = {
    EXIT_OK: "ok",
    EXIT_FINDINGS: "findings",
    EXIT_UNVERIFIED: "unverified",
    EXIT_USAGE: "error",
}


def verdict_for(result: Result) -> str:
    """``ok``, ``findings`` or ``unverified``: the word for :func:`exit_code_for`."""
    return _VERDICTS[exit_code_for(result)]


def report_exit_code(result: Result, summary: Summary) -> int:
    """The exit code a report states: the error's when the run ended in one (REP-3)."""
    if summary.error is not None and summary.error_exit is not None:
        return summary.error_exit
    return exit_code_for(result)


def _by_code(findings: Iterable[Finding]) -> Counter[str]:
    return Counter({c.name: n for c, n in code_counts(findings).items()})


def _codes_in_order(result: Result) -> list[Code]:
    """Codes with findings: errors, then unverified, then notices; by name within."""
    rank = {Severity.ERROR: 0, Severity.UNVERIFIED: 1, Severity.NOTICE: 2}
    return sorted(code_counts(result.findings), key=lambda c: (rank[c.severity], c.name))


# --- JSON (REP-3) ---------------------------------------------------------------


def report_json(
    result: Result, summary: Summary, max_findings: int | None = None
) -> dict[str, Any]:
    """The report as a JSON object (REP-3); ``max_findings`` truncates the list."""
    obj = _report_head(result, summary, max_findings)
    obj["findings"] = [f.to_json() for f in _listed(result, max_findings)]
    return obj


def _listed(result: Result, max_findings: int | None) -> Iterable[Finding]:
    """The findings a report lists, streamed (the first ``max_findings``)."""
    if max_findings is None:
        return result.findings
    return itertools.islice(result.findings, max(max_findings, 0))


def _report_head(
    result: Result, summary: Summary, max_findings: int | None
) -> dict[str, Any]:
    """Every member of :func:`report_json` but ``findings`` (the last one)."""
    total = len(result.findings)
    listed = total if max_findings is None else min(max(max_findings, 0), total)
    by_severity = result.severities()
    severities = {s.value: by_severity[s] for s in Severity}
    by_code = _by_code(result.findings)
    return {
        "type": REPORT_TYPE,
        "version": REPORT_VERSION,
        "tool": {"name": "chainaudit", "version": __version__},
        "command": summary.command,
        "subject": summary.subject,
        "generated_at": summary.generated_at,
        "verdict": _VERDICTS[report_exit_code(result, summary)],
        "exit_code": report_exit_code(result, summary),
        "error": None if summary.error is None else {"message": summary.error},
        "mode": summary.mode,
        "assurance": {k: a.to_json() for k, a in summary.assurance.items()},
        "required": list(summary.required),
        "provenance": dict(summary.provenance),
        "checked": {k: result.checked[k] for k in sorted(result.checked)},
        "counts": {s.value: severities[s.value] for s in Severity},
        "by_code": {c.name: by_code[c.name] for c in _codes_in_order(result)},
        "findings_total": total,
        "findings_truncated": listed < total,
    }


def render_json(result: Result, summary: Summary, max_findings: int | None = None) -> str:
    """:func:`report_json` as text: 2-space indent, UTF-8 kept, trailing newline."""
    return "".join(render_json_chunks(result, summary, max_findings))


def render_json_chunks(
    result: Result, summary: Summary, max_findings: int | None = None
) -> Iterator[str]:
    """:func:`render_json`'s text in pieces, a finding at a time: a report of
    a hundred thousand findings is never one object or one string in memory
    (a run's memory stays flat, docs/cli.md Performance). The text is
    exactly ``json.dumps(report_json(...), indent=2, ensure_ascii=False)``
    plus a newline (``tests/test_report.py`` holds them equal)."""
    head = _dumps(_report_head(result, summary, max_findings))
    assert head.endswith("\n}")
    yield head[:-2] + ',\n  "findings": ['
    first = True
    for finding in _listed(result, max_findings):
        body = _dumps(finding.to_json()).replace("\n", "\n    ")
        yield ("\n    " if first else ",\n    ") + body
        first = False
    yield "]\n}\n" if first else "\n  ]\n}\n"


def _dumps(obj: Any) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False, default=_json_default)


def _json_default(value: object) -> str:
    """``extra`` values that JSON cannot hold: bytes as hex, others as text."""
    if isinstance(value, bytes | bytearray):
        return bytes(value).hex()
    return str(value)


# --- text (REP-2) ----------------------------------------------------------------


def _escape(ch: str) -> str:
    n = ord(ch)
    if n <= 0xFF:
        return f"\\x{n:02x}"
    if n <= 0xFFFF:
        return f"\\u{n:04x}"
    return f"\\U{n:08x}"


def _safe(text: str | None) -> str:
    """Non-printable characters shown as escapes, so data cannot drive the
    terminal or forge report lines (REP-2.1): ``\\xNN``, ``\\uNNNN`` or
    ``\\UNNNNNNNN`` (lowercase hex) for every character that is not
    printable in Python's sense (general category Cc, Cf, Cs, Co, Cn, Zl,
    Zp, or Zs other than U+0020). ``None`` is shown as ``-``.

    >>> _safe("a\\x1bb\\u2028c\\u202ed\\U000e0001 e")
    'a\\\\x1bb\\\\u2028c\\\\u202ed\\\\U000e0001 e'
    """
    if text is None:
        return "-"
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else _escape(ch) for ch in text)


_SEVERITY_RANK = {Severity.ERROR: 0, Severity.UNVERIFIED: 1, Severity.NOTICE: 2}


def render_text(result: Result, summary: Summary, limit: int = 20) -> str:
    """The human report (REP-2): verdict line, summary table, findings by code,
    then the first ``limit`` findings with address, values, source and advice."""
    code = report_exit_code(result, summary)
    verdict = _VERDICTS[code]
    lines = [
        f"chainaudit {summary.command} {_safe(summary.subject)}: "
        f"{verdict.upper()} (exit {code}){_mode_suffix(summary)}",
        "",
    ]
    if summary.provenance:
        lines += _provenance_lines(summary)
        lines.append("")
    if summary.error is not None:
        lines.append(f"  error: {_safe(summary.error)}")
        lines += _assurance_lines(summary)
        return "\n".join(lines) + "\n"
    rows = [(k, result.checked.get(k, 0)) for k in SUMMARY_ROWS]
    rows += [(k, result.checked[k]) for k in sorted(result.checked) if k not in SUMMARY_ROWS]
    width = max(len(k) for k, _ in rows)
    lines.append(f"  {'checked':<{width}}  count")
    lines += [f"  {k:<{width}}  {v}" for k, v in rows]
    lines.append("")
    if summary.assurance:
        lines += _assurance_lines(summary)[1:]
        lines.append("")
    codes_ = _codes_in_order(result)
    if not codes_:
        lines.append("  no findings")
        if not something_checked(result):
            lines.append("  nothing was checked: a run that checks no records never passes")
    else:
        counts = _by_code(result)
        cw = max(len(c.name) for c in codes_)
        lines.append(f"  {'finding':<{cw}}  {'severity':<10}  {'count':>5}  spec")
        for c in codes_:
            lines.append(f"  {c.name:<{cw}}  {c.severity.value:<10}  {counts[c.name]:>5}  {c.spec}")
        # Errors first, then what could not be verified, then notices: a
        # thousand KEY_SHREDDED notices must not hide one tampered record.
        # Findings that say the same thing (code, message, values) are one
        # group: thirty records under one shredded key are one entry.
        shown, groups = first_groups(result.findings, limit)
        lines += [
            "",
            f"First {len(shown)} of {groups} finding group(s) "
            f"({len(result.findings)} finding(s)):",
        ]
        for f, n in shown:
            more = f" (+{n - 1} more like it)" if n > 1 else ""
            lines.append(f"  [{f.severity.value}] {f.code.name} at {_safe(f.where)}{more}")
            lines.append(f"      {_safe(f.message)}")
            if f.expected is not None or f.actual is not None:
                lines.append(f"      expected {_safe(f.expected)}, got {_safe(f.actual)}")
            if f.source:
                lines.append(f"      source: {_safe(f.source)}")
            if f.code.advice:
                lines.append(f"      what to do: {f.code.advice}")
            threat = link_of(f.code)
            if threat:
                lines.append(f"      threat: {threat}")
    return "\n".join(lines) + "\n"


def _provenance_lines(summary: Summary) -> list[str]:
    """REP-2.2: the header a report handed to someone else needs: the tool, the
    time, a digest of each input, the UMK's fingerprint (never the key), the
    pinned key ids and the checkpoints used."""
    p = summary.provenance
    rows = [("tool", f"chainaudit {__version__}" + (
        f", report made {summary.generated_at}" if summary.generated_at else ""
    ))]  # fmt: skip
    for item in p.get("inputs") or ():
        digest = item.get("sha256")
        rows.append(("input", _safe(item["name"]) + (f" sha256:{digest}" if digest else "")))
    manifest = p.get("manifest")
    if isinstance(manifest, Mapping) and manifest.get("name"):
        digest = manifest.get("sha256")
        rows.append(
            ("manifest", _safe(str(manifest["name"])) + (f" sha256:{digest}" if digest else ""))
        )
    if p.get("umk_fingerprint"):
        rows.append(("umk", f"fingerprint {p['umk_fingerprint']}"))
    pinned = list(p.get("pinned") or ())
    rows.append(("pinned keys", ", ".join(pinned) if pinned else "none"))
    cps = list(p.get("checkpoints") or ())
    rows.append(("checkpoints", ", ".join(_safe(c) for c in cps) if cps else "none"))
    width = max(len(k) for k, _ in rows)
    return [f"  {k:<{width}}  {v}" for k, v in rows]


def group_findings(findings: Iterable[Finding]) -> list[tuple[Finding, int]]:
    """REP-2 item 4: findings grouped by (code, message, expected, actual), each
    group as (its first finding, size); groups stably sorted by severity, in
    the order of their first finding within a severity."""
    first: dict[tuple[str, str, str | None, str | None], int] = {}
    groups: list[list[Any]] = []
    for f in findings:
        key = (f.code.name, f.message, f.expected, f.actual)
        at = first.get(key)
        if at is None:
            first[key] = len(groups)
            groups.append([f, 1])
        else:
            groups[at][1] += 1
    ordered = sorted(groups, key=lambda g: _SEVERITY_RANK[g[0].severity])
    return [(g[0], g[1]) for g in ordered]


def first_groups(findings: Iterable[Finding], limit: int) -> tuple[list[tuple[Finding, int]], int]:
    """``group_findings(findings)[:limit]`` and the number of groups, in
    bounded memory: only the groups that can be among the first ``limit``
    are kept, with their sizes; every group's key is kept in a
    :class:`~chainaudit.spillmap.SpillMap` (on disk past its limit) to count
    the groups, so a report on millions of distinct findings lists its first
    ones without holding them all."""
    seen: SpillMap[str, None] = SpillMap(NONE)  # every group's key
    sizes: dict[str, int] = {}  # the groups that may be listed: their sizes
    kept: dict[int, list[tuple[str, Finding]]] = {}
    for f in findings:
        key = group_key(f)
        if key in sizes:
            sizes[key] += 1
        elif seen.put_new(key, None):
            rank = kept.setdefault(_SEVERITY_RANK[f.severity], [])
            if len(rank) < limit:
                rank.append((key, f))
                sizes[key] = 1
    listed = [pair for rank in sorted(kept) for pair in kept[rank]][: max(limit, 0)]
    return [(f, sizes[key]) for key, f in listed], len(seen)


def group_key(f: Finding) -> str:
    """The text that names a finding's group (code, message, expected, actual):
    equal exactly when the four are (JSON of the four, any string kept)."""
    return json.dumps([f.code.name, f.message, f.expected, f.actual])


_LEVEL_WORDS = {
    Level.PROVEN: "proven",
    Level.PARTIAL: "partial",
    Level.NOT_PROVEN: "NOT PROVEN",
    Level.NOT_APPLICABLE: "n/a",
}


def _mode_suffix(summary: Summary) -> str:
    """REP-2 item 1: the verdict line tells a keyless run from a keyed one."""
    if summary.mode == "keyless":
        return ", keyless (no envelope authenticated)"
    if summary.mode == "keyed":
        return ", keyed"
    return ""


def _assurance_lines(summary: Summary) -> list[str]:
    """REP-7 in text: a blank line, then one row per family (``*`` marks required ones)."""
    if not summary.assurance:
        return []
    width = max(len("assurance"), *(len(f) + 1 for f in summary.assurance))
    out = ["", f"  {'assurance':<{width}}  {'level':<10}  basis"]
    for family, a in summary.assurance.items():
        name = family + ("*" if family in summary.required else "")
        out.append(f"  {name:<{width}}  {_LEVEL_WORDS[a.level]:<10}  {_safe(a.basis)}")
    if summary.required:
        out.append("  * required (--require): a family not proven ends the run in exit 3")
    return out


# --- JUnit XML (REP-4) -----------------------------------------------------------


def render_junit(
    result: Result,
    summary: Summary,
    applicable: Iterable[str] | Mapping[str, str | None] | None = None,
) -> str:
    """JUnit XML (REP-4): one ``testsuite``, one ``testcase`` per check of the run.

    ``applicable`` names the codes the command's checks could produce: a
    mapping gives, per code, None (the check ran) or the reason it was
    skipped (:func:`chainaudit.report.checks.plan`); a plain iterable means every
    code listed ran; None means every registered code. Codes with findings
    are always included, as ran. A code with error findings is a
    ``failure``, with unverified findings an ``error``, a skipped check a
    ``skipped`` with its reason; otherwise the case passes (notices go to
    ``system-out``). REP-7: each assurance family is a case too, and a run
    that ended in an error has one ``RUN`` case carrying it.
    """
    reg = registry()
    if applicable is None:
        plan: dict[str, str | None] = dict.fromkeys(reg)
    elif isinstance(applicable, Mapping):
        plan = dict(applicable)
    else:
        plan = dict.fromkeys(applicable)
    unknown = sorted(set(plan) - set(reg))
    if unknown:
        raise ValueError(f"not registered finding codes: {', '.join(unknown)}")
    grouped: dict[str, list[Finding]] = {}
    for f in result:
        grouped.setdefault(f.code.name, []).append(f)
        plan[f.code.name] = None
    code = report_exit_code(result, summary)
    suite_name = _safe(f"chainaudit {summary.command} {summary.subject}")
    suites = ET.Element("testsuites", name="chainaudit")
    suite = ET.SubElement(suites, "testsuite", name=suite_name)
    props = ET.SubElement(suite, "properties")
    for k, v in (("verdict", _VERDICTS[code]), ("exit_code", str(code))):
        ET.SubElement(props, "property", name=k, value=v)
    if summary.mode is not None:
        ET.SubElement(props, "property", name="mode", value=summary.mode)
    for family, a in summary.assurance.items():
        ET.SubElement(props, "property", name=f"assurance.{family}", value=a.level.value)
    for k in sorted(result.checked):
        ET.SubElement(props, "property", name=f"checked.{k}", value=str(result.checked[k]))
    tests = failures = errors = skipped = 0
    if summary.error is not None:
        tests += 1
        errors += 1
        case = ET.SubElement(suite, "testcase", classname="chainaudit.run", name="RUN")
        ET.SubElement(case, "error", type=f"EXIT_{code}", message=_safe(summary.error))
    for name in sorted(plan):
        c = reg[name]
        tests += 1
        case = ET.SubElement(suite, "testcase", classname=f"chainaudit.{c.spec}", name=name)
        found = grouped.get(name, [])
        if not found:
            reason = plan[name]
            if reason is not None:
                skipped += 1
                ET.SubElement(case, "skipped", message=reason)
            continue
        body = _junit_body(found)
        if c.severity is Severity.ERROR:
            failures += 1
            el = ET.SubElement(case, "failure", type=name, message=_junit_message(c, found))
            el.text = body
        elif c.severity is Severity.UNVERIFIED:
            errors += 1
            el = ET.SubElement(case, "error", type=name, message=_junit_message(c, found))
            el.text = body
        else:
            ET.SubElement(case, "system-out").text = body
    for family, a in summary.assurance.items():
        tests += 1
        case = ET.SubElement(suite, "testcase", classname="chainaudit.assurance", name=family)
        if a.satisfied:
            continue
        if family in summary.required:
            errors += 1
            el = ET.SubElement(case, "error", type="ASSURANCE_NOT_MET", message=_safe(a.basis))
        else:
            skipped += 1
            ET.SubElement(case, "skipped", message=f"{a.level.value}: {_safe(a.basis)}")
    for el in (suites, suite):
        el.set("tests", str(tests))
        el.set("failures", str(failures))
        el.set("errors", str(errors))
        if skipped:
            el.set("skipped", str(skipped))
    ET.indent(suites)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
    )


def _junit_message(code: Code, found: list[Finding]) -> str:
    return f"{len(found)} finding(s): {code.summary}"


def _junit_body(found: list[Finding]) -> str:
    out = []
    for f in found[:JUNIT_FINDINGS_PER_CASE]:
        line = f"{_safe(f.where)}: {_safe(f.message)}"
        if f.expected is not None or f.actual is not None:
            line += f" (expected {_safe(f.expected)}, got {_safe(f.actual)})"
        if f.source:
            line += f" [{_safe(f.source)}]"
        out.append(line)
    if len(found) > JUNIT_FINDINGS_PER_CASE:
        out.append(f"... and {len(found) - JUNIT_FINDINGS_PER_CASE} more")
    if found and found[0].code.advice:
        out.append(f"What to do: {found[0].code.advice}")
    return "\n".join(out)


def finding_from_json(obj: dict[str, Any]) -> Finding:
    """The inverse of :meth:`Finding.to_json` (REP-3), for reading reports and
    vectors back; raises KeyError for a code this build does not register."""
    return Finding(
        registry()[obj["code"]],
        obj["where"],
        obj["message"],
        expected=obj.get("expected"),
        actual=obj.get("actual"),
        source=obj.get("source"),
        extra=dict(obj.get("extra", {})),
    )
