"""Lint: no ``==`` / ``!=`` on tags, hashes, digests, signatures or MACs in chainaudit/.

A byte-by-byte comparison that returns at the first difference tells a
patient attacker how many leading bytes of a guessed MAC were right. No
functional test can see the difference between ``==`` and
``hmac.compare_digest``, so this test reads the source instead (issue 15).

A comparison is refused when one of its operands *looks like* a digest: an
identifier, attribute or string subscript whose words (split on ``_`` and
case) include tag, hash, digest, mac, signature, sig, checksum, root, tip,
md5, sha256, blake3, ... (but not alg, len, size, name, ...), or the result of
a call named that way (``hashlib.sha256(...).digest()``, ``event_hash(...)``),
seen through ``.hex()``, ``.encode()``, ``bytes.fromhex()`` and the like.
``in`` / ``not in`` against a list or tuple display is refused the same way
(it is ``==`` on every element). Comparisons with a literal constant (``None``,
``b""``, a number) are not: the constant is public.

Compare with ``crypto.equal`` (the one constant-time helper, chainaudit/primitives/crypto.py,
built on ``hmac.compare_digest``). A comparison that is not secret-dependent
(an algorithm name, a hash of public data against a public value) may stay,
with the reason on its line: ``# ct-ok: <reason>``.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "chainaudit"

#: Words that make an identifier a digest, tag or signature.
DIGEST_WORD = re.compile(
    r"^(tags?|hash(es)?|hexdigests?|digests?|macs?|hmacs?|mic|signatures?|sigs?|"
    r"checksums?|crc|md5|sha\d*|sha3\w*|blake\d*\w*|roots?|tips?|fingerprints?|fps?)$"
)
#: Words that make it something else: a name, size or kind *of* a digest.
NOT_A_DIGEST = frozenset(
    {
        "alg",
        "algs",
        "algo",
        "algorithm",
        "algorithms",
        "name",
        "names",
        "kind",
        "kinds",
        "type",
        "types",
        "len",
        "length",
        "size",
        "sizes",
        "count",
        "counts",
        "version",
        "versions",
        "format",
        "formats",
        "scheme",
        "field",
        "fields",
        "column",
        "columns",
        "col",
        "path",
        "paths",
        "dir",
        "file",
        "files",
        "prefix",
        "mode",
        "bits",
        "key",
        "keys",
        "index",
        "encoding",
        "status",
        "state",
        "id",
        "ids",
        "line",
        "lines",
        "label",
        "labels",
        "hint",
        "url",
        "bytes",
    }
)
#: Calls that re-encode their argument or receiver; look through them.
TRANSPARENT_CALLS = frozenset(
    {
        "hex",
        "fromhex",
        "encode",
        "decode",
        "lower",
        "upper",
        "strip",
        "rstrip",
        "lstrip",
        "bytes",
        "bytearray",
        "str",
        "memoryview",
        "hexlify",
        "unhexlify",
        "b64encode",
        "b64decode",
        "urlsafe_b64encode",
        "urlsafe_b64decode",
        "b16encode",
        "b16decode",
    }
)
#: Receivers of ``X.fromhex(y)``-style calls, whose argument is the data.
CODEC_MODULES = frozenset({"bytes", "bytearray", "binascii", "base64", "str"})
#: The constant-time helper itself.
HELPER = ("crypto.py", "equal")
ALLOW = re.compile(r"#\s*ct-ok:\s*\S")


def words(identifier: str) -> list[str]:
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", identifier)
    return [w for w in re.split(r"[_\W]+", spaced.lower()) if w]


def digest_name(identifier: str) -> bool:
    ws = words(identifier)
    return any(DIGEST_WORD.match(w) for w in ws) and not any(w in NOT_A_DIGEST for w in ws)


def _call_name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def digest_like(node: ast.expr) -> bool:
    """Whether ``node`` evaluates (by its names) to a digest, tag or signature."""
    if isinstance(node, ast.Name):
        return digest_name(node.id)
    if isinstance(node, ast.Attribute):
        return digest_name(node.attr)
    if isinstance(node, ast.Subscript):
        key = node.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            return digest_name(key.value)
        return digest_like(node.value)
    if isinstance(node, ast.Call):
        name = _call_name(node.func)
        if name == "get" and node.args:  # d.get("event_hash")
            first = node.args[0]
            return isinstance(first, ast.Constant) and digest_name(str(first.value))
        if name in TRANSPARENT_CALLS:
            func = node.func
            if isinstance(func, ast.Attribute) and not (
                isinstance(func.value, ast.Name) and func.value.id in CODEC_MODULES
            ):
                return digest_like(func.value)
            return bool(node.args) and digest_like(node.args[0])
        return digest_name(name)
    return False


def literal(node: ast.expr) -> bool:
    """A constant of the source: a literal, or a module constant (``EMPTY_ROOT``)."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Name | ast.Attribute):
        name = node.id if isinstance(node, ast.Name) else node.attr
        return name.isupper()
    if isinstance(node, ast.Call) and _call_name(node.func) in TRANSPARENT_CALLS:
        func = node.func
        if isinstance(func, ast.Attribute) and not (
            isinstance(func.value, ast.Name) and func.value.id in CODEC_MODULES
        ):
            return literal(func.value)
        return bool(node.args) and literal(node.args[0])
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return all(literal(e) for e in node.elts)
    return False


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    source: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.source}"


def _allowed(lines: list[str], node: ast.Compare) -> bool:
    last = node.end_lineno or node.lineno
    return any(ALLOW.search(lines[n - 1]) for n in range(node.lineno, last + 1))


