"""snddiag.pyz: snddiag and its shipped rules in one file (`python3 snddiag.pyz`).

The distribution's PyYAML, rich and pyudev are used where they are installed: the pure-Python
copies in this archive's _vendor/ come last on sys.path and only stand in for what does not
import. psutil is compiled and not in here; snddiag reads /proc first anyway.
Built by packaging/zipapp/build, which pins the copies.
"""

import os
import sys

# An older python3 gets one line and the usage exit code (1 would read as "warnings only").
if sys.version_info < (3, 9):  # noqa: UP036
    sys.stderr.write(f"snddiag needs Python 3.9 or newer; this is {sys.version.split()[0]}\n")
    sys.exit(64)

sys.path.append(os.path.join(os.path.dirname(__file__), "_vendor"))

from snddiag.archive_code import install

install(os.path.dirname(__file__), __loader__)  # snddiag's bytecode, when built by this Python

from snddiag.cli import main_entry  # noqa: E402

main_entry()
