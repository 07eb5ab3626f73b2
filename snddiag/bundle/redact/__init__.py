"""Redaction: identifiers in the evidence become stable, visibly fake tokens.

`classes.py` is the table of what is redacted (one entry per class: where its values are
learnt, what they look like, what is never one, how its tokens are named); `vocabulary.py` holds
the words that identify nobody; `redactor.py` learns and replaces by that table alone. Sources
whose output holds hex byte strings (modinfo's signatures) are declared `hex_bytes` in the
collection plan, and the shapes such bytes take are not matched there.
"""

from __future__ import annotations

from snddiag.bundle.redact.classes import CLASSES, HOSTNAME_KEYS, RedactionClass, describe_counts
from snddiag.bundle.redact.redactor import Redactor, redact_evidence

__all__ = [
    "CLASSES",
    "HOSTNAME_KEYS",
    "RedactionClass",
    "Redactor",
    "describe_counts",
    "redact_evidence",
]
