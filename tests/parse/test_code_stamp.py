"""The parse cache is dropped when Kiln's own code or macros change (development checkouts)."""

from __future__ import annotations

import os
from pathlib import Path

from kiln.parse import cache

BUILTIN_MACROS = Path(cache.__file__).resolve().parent.parent / "jinja" / "builtin_macros"


def test_editing_a_builtin_macro_file_changes_the_code_stamp():
    macro_file = sorted(BUILTIN_MACROS.glob("*.sql"))[0]
    before = cache._code_stamp()
    stat = macro_file.stat()
    try:
        os.utime(macro_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**15))
        assert cache._code_stamp() != before
    finally:
        os.utime(macro_file, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert cache._code_stamp() == before
