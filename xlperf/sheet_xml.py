"""Stream a table's rows into the sheet XML of an xlsxwriter workbook, the biggest sheet in a forked process."""
from __future__ import annotations

import io
import math
import os
import re
import struct
import sys
from collections.abc import Sequence

from .zlib_fast import zlib

# A sheet of at least this many cells (~6,000 indicator rows, ~600 returns) is built and written by a
# forked child while the parent builds and writes the others: ~0.7 s less at 10,000 returns. Below it,
# the fork and the copied pages cost about what the overlap saves.
FORK_MIN_CELLS = 100_000
_LEVEL = 1  # large, repetitive XML: level 1 is 4× faster than 6 and ~25% bigger
_XML_SPECIAL = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_")
_RESULT = struct.Struct("<IQ")  # what a child reports: the part's CRC-32 and inflated size


def cell_text(v: str) -> str:
    """An inline-string cell after its reference, escaped as xlsxwriter escapes shared strings."""
    v = v[:32767]
    if _XML_SPECIAL.search(v):
        v = re.sub(r"(_x[0-9a-fA-F]{4}_)", r"_x005F\1", v)
        v = re.sub(r"[\x00-\x08\x0b-\x1f\ufffe\uffff]", lambda m: f"_x{ord(m.group(0)):04X}_", v)
    v = v.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    space = ' xml:space="preserve"' if v[:1].isspace() or v[-1:].isspace() else ""
    return f' t="inlineStr"><is><t{space}>{v}</t></is></c>'


def rows_xml(cols: list, rows: list, styles: dict, batch: int = 2000):
    """<row> elements for rows 2… (row 1 is the header xlsxwriter wrote), as UTF-8 chunks of `batch` rows.

    Each row is put together with NUL where its number goes (cell text never holds a NUL: cell_text
    escapes it), then one replace() numbers the row: a text cell is a memo hit per column and value,
    not a string formatted per cell.
    """
    from .spec import col_letter

    plan = []
    for i, c in enumerate(cols):
        s = styles.get(c, 0)
        plan.append((c, f'<c r="{col_letter(i)}\0"' + (f' s="{s}"' if s else ""), "><v>", {}))
    out = []
    for ri, row in enumerate(rows, start=2):
        get = row.get
        parts = ['<row r="\0">']
        for c, head, num, memo in plan:
            v = get(c)
            if v is None or v == "":
                continue
            if v.__class__ is str:
                cell = memo.get(v)
                if cell is None:
                    cell = head + cell_text(v)
                    if len(memo) < 50_000:
                        memo[v] = cell
            elif isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
                cell = f"{head}{num}{float(v):.16G}</v></c>"
            else:
                cell = head + cell_text(str(v))
            parts.append(cell)
        parts.append("</row>")
        out.append("".join(parts).replace("\0", str(ri)))
        if len(out) >= batch:
            yield "".join(out).encode("utf-8")
            out = []
    if out:
        yield "".join(out).encode("utf-8")


class LazyRows(Sequence):
    """A table's rows, counted and sampled now, built only when they are streamed (or asked for whole).

    The master's workbook is laid out from each table's count and first rows (widths, filters, print
    areas); the rows of its biggest sheet are then built by the forked child that writes that sheet,
    beside the parent building and writing the others. *build* must give exactly *count* rows whose
    first ones are *sample* (at most WIDTH_SAMPLE of them, all of them when there are fewer).
    """

    def __init__(self, count: int, sample: list, build):
        self.count, self.sample, self._build, self._rows = count, sample, build, None

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, key):
        if (isinstance(key, slice) and key.step is None and not key.start and key.stop is not None
                and (0 <= key.stop <= len(self.sample) or len(self.sample) == self.count)):
            return self.sample[key]
        return self.rows()[key]

    def __iter__(self):
        return iter(self.rows())

    def rows(self) -> list:
        """Every row, built once."""
        if self._rows is None:
            rows = self._build()
            if len(rows) != self.count:  # the sheet's dimension and filter were laid out for count rows
                raise RuntimeError(f"a table counted {self.count} rows and built {len(rows)}")
            self._rows = rows
        return self._rows


