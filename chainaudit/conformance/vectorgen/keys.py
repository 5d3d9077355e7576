"""Generator of the key-hierarchy golden vectors (``vectors/keys/``, KEY-8).

Five kinds of case, one JSON file each:

* ``kek``: UMK + user id -> KEK (KEY-3), with the exact salt and info bytes;
* ``key_id``: a key id and whether KEY-2 accepts it (dialogue and version,
  or the reason it is rejected);
* ``umk_file``: file bytes + mode and whether KEY-1 accepts them;
* ``resolve`` (positive): UMK(s) + wrapped-DEK records -> the DEK of a key
  id, with every intermediate (KEK, wrap AAD, nonce) so a wrapper can be
  checked byte for byte;
* ``resolve`` (negative): a named mutation of such a setup, with the status
  a resolver must return (KEY-5), the finding an envelope under that key
  gets, and the KEY-7 findings on the record itself.

Expected outcomes are declared here from the spec, not computed by the
library, so ``tests/test_keys.py`` checking the files is a real test. All
secrets are SHA-256 of fixed labels: no clock, no randomness.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from chainaudit.conformance.vectorgen import write_json
from chainaudit.conformance.vectorgen.keys_build import (
    D_ESCAPED,
    GCM,
    INVALID,
    KID1,
    KID2,
    KW,
    SUBDIR,
    T_DESTROYED,
    T_ROTATED,
    USERS,
    VERSION,
    D,
    _fails,
    _flip,
    _found,
    _head,
    record,
    umk,
)
from chainaudit.conformance.vectorgen.keys_check import KEYS_TYPE, check_keys_case
from chainaudit.conformance.vectorgen.keys_rules import rule_resolve_cases
from chainaudit.keys.hierarchy import KEK_SALT, derive_kek, destroy, format_key_id, kek_info, retire
from chainaudit.records.model import KeyState

TYPE = KEYS_TYPE
__all__ = ["TYPE", "VECTOR_CHECKERS", "VERSION", "all_cases", "generate"]
#: Plug-in for :mod:`chainaudit.conformance.check`: how to check files of this type.
VECTOR_CHECKERS = {KEYS_TYPE: check_keys_case}

# --- kek ------------------------------------------------------------------------------


def kek_cases() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for i, user in enumerate(USERS):
        m = umk()
        case = _head(f"kek-user-{i}", "kek", f"KEK of user id {user!r} (KEY-3)")
        case.update(
            umk=m.reveal().hex(),
            user_id=user,
            user_id_utf8=user.encode("utf-8").hex(),
            salt=KEK_SALT.hex(),
            info=kek_info(user).hex(),
            length=32,
            kek=derive_kek(m, user).reveal().hex(),
            umk_fingerprint=m.fingerprint(),
        )
        out.append(("positive", case))
    return out


# --- key ids ---------------------------------------------------------------------------

KEY_IDS_VALID = [
    ("plain", "dek#dlg-0001#1", "dlg-0001", 1),
    ("escaped-dialogue", f"dek#{D_ESCAPED}#12", D_ESCAPED, 12),
    ("unicode-dialogue", "dek#zoë:x#3", "zoë:x", 3),
    ("max-version", "dek#d#2147483647", "d", 2147483647),
    ("dialogue-255-bytes-escaped", f"dek#{'%23' * 85}#1", "%23" * 85, 1),
    ("dialogue-255-bytes-multibyte", f"dek#{'é' * 127}x#1", "é" * 127 + "x", 1),
]
KEY_IDS_INVALID = [
    ("leading-zero", "dek#d#01", "without leading zeros"),
    ("version-zero", "dek#d#0", "without leading zeros"),
    ("version-negative", "dek#d#-1", "without leading zeros"),
    ("version-non-ascii-digit", "dek#d#٣", "without leading zeros"),
    ("version-empty", "dek#d#", "without leading zeros"),
    ("version-too-large", "dek#d#2147483648", "over the limit"),
    ("extra-field", "dek#d#1#2", "exactly two fields"),
    ("missing-version", "dek#d", "exactly two fields"),
    ("unescaped-slash", "dek#a/b#1", "unescaped '/'"),
    ("lowercase-escape", "dek#a%2f#1", "not one of the escapes"),
    ("empty-dialogue", "dek##1", "empty component"),
    ("non-nfc-dialogue", "dek#e\u0301#1", "not in Unicode NFC"),
    ("wrong-prefix-case", "DEK#d#1", "does not start with 'dek#'"),
    ("dialogue-256-bytes", f"dek#{'%25' * 85}x#1", "over the limit of 255"),
    ("dialogue-control-character", "dek#a\tb#1", "control character"),
    ("dialogue-other-escape", "dek#a%41#1", "not one of the escapes"),
    ("dialogue-trailing-percent", "dek#a%#1", "not one of the escapes"),
]


def key_id_cases() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for label, kid, dialogue, version in KEY_IDS_VALID:
        case = _head(f"key-id-{label}", "key_id", "a valid key id (KEY-2)")
        case.update(key_id=kid, expected={"valid": True, "dialogue": dialogue, "version": version})
        out.append(("positive", case))
    for label, kid, reason in KEY_IDS_INVALID:
        case = _head(f"key-id-{label}", "key_id", f"rejected by KEY-2: {reason}")
        case.update(key_id=kid, expected={"valid": False, "error": reason})
        out.append(("negative", case))
    return out


# --- UMK files ---------------------------------------------------------------------------


def umk_file_cases() -> list[tuple[str, dict[str, Any]]]:
    key = umk().reveal().hex()
    rows: list[tuple[str, str, bytes, int, str | None]] = [
        ("positive", "newline-0600", (key + "\n").encode(), 0o600, None),
        ("positive", "no-newline-0400", key.encode(), 0o400, None),
        ("negative", "mode-0644", (key + "\n").encode(), 0o644, "chmod 600"),
        ("negative", "mode-0640", (key + "\n").encode(), 0o640, "chmod 600"),
        ("negative", "mode-0604", (key + "\n").encode(), 0o604, "chmod 600"),
        ("negative", "uppercase", key.upper().encode(), 0o600, "upper-case"),
        ("negative", "crlf", (key + "\r\n").encode(), 0o600, "found 65 characters"),
        ("negative", "two-newlines", (key + "\n\n").encode(), 0o600, "found 65 characters"),
        ("negative", "short", key[:62].encode(), 0o600, "found 62 characters"),
        ("negative", "bom", b"\xef\xbb\xbf" + key.encode(), 0o600, "not ASCII"),
        ("negative", "space", (" " + key[1:]).encode(), 0o600, "not hex digits"),
        ("negative", "empty", b"", 0o600, "found 0 characters"),
        # KEY-1 order: mode, ASCII, one newline stripped, length, case, hex.
        ("negative", "mode-0644-and-bad-content", b"not a key", 0o644, "chmod 600"),
        ("negative", "non-ascii-and-short", b"\xff" + key[:10].encode(), 0o600, "not ASCII"),
        ("negative", "uppercase-and-long", (key.upper() + "a").encode(), 0o600, "found 65"),
        ("negative", "uppercase-and-non-hex", ("G" + key[1:].upper()).encode(), 0o600, "upper"),
    ]
    out = []
    for group, label, content, mode, error in rows:
        case = _head(f"umk-file-{label}", "umk_file", "UMK file content and mode (KEY-1)")
        expected: dict[str, Any] = {"valid": error is None}
        if error is None:
            expected["umk"] = key
        else:
            expected["error"] = error
        case.update(content=content.hex(), mode=f"{mode:04o}", expected=expected)
        out.append((group, case))
    return out


# --- resolution: positive -----------------------------------------------------------------


def positive_resolve_cases() -> list[dict[str, Any]]:
    kid = format_key_id
    gcm, kw = record(GCM), record(KW, dialogue="dlg-0002")
    zoe = record(GCM, dialogue=D_ESCAPED, owner="zoë")
    v1 = retire(record(GCM, version=1))
    v2 = record(GCM, version=2, created_at=T_ROTATED)
    bob = record(GCM, owner="bob@example.org", umk_label="bob")
    both = {"alice": umk().reveal().hex(), "bob@example.org": umk("bob").reveal().hex()}
    return [
        _found(
            "wrapped-dek-gcm",
            "A256GCM-KEYID-v1 record of alice, unwrapped (KEY-4)",
            [gcm],
            kid(D, 1),
            wraps=(gcm,),
        ),
        _found(
            "wrapped-dek-a256kw",
            "A256KW (RFC 3394) record, unwrapped (KEY-4)",
            [kw],
            kid("dlg-0002", 1),
            wraps=(kw,),
        ),
        _found(
            "wrapped-dek-gcm-unicode-owner-escaped-dialogue",
            "non-ASCII owner and a dialogue id that needs escaping (KEY-2, KEY-3)",
            [zoe],
            kid(D_ESCAPED, 1),
            wraps=(zoe,),
        ),
        *(
            _found(
                f"rotation-resolve-v{v}",
                "after rotation v1 is retired and v2 active; both resolve (KEY-5)",
                [v1, v2],
                kid(D, v),
                wraps=(rec,),
            )
            for v, rec in ((1, v1), (2, v2))
        ),
        _found(
            "per-owner-umk",
            "one UMK per owner: bob's record unwraps under bob's UMK (KEY-1)",
            [bob],
            kid(D, 1),
            umks={"per_owner": both},
        ),
    ]


def negative_resolve_cases() -> list[dict[str, Any]]:
    base, kw = record(GCM), record(KW)
    v2, v2_kw = record(GCM, version=2), record(KW, version=2)
    copy_note = "copy wrapped_key{} of dek#dlg-0001#1 into dek#dlg-0001#2"
    out = [
        _fails(
            "wrong-owner-gcm",
            "owner field rewritten alice -> bob: bob's KEK cannot unwrap it",
            [replace(base, owner="bob")],
            "set owner to 'bob'",
        ),
        _fails(
            "wrong-owner-a256kw",
            "owner rewritten on an A256KW record: another KEK, unwrap fails",
            [replace(kw, owner="bob")],
            "set owner to 'bob'",
        ),
        _fails(
            "wrong-umk",
            "the verifier holds another UMK than the one that wrapped the DEK",
            [base],
            "verifier given UMK 'other'",
            umks={"all": umk("other").reveal().hex()},
        ),
        _fails(
            "swapped-key-id-gcm",
            "v1's wrapped key and nonce copied into the v2 record: the AAD binds the key id, "
            "unwrap fails",
            [base, replace(v2, wrapped_key=base.wrapped_key, wrap_nonce=base.wrap_nonce)],
            copy_note.format(" and wrap_nonce"),
            resolve=KID2,
        ),
        _fails(
            "swapped-key-id-a256kw",
            "the same swap under A256KW goes unnoticed: v2 resolves to v1's DEK "
            "(the documented weakness, KEY-4)",
            [kw, replace(v2_kw, wrapped_key=kw.wrapped_key)],
            copy_note.format(""),
            resolve=KID2,
            status="found",
            dek_of=KID1,
        ),
        _fails(
            "destroyed",
            "crypto-shredded: state destroyed, key material removed (KEY-6); no UMK needed",
            [destroy(base, T_DESTROYED)],
            "destroy at " + T_DESTROYED,
            status="shredded",
            umks={},
        ),
        _fails(
            "destroyed-key-material-present",
            "state says destroyed but wrapped_key is still there: the record is invalid (KEY-7)",
            [replace(base, state=KeyState.DESTROYED, destroyed_at=T_DESTROYED)],
            "set state destroyed, keep wrapped_key",
            status="shredded",
            record_findings=INVALID,
        ),
        _fails(
            "missing-record",
            "no wrapped-DEK record for the key id (KEY-5)",
            [base],
            "resolve dek#dlg-0001#2",
            resolve=KID2,
            status="missing",
        ),
        _fails(
            "no-umk-for-owner",
            "per-owner UMKs without the record's owner (KEY-5)",
            [base],
            "no UMK for alice",
            status="missing",
            umks={"per_owner": {"bob": umk("bob").reveal().hex()}},
        ),
        _fails(
            "key-id-mismatch",
            "record stored at dek#1 whose key_id says dek#dlg-0001#2 (KEY-7)",
            [replace(base, key_id=KID2)],
            "set key_id to dek#dlg-0001#2",
            record_findings=INVALID,
        ),
        _fails(
            "unknown-wrap-alg",
            "wrap_alg not in the registry (KEY-4, KEY-7)",
            [replace(base, wrap_alg="A128KW")],
            "set wrap_alg to 'A128KW'",
            record_findings=INVALID,
        ),
        _fails(
            "wrap-nonce-wrong-length",
            "11-byte wrap nonce on a GCM record (KEY-7)",
            [replace(base, wrap_nonce=(base.wrap_nonce or b"")[:11])],
            "truncate wrap_nonce to 11 bytes",
            record_findings=INVALID,
        ),
        _fails(
            "active-without-wrapped-key",
            "active record with no key material (KEY-7)",
            [replace(base, wrapped_key=None)],
            "remove wrapped_key",
            record_findings=INVALID,
        ),
        _fails(
            "conflicting-records",
            "two different records for one key id: the resolver will not pick (KEY-5)",
            [base, replace(base, wrapped_key=_flip(base.wrapped_key, 0))],
            "a second copy with bit 0 of wrapped_key flipped",
        ),
    ]
    out += rule_resolve_cases(base)
    for alg, rec in ((GCM, base), (KW, kw)):
        size = len(rec.wrapped_key or b"") * 8
        for bit in (0, size // 2, size - 1):
            out.append(
                _fails(
                    f"flip-wrapped-key-bit-{bit}-{alg.value.lower()}",
                    f"bit {bit} (MSB-first) of wrapped_key flipped",
                    [replace(rec, wrapped_key=_flip(rec.wrapped_key, bit))],
                    f"flip bit {bit} of wrapped_key",
                )
            )
    for bit in (0, 95):
        out.append(
            _fails(
                f"flip-wrap-nonce-bit-{bit}",
                f"bit {bit} (MSB-first) of wrap_nonce flipped",
                [replace(base, wrap_nonce=_flip(base.wrap_nonce, bit))],
                f"flip bit {bit} of wrap_nonce",
            )
        )
    return out


def all_cases() -> list[tuple[str, dict[str, Any]]]:
    cases = kek_cases() + key_id_cases() + umk_file_cases()
    cases += [("positive", c) for c in positive_resolve_cases()]
    cases += [("negative", c) for c in negative_resolve_cases()]
    return cases


def generate(out_dir: Path) -> list[Path]:
    """Write every key case to ``out_dir/keys/{positive,negative}/NAME.json``."""
    root = Path(out_dir) / SUBDIR
    for stale in sorted(root.glob("*/*.json")):
        stale.unlink()
    written, names = [], set()
    for group, case in all_cases():
        if case["name"] in names:
            raise AssertionError(f"duplicate vector name {case['name']}")
        names.add(case["name"])
        written.append(write_json(root / group / f"{case['name']}.json", case))
    return written