def _refused(op: ast.cmpop, left: ast.expr, right: ast.expr) -> bool:
    if isinstance(op, ast.Eq | ast.NotEq):
        if literal(left) or literal(right):
            return False
        return digest_like(left) or digest_like(right)
    if (
        isinstance(op, ast.In | ast.NotIn)
        and isinstance(right, ast.List | ast.Tuple | ast.ListComp)
        and not literal(right)
    ):
        elements = right.elts if isinstance(right, ast.List | ast.Tuple) else [right.elt]
        return digest_like(left) or any(digest_like(e) for e in elements)
    return False


def lint_source(source: str, path: str = "<snippet>") -> list[Violation]:
    """Every digest comparison of ``source`` that neither the helper nor ``ct-ok`` covers."""
    tree = ast.parse(source)
    lines = source.splitlines()
    helper_lines: set[int] = set()
    if path.endswith(HELPER[0]):
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef) and fn.name == HELPER[1]:
                helper_lines |= set(range(fn.lineno, (fn.end_lineno or fn.lineno) + 1))
    found: list[Violation] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare) or node.lineno in helper_lines:
            continue
        operands = [node.left, *node.comparators]
        if any(
            _refused(op, a, b) for op, a, b in zip(node.ops, operands, operands[1:], strict=False)
        ) and not _allowed(lines, node):
            found.append(Violation(path, node.lineno, ast.get_source_segment(source, node) or ""))
    return found


def lint_package() -> list[Violation]:
    found: list[Violation] = []
    for file in sorted(PACKAGE.rglob("*.py")):
        rel = file.relative_to(PACKAGE.parent).as_posix()
        found.extend(lint_source(file.read_text(encoding="utf-8"), rel))
    return found


def test_no_digest_is_compared_with_eq_outside_the_constant_time_helper() -> None:
    violations = lint_package()
    assert not violations, (
        "compare tags, hashes, digests and signatures with crypto.equal "
        "(or mark a comparison that leaks nothing `# ct-ok: <reason>`):\n"
        + "\n".join(map(str, violations))
    )


@pytest.mark.parametrize(
    "snippet",
    [
        "ok = tag == expected",
        "ok = expected != tag",
        "ok = env.tag == computed",
        "ok = rec.event_hash != prev",
        'ok = row["aad_hash"] == want',
        'ok = row.get("signature") == want',
        "ok = hashlib.sha256(data).digest() == stored",
        "ok = h.hexdigest() == stored",
        "ok = mac.hex() == stored",
        "ok = bytes.fromhex(stored_sig) == sig2",
        "ok = event_hash(e) == prev",
        "ok = a.merkle_root == b",
        "ok = x == tags[0]",
        "ok = fp != fp0",
        "ok = a.fingerprint == b.fingerprint",
        "ok = tag in [a, b]",
        "ok = needle in (expected_digest, other_digest)",
        "ok = a < b == tag",
        "ok = tag == expected  # ct-ok:",  # an allowance needs a reason
    ],
)
def test_the_lint_refuses_a_planted_comparison(snippet: str) -> None:
    assert lint_source(snippet), snippet


@pytest.mark.parametrize(
    "snippet",
    [
        "ok = crypto.equal(tag, expected)",
        "ok = hmac.compare_digest(tag, expected)",
        "ok = tag is None",
        'ok = tag == b""',
        "ok = len(tag) == 16",
        "ok = hash_alg == other.hash_alg",
        'ok = rec.hash_alg != "sha256"',
        "ok = tag_len != 16",
        "ok = signature_count == n",
        "ok = tag in seen",
        'ok = tag in ("S", "N")',
        "ok = f.code in (codes.CHAIN_TRUNCATED, codes.CHAIN_TIP_MISMATCH)",  # a set or dict lookup hashes, it does not compare bytes
        "ok = name == other",
        "ok = root == EMPTY_ROOT",
        "ok = roots[0] == EMPTY_ROOT.hex()",
        "ok = len(digest) != HASH_BYTES",
        "ok = tag_bytes == GCM_TAG_BYTES",
        "ok = tag == expected  # ct-ok: both are public, the test vectors' own bytes",
        "ok = (\n    tag\n    == expected  # ct-ok: public\n)",
    ],
)
def test_the_lint_lets_through(snippet: str) -> None:
    assert lint_source(snippet) == [], snippet


def test_the_helper_itself_is_exempt_and_only_it() -> None:
    body = "def equal(tag, expected):\n    return tag == expected  # the real one: compare_digest\n"
    assert lint_source(body, "chainaudit/primitives/crypto.py") == []
    assert lint_source(body, "chainaudit/other.py") != []
    assert lint_source(body.replace("equal", "same"), "chainaudit/primitives/crypto.py") != []


def test_the_helper_is_constant_time() -> None:
    from chainaudit.primitives import crypto

    source = Path(crypto.__file__).read_text(encoding="utf-8")
    fn = next(
        n
        for n in ast.walk(ast.parse(source))
        if isinstance(n, ast.FunctionDef) and n.name == HELPER[1]
    )
    calls = {ast.unparse(c.func) for c in ast.walk(fn) if isinstance(c, ast.Call)}
    assert "hmac.compare_digest" in calls
    assert not any(isinstance(c, ast.Compare) for c in ast.walk(fn))
    assert crypto.equal(b"\x01" * 32, b"\x01" * 32)
    assert not crypto.equal(b"\x01" * 32, b"\x01" * 31 + b"\x02")
    assert crypto.equal("ab", b"ab") and crypto.equal(b"ab", "ab") and crypto.equal("ab", "ab")
    assert crypto.equal("é", "é".encode()) and crypto.equal("é".encode(), "é")  # UTF-8
    assert not crypto.equal("ab", b"ac") and not crypto.equal(b"ab", "ac")