def splice_rows(xlsx: bytes, target, fast: dict, styles: dict) -> None:
    """Copy the workbook xlsxwriter wrote to `target`, streaming each table's rows into its <sheetData>.

    *fast* maps a sheet's XML part to its (columns, rows). The biggest sheet, when it is big enough,
    is built and deflated by a forked child (:class:`_ForkedPart`) while this process does the others;
    if the child fails, this process writes that sheet itself.
    """
    import zipfile

    with zipfile.ZipFile(io.BytesIO(xlsx)) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        infos = src.infolist()
        forked: list = []
        try:
            big = max(fast, key=lambda name: len(fast[name][0]) * len(fast[name][1]), default=None)
            if big is not None and len(fast[big][0]) * len(fast[big][1]) >= FORK_MIN_CELLS and _can_fork():
                zi = next(zi for zi in infos if zi.filename == big)
                head, tail = _sheet_ends(zi.filename, src.read(zi), fast[big][0], len(fast[big][1]))
                try:
                    forked.append((zi, _ForkedPart(head, rows_xml(*fast[big], styles), tail)))
                except OSError:  # no temporary file, or no process to be had (EAGAIN, ENOMEM): written here
                    pass
            skip = {zi.filename for zi, _part in forked}
            for zi in infos:
                if zi.filename not in skip:
                    _copy_part(src, out, zi, fast, styles)
            for zi, part in forked:  # last: their children had the whole time above to finish
                result = part.result()
                if result is None or not _write_deflated(out, _sheet_info(zi), part.file, *result):
                    _copy_part(src, out, zi, fast, styles)
        finally:
            for _zi, part in forked:
                part.close()


def _copy_part(src, out, zi, fast: dict, styles: dict) -> None:
    """One part of the xlsxwriter workbook into *out*: as it was, or a table sheet with its rows streamed in."""
    data = src.read(zi)
    if zi.filename not in fast:
        out.writestr(zi, data)
        return
    cols, rows = fast[zi.filename]
    head, tail = _sheet_ends(zi.filename, data, cols, len(rows))
    packed = io.BytesIO()  # deflated, a tenth of the XML: kept in memory until its header can be written
    deflater = _deflate_part(packed, head, rows_xml(cols, rows, styles), tail)
    if not _write_deflated(out, _sheet_info(zi), packed, deflater.crc, deflater.size):
        with out.open(_sheet_info(zi), "w", force_zip64=True) as fh:
            fh.write(head)
            write_overlapped(fh, rows_xml(cols, rows, styles))
            fh.write(tail)


def _sheet_ends(name: str, data: bytes, cols: list, n_rows: int) -> tuple[bytes, bytes]:
    """The sheet XML before and after the data rows (whose <dimension> now covers them)."""
    from .spec import col_letter

    head, end, tail = data.partition(b"</sheetData>")
    if not end:
        raise ValueError(f"{name}: no <sheetData> to fill")
    last = f"A1:{col_letter(max(0, len(cols) - 1))}{n_rows + 1}"
    head = re.sub(rb'<dimension ref="[^"]*"/>', f'<dimension ref="{last}"/>'.encode(), head, count=1)
    return head, end + tail


def _sheet_info(zi):
    import zipfile

    info = zipfile.ZipInfo(zi.filename, zi.date_time)  # xlsxwriter's fixed timestamps: same bytes each run
    info.compress_type = zipfile.ZIP_DEFLATED
    info._compresslevel = _LEVEL
    return info


def write_overlapped(fh, chunks) -> None:
    """fh.write each chunk from a second thread: zlib compresses without the GIL, so compressing one
    chunk overlaps with building the next (~0.3 s of 2 s for 10,000 returns)."""
    import queue
    import threading

    q: queue.Queue = queue.Queue(maxsize=4)
    failed: list = []

    def writer():
        while (chunk := q.get()) is not None:
            if not failed:
                try:
                    fh.write(chunk)
                except BaseException as exc:  # re-raised in the caller's thread
                    failed.append(exc)

    t = threading.Thread(target=writer, name="xlperf-deflate", daemon=True)
    t.start()
    try:
        for chunk in chunks:
            if failed:
                break
            q.put(chunk)
    finally:
        q.put(None)
        t.join()
    if failed:
        raise failed[0]


# --------------------------------------------------------------------------- the forked sheet


def _can_fork() -> bool:
    """fork() copies only the calling thread: safe while this process runs no other thread (the CLI's
    progress display has stopped by the time the master is written). Linux only, where it is cheap."""
    import threading

    return sys.platform.startswith("linux") and hasattr(os, "fork") and threading.active_count() == 1


