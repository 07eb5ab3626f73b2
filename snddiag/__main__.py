from __future__ import annotations

from snddiag.cli import main_entry

main_entry()
