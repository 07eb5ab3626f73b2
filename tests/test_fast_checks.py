"""The checks made faster for `analyze` say what their plain definitions say, on any input."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from snddiag.bundle.read import _octal
from snddiag.evidence import EvidenceError, check_key
from snddiag.parse.module_index import module_name

# Keys built from the pieces that matter: slashes, dots, names.
_keys = st.lists(st.sampled_from(["", ".", "..", "a", "b.c", "...", "/", "x/y", ".a"])).map(
    "/".join
) | st.text(alphabet="/.a", max_size=12)


def _plain_key_check(key: str) -> bool:
    """check_key's first definition: no empty, '.' or '..' part, no leading slash."""
    return not (not key or key.startswith("/") or any(p in ("", ".", "..") for p in key.split("/")))


@given(_keys)
def test_check_key_refuses_what_the_plain_definition_refuses(key: str) -> None:
    try:
        check_key(key)
        accepted = True
    except EvidenceError:
        accepted = False
    assert accepted == _plain_key_check(key)


_OCTAL = re.compile(rb"[0-7]*[ \x00]*")


@given(st.binary(max_size=12) | st.text(alphabet="0178 \x00x", max_size=12).map(str.encode))
def test_octal_field_is_the_pattern(field: bytes) -> None:
    assert _octal(field) == bool(_OCTAL.fullmatch(field))


def _plain_module_name(path: str) -> str:
    return path.rsplit("/", 1)[-1].split(".ko", 1)[0].replace("-", "_")


@given(st.text(alphabet="ab-_/.kox", max_size=30))
def test_module_name_is_the_plain_definition(path: str) -> None:
    assert module_name(path) == _plain_module_name(path)