class _Deflater:
    """A write-only file that deflates what it is given (raw, as a zip entry holds it) into *out*."""

    def __init__(self, out):
        self.out = out
        self.zlib = zlib.compressobj(_LEVEL, zlib.DEFLATED, -15)  # raw DEFLATE, as a zip entry holds it
        self.crc = 0
        self.size = 0

    def write(self, data: bytes) -> None:
        self.crc = zlib.crc32(data, self.crc)
        self.size += len(data)
        self.out.write(self.zlib.compress(data))

    def close(self) -> None:
        self.out.write(self.zlib.flush())
        self.out.flush()


def _deflate_part(out, head: bytes, chunks, tail: bytes) -> _Deflater:
    """One sheet part (head, the rows' chunks, tail) deflated into *out*; its CRC and size are on the result."""
    deflater = _Deflater(out)
    deflater.write(head)
    write_overlapped(deflater, chunks)
    deflater.write(tail)
    deflater.close()
    return deflater


class _ForkedPart:
    """One sheet part built and deflated by a forked child into an anonymous temporary file.

    The child inherits the rows (no copy, no pickling), writes head + rows + tail through one
    deflate stream and reports the CRC-32 and size on a pipe. It never returns into the caller's
    code: whatever happens, it ends with os._exit, so no exit handler or buffered output of the
    parent runs twice.
    """

    def __init__(self, head: bytes, chunks, tail: bytes):
        import tempfile

        self.file = tempfile.TemporaryFile()  # unlinked already: nothing is left behind, whatever ends the run
        try:
            read_end, write_end = os.pipe()
        except OSError:
            self.file.close()
            raise
        try:
            self.pid = os.fork()
        except OSError:
            for fd in (read_end, write_end):
                os.close(fd)
            self.file.close()
            raise
        if self.pid == 0:  # the child
            code = 1
            try:
                os.close(read_end)
                _die_with_parent()
                deflater = _deflate_part(self.file, head, chunks, tail)
                os.write(write_end, _RESULT.pack(deflater.crc, deflater.size))
                code = 0
            finally:
                os._exit(code)
        os.close(write_end)
        self.pipe = read_end

    def result(self) -> tuple[int, int] | None:
        """(CRC-32, inflated size) once the child is done, or None if it failed."""
        with os.fdopen(self.pipe, "rb") as pipe:
            self.pipe = None
            data = pipe.read()
        _pid, status = os.waitpid(self.pid, 0)
        self.pid = 0
        if status != 0 or len(data) != _RESULT.size:
            return None
        return _RESULT.unpack(data)

    def close(self) -> None:
        """Stop a child still running (the parent failed or was interrupted) and drop its file."""
        import signal

        if self.pipe is not None:
            os.close(self.pipe)
            self.pipe = None
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            self.pid = 0
        self.file.close()


def _die_with_parent() -> None:
    """A child whose parent was killed (kill -9) stops too (Linux PR_SET_PDEATHSIG)."""
    try:
        import ctypes
        import signal

        parent = os.getppid()
        ctypes.CDLL(None).prctl(1, int(signal.SIGKILL), 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)
    except Exception:  # no prctl: the child still ends on its own once the sheet is written
        pass


def _write_deflated(zf, info, data_file, crc: int, size: int) -> bool:
    """Add an entry whose data is already deflated (in *data_file*) to the zip being written.

    zipfile has no public way to add compressed bytes as they are; this does what ZipFile.open(…, "w")
    and its close() do when the sizes and CRC are known in advance (the same attributes, in the same
    order). False, having written nothing, when this zipfile's internals are not the ones expected.
    """
    import shutil
    import zipfile

    compressed = data_file.seek(0, os.SEEK_END)
    if not all(hasattr(zf, a) for a in ("_lock", "_writecheck", "start_dir", "_writing", "fp")) or zf._writing:
        return False
    info.compress_type = zipfile.ZIP_DEFLATED
    info.CRC, info.file_size, info.compress_size = crc, size, compressed
    info.flag_bits = 0
    info.external_attr = info.external_attr or 0o600 << 16
    zip64 = size > zipfile.ZIP64_LIMIT or compressed > zipfile.ZIP64_LIMIT
    with zf._lock:
        zf.fp.seek(zf.start_dir)
        info.header_offset = zf.fp.tell()
        zf._writecheck(info)
        zf._didModify = True
        zf.fp.write(info.FileHeader(zip64))
        data_file.seek(0)
        shutil.copyfileobj(data_file, zf.fp, 1 << 20)
        zf.filelist.append(info)
        zf.NameToInfo[info.filename] = info
        zf.start_dir = zf.fp.tell()
    return True
