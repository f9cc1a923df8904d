"""zlib for the hot paths: python-isal's drop-in ``isal_zlib`` where it is installed, else the standard library's.

On this project's 2-core x86 machine, ``isal_zlib`` inflates a return's parts ~1.7× and deflates the
master's sheet XML at level 1 ~6× faster than zlib, with the same API (``decompressobj`` with
``max_length``, ``eof``, ``flush``, ``crc32``; its ``error`` is its own class, not the standard
module's, so code catches the error of the module it called). The output is raw DEFLATE either
way: any zip reader reads it.
"""
from __future__ import annotations

try:
    from isal import isal_zlib as zlib
except ImportError:  # no wheel for this platform: the standard library's, slower but the same
    import zlib

__all__ = ["zlib"]
