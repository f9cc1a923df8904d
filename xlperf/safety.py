"""Pre-parse safety checks that reject hostile or unusable workbook files before any spreadsheet parser opens them."""

from __future__ import annotations

import os
import posixpath
import re
import stat
import struct
import zlib as _zlib  # the standard one, for heads (_Inflater._inflate); zlib below is the fast one
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Mapping
from io import BufferedReader

from .messages import ISSUES, issue_text
from .zlib_fast import zlib

__all__ = ["CODES", "Limits", "Rejection", "precheck", "safe_parse_xml"]

_MiB = 2**20

# The codes the precheck reports; their severity and texts live in xlperf.messages.ISSUES (one catalogue),
# the status each one gives a file is derived from it: code -> (status, English text).
_PRECHECK_CODES = ("F001", "F002", "F003", "F004", "F005", "F006", "F007", "F008", "F009", "F010", "F011",
                   "F012", "F013", "F014", "F018", "F019")
CODES: dict[str, tuple[str, str]] = {
    code: ({"skip": "skipped"}.get(ISSUES[code][0], "rejected"), ISSUES[code][2]) for code in _PRECHECK_CODES
}

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_XML_HEAD = 4096            # bytes of each XML part always scanned for DOCTYPE/ENTITY
_XML_PROLOG_MAX = 64 * 1024  # the prolog (everything before the root element) may not be longer
_CRC_ENTRY_MAX = 256 * 1024  # XML parts up to this size are read to the end so zipfile checks their CRC
_CRC_BUDGET = 16 * _MiB      # total bytes decompressed for CRC checks per file
_CONTENT_TYPES_MAX = _MiB
_XML_EXT = (".xml", ".rels", ".vml")
_MEDIA_EXT = (".png", ".jpg", ".jpeg", ".jfif", ".gif", ".bmp", ".tif", ".tiff", ".emf", ".wmf",
              ".emz", ".wmz", ".svg", ".wdp", ".ico")


@dataclass(frozen=True)
class Limits:
    """Resource limits applied by :func:`precheck`."""

    max_file_bytes: int = 20 * _MiB
    max_entries: int = 2000
    max_total_uncompressed: int = 200 * _MiB
    max_entry_uncompressed: int = 100 * _MiB
    max_ratio: float = 200.0  # per entry, uncompressed/compressed, only for entries > 1 MiB uncompressed
    max_sheet_rows: int = 10_000  # last row of any worksheet's <dimension ref> (the form has < 200 rows)
    max_sheet_cells: int = 1_000_000  # rows x columns of that range counted from A1 (the reader's grid)
    read_timeout_s: float = 30.0  # per file, in a worker process (xlperf.workers)
    read_mem_mb: int = 1024  # address-space limit (RLIMIT_AS) of a worker process, MiB

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Limits:
        """Build limits from XLPERF_MAX_FILE_MB, XLPERF_MAX_ENTRIES, XLPERF_MAX_UNCOMPRESSED_MB, XLPERF_MAX_RATIO,
        XLPERF_MAX_SHEET_ROWS, XLPERF_MAX_SHEET_CELLS, XLPERF_READ_TIMEOUT (seconds) and XLPERF_READ_MEM_MB.

        Unset or blank variables keep the defaults; a bad value raises ValueError naming the variable.
        XLPERF_MAX_UNCOMPRESSED_MB sets the total limit; the per-entry limit becomes half of it
        (the same proportion as the defaults, 200 MiB / 100 MiB).
        """
        env = os.environ if environ is None else environ

        def num(name: str) -> float | None:
            raw = env.get(name)
            if raw is None or not raw.strip():
                return None
            try:
                value = float(raw)
            except ValueError:
                raise ValueError(f"{name} must be a positive number, got {raw!r}") from None
            if not (0 < value < float("inf")):
                raise ValueError(f"{name} must be a positive number, got {raw!r}")
            return value

        kw: dict[str, float | int] = {}
        if (v := num("XLPERF_MAX_FILE_MB")) is not None:
            kw["max_file_bytes"] = max(1, int(v * _MiB))
        if (v := num("XLPERF_MAX_ENTRIES")) is not None:
            kw["max_entries"] = max(1, int(v))
        if (v := num("XLPERF_MAX_UNCOMPRESSED_MB")) is not None:
            total = max(1, int(v * _MiB))
            kw["max_total_uncompressed"] = total
            kw["max_entry_uncompressed"] = max(1, total // 2)
        if (v := num("XLPERF_MAX_RATIO")) is not None:
            kw["max_ratio"] = v
        if (v := num("XLPERF_MAX_SHEET_ROWS")) is not None:
            kw["max_sheet_rows"] = max(1, int(v))
        if (v := num("XLPERF_MAX_SHEET_CELLS")) is not None:
            kw["max_sheet_cells"] = max(1, int(v))
        if (v := num("XLPERF_READ_TIMEOUT")) is not None:
            kw["read_timeout_s"] = v
        if (v := num("XLPERF_READ_MEM_MB")) is not None:
            kw["read_mem_mb"] = max(64, int(v))
        return cls(**kw)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Rejection:
    """Why a file must not be handed to a spreadsheet parser."""

    code: str
    status: str  # 'rejected' or 'skipped'
    detail: dict = field(default_factory=dict)

    def __str__(self) -> str:
        meaning = issue_text(self.code, "en", **self.detail) if self.code in CODES else "unknown problem"
        extra = ", ".join(f"{k}={v}" for k, v in self.detail.items())
        return f"{self.code} ({self.status}): {meaning}" + (f" [{extra}]" if extra else "")


def _rej(code: str, **detail: object) -> Rejection:
    return Rejection(code, CODES[code][0], dict(detail))


# --------------------------------------------------------------------------- entry point


def precheck(path: Path | str, limits: Limits = Limits()) -> Rejection | None:
    """Return the first safety problem of the file at *path*, or None if a parser may open it.

    Reads the file once (a zip whole, into memory: it is at most ``limits.max_file_bytes``) and
    inflates (bounded) the start of each XML part; never raises for any file content.
    """
    return read_checked(path, limits)[0]


def read_checked(path: Path | str, limits: Limits = Limits(), parts: dict | None = None,
                 entries: list | None = None) -> tuple[Rejection | None, bytes | None, os.stat_result | None]:
    """:func:`precheck` that also hands back what it read: ``(rejection, data, stat)``.

    *data* is the whole file when it passed (``None`` otherwise), so a parser can work on the very
    bytes that were checked, without opening the file again. *stat* is the ``fstat`` of the file that
    was read. If *parts* is a dict, every zip entry that was inflated completely and CRC-checked
    (small XML parts) is stored in it, name -> bytes, so a caller need not inflate it again. If
    *entries* is a list, the checked zip's entries (``ZipInfo``, central-directory order) are appended
    to it, for :func:`shared_zip`.
    """
    p = Path(path)
    name = p.name
    if name.startswith("~$"):
        return _rej("F001", kind="excel_lock"), None, None
    if name.startswith(".~lock."):
        return _rej("F001", kind="libreoffice_lock"), None, None
    if name.startswith("._"):
        return _rej("F001", kind="appledouble"), None, None

    try:
        st = os.stat(p)
    except (OSError, ValueError) as e:
        if os.path.islink(p):
            reason = "broken_symlink"
        elif isinstance(e, FileNotFoundError):
            reason = "missing"
        else:
            reason = "unreadable"
        return _rej("F002", reason=reason, error=_err(e)), None, None
    if not stat.S_ISREG(st.st_mode):
        return _rej("F002", reason="not_regular_file"), None, None
    if st.st_size == 0:
        return _rej("F003", size=0), None, None
    if st.st_size > limits.max_file_bytes:
        return _rej("F004", size=st.st_size, limit=limits.max_file_bytes), None, None

    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(p, flags)
    except OSError as e:
        return _rej("F002", reason="unreadable", error=_err(e)), None, None
    try:
        f = os.fdopen(fd, "rb")
    except OSError as e:  # pragma: no cover - fdopen on a fresh fd does not fail in practice
        os.close(fd)
        return _rej("F002", reason="unreadable", error=_err(e)), None, None
    with f:
        try:
            st = os.fstat(f.fileno())  # the file may have been swapped since os.stat
            if not stat.S_ISREG(st.st_mode):
                return _rej("F002", reason="not_regular_file"), None, st
            size = st.st_size
            if size == 0:
                return _rej("F003", size=0), None, st
            if size > limits.max_file_bytes:
                return _rej("F004", size=size, limit=limits.max_file_bytes), None, st
            head = f.read(8)
        except OSError as e:
            return _rej("F002", reason="unreadable", error=_err(e)), None, None
        if head.startswith(_OLE_MAGIC):
            return _check_ole(f, size, p.suffix.lower()), None, st
        if not head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
            try:
                f.seek(0)
                sample = f.read(4096)
            except OSError as e:
                return _rej("F002", reason="unreadable", error=_err(e)), None, st
            kind = _sniff(sample)
            if kind in OTHER_FORMATS:
                return _rej("F005", format=kind), None, st
            return _rej("F007", kind=kind), None, st
        try:
            f.seek(0)
            data = f.read(size + 1)
            if len(data) > size:  # it grew since fstat
                data += f.read(limits.max_file_bytes + 1 - len(data))
        except OSError as e:
            return _rej("F002", reason="unreadable", error=_err(e)), None, st
    if len(data) > limits.max_file_bytes:
        return _rej("F004", size=len(data), limit=limits.max_file_bytes), None, st
    if not data:
        return _rej("F003", size=0), None, st
    found: dict = {}
    infos: list = []
    try:
        problem = _check_zip(data, limits, found, infos)
    except Exception as e:  # anything the zip layer chokes on is a broken container
        problem = _rej("F008", reason="unreadable_zip", error=_err(e))
    if problem is not None:
        return problem, None, st
    if parts is not None:
        parts.update(found)
    if entries is not None:
        entries.extend(infos)
    return None, data, st


def _mb(n: int) -> float:
    """Bytes as MiB, for messages: 112.3, or 0.1 for anything small."""
    return max(0.1, round(n / _MiB, 1))


def _err(e: BaseException) -> str:
    text = getattr(e, "strerror", None) or str(e) or type(e).__name__
    return text[:200]


# --------------------------------------------------------------------------- non-zip sniffing


def _sniff(b: bytes) -> str:
    """Guess what a non-zip, non-OLE file is: 'xls' (BIFF2-5, before OLE), 'fods', 'pdf', 'html', 'xml',
    'rtf', 'archive', 'text' or 'unknown'."""
    if len(b) >= 8 and b[0] == 0x09 and b[1] in (0x00, 0x02, 0x04, 0x08):
        # a BOF record opens every BIFF stream: type 0x0009/0x0209/0x0409/0x0809, a short length, a version
        rec_len = struct.unpack_from("<H", b, 2)[0]
        if 4 <= rec_len <= 32:
            return "xls"
    if b.startswith(b"%PDF"):
        return "pdf"
    if b.startswith((b"Rar!", b"7z\xbc\xaf\x27\x1c", b"\x1f\x8b", b"BZh")):
        return "archive"
    if b.startswith(b"{\\rtf"):
        return "rtf"
    text = _decode_text(b)
    if text is None:
        return "unknown"
    t = text.lstrip().lower()[:4096]
    if any(m in t for m in ("<html", "<!doctype html", "<body", "<head", "<table", "<meta ")):
        return "html"
    if t.startswith("<?xml") or (t.startswith("<") and "xmlns" in t):
        if "office:document" in t and "opendocument.spreadsheet" in t:
            return "fods"
        return "xml"
    return "text"


def _decode_text(b: bytes) -> str | None:
    import codecs

    if b.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif b.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8", "gb18030"]
    for enc in candidates:
        try:
            text = codecs.getincrementaldecoder(enc)().decode(b, final=False)  # sample may cut a char
        except (UnicodeDecodeError, LookupError):
            continue
        if not text:
            return None
        bad = sum(1 for ch in text if (ord(ch) < 32 and ch not in "\t\n\r\f") or ch == "\x7f")
        if bad * 100 > len(text):  # more than 1% control characters: binary
            return None
        return text
    return None


# --------------------------------------------------------------------------- OLE2 (.xls / encrypted OOXML)

_ENDOFCHAIN_MIN = 0xFFFFFFFA  # ids >= this are special (MAXREGSECT+1 ...)


def _check_ole(f: BufferedReader, size: int, ext: str = "") -> Rejection:
    names: list[str] | None
    try:
        names = _ole_names(f, size)
    except Exception:
        names = None
    scanned = False
    if not names:
        scanned = True
        names = _ole_scan_names(f, size)
    lower = {n.lower() for n in names}
    if lower & {"encryptioninfo", "encryptedpackage"}:
        return _rej("F006", kind="encrypted_ooxml")
    extra = {"directory": "unparsed"} if scanned else {}
    if lower & {"workbook", "book"} or (ext in (".xls", ".xlt", ".et", ".ett") and not lower & _OLE_NOT_BOOK):
        # WPS writes its .et in the same OLE/BIFF container as Excel 97-2003: only the name tells them apart
        return _rej("F005", format="et" if ext in (".et", ".ett") else "xls", **extra)
    if "worddocument" in lower:
        kind = "doc"
    elif "powerpoint document" in lower:
        kind = "ppt"
    else:
        kind = "ole"
    return _rej("F007", kind=kind, **extra)


_OLE_NOT_BOOK = {"worddocument", "powerpoint document"}


def _ole_names(f: BufferedReader, size: int) -> list[str] | None:
    """Names in the OLE2 directory, following the FAT chain with every loop bounded."""
    f.seek(0)
    hdr = f.read(512)
    if len(hdr) < 512:
        return None
    shift = struct.unpack_from("<H", hdr, 0x1E)[0]
    if shift not in (9, 12):
        return None
    ss = 1 << shift
    per = ss // 4
    nsect = max(0, size // ss - 1)
    n_fat, first_dir = struct.unpack_from("<LL", hdr, 0x2C)
    first_difat, n_difat = struct.unpack_from("<LL", hdr, 0x44)
    if n_fat > nsect + 1:
        return None

    def sector(n: int) -> bytes:
        if n >= nsect + 1:
            raise ValueError("sector out of range")
        f.seek((n + 1) * ss)
        data = f.read(ss)
        if len(data) < ss:
            data = data.ljust(ss, b"\0")  # a short last sector is common and harmless
        return data

    difat = list(struct.unpack_from("<109L", hdr, 0x4C))
    sec, hops = first_difat, 0
    while sec < _ENDOFCHAIN_MIN and len(difat) < n_fat and hops <= min(n_difat, nsect):
        data = sector(sec)
        vals = struct.unpack(f"<{per}L", data)
        difat.extend(vals[:-1])
        sec = vals[-1]
        hops += 1
    fat = difat[:n_fat]
    fat_cache: dict[int, tuple[int, ...]] = {}

    def next_sector(n: int) -> int:
        idx = n // per
        if idx >= len(fat) or fat[idx] >= _ENDOFCHAIN_MIN:
            raise ValueError("FAT index out of range")
        if idx not in fat_cache:
            fat_cache[idx] = struct.unpack(f"<{per}L", sector(fat[idx]))
        return fat_cache[idx][n % per]

    names: list[str] = []
    seen: set[int] = set()
    sec = first_dir
    while sec < _ENDOFCHAIN_MIN and sec not in seen and len(seen) < 1024:
        seen.add(sec)
        data = sector(sec)
        for off in range(0, ss, 128):
            entry = data[off:off + 128]
            name_len = struct.unpack_from("<H", entry, 0x40)[0]
            if entry[0x42] in (1, 2, 5) and 2 <= name_len <= 64 and name_len % 2 == 0:
                names.append(entry[: name_len - 2].decode("utf-16-le", "replace"))
        sec = next_sector(sec)
    return names


def _ole_scan_names(f: BufferedReader, size: int) -> list[str]:
    """Fallback when the directory cannot be walked: look for the stream names in the first and last MiB."""
    wanted = ["EncryptionInfo", "EncryptedPackage", "Workbook", "Book", "WordDocument", "PowerPoint Document"]
    found: list[str] = []
    try:
        f.seek(0)
        blob = f.read(_MiB)
        if size > _MiB:
            f.seek(max(_MiB, size - _MiB))
            blob += b"\0\0" + f.read(_MiB)
    except OSError:
        return found
    for w in wanted:
        if (w + "\0").encode("utf-16-le") in blob:
            found.append(w)
    return found


# --------------------------------------------------------------------------- zip / OOXML


def _find_eocd(data: bytes) -> tuple[int, int] | None:
    """(entry count, central directory size) from the end-of-central-directory record, or None."""
    size = len(data)
    tail_start = size - min(size, 22 + 65535 + 20)
    # the record is 22 bytes: its signature ends at least 18 bytes before the end (one search, no loop)
    pos = data.rfind(b"PK\x05\x06", tail_start, max(0, size - 18))
    if pos < 0:
        return None
    count, cd_size = struct.unpack_from("<HL", data, pos + 10)
    if count == 0xFFFF or cd_size == 0xFFFFFFFF:
        loc = pos - 20
        if loc >= tail_start and data[loc:loc + 4] == b"PK\x06\x07":
            z64_off = struct.unpack_from("<Q", data, loc + 8)[0]
            if z64_off + 56 <= size:
                rec = data[z64_off:z64_off + 56]
                if rec[:4] == b"PK\x06\x06":
                    count, cd_size = struct.unpack_from("<QQ", rec, 32)
    return count, cd_size


def _check_zip(data: bytes, limits: Limits, parts: dict, entries: list | None = None) -> Rejection | None:
    """The zip checks, on the file's bytes; fully inflated, CRC-checked parts go into *parts*, and the
    entries of a zip that passed into *entries*."""
    import io
    import zipfile

    size = len(data)
    eocd = _find_eocd(data)
    if eocd is None:
        return _rej("F008", reason="no_central_directory")
    count, cd_size = eocd
    if count > limits.max_entries:
        return _rej("F009", entries=count, limit=limits.max_entries)
    if cd_size > max(_MiB, limits.max_entries * 1024):
        return _rej("F009", reason="central_directory_size", entries=count, size=cd_size, limit=limits.max_entries)

    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile) as e:
        return _rej("F008", reason="bad_zip", error=_err(e))
    with zf:
        infos = zf.infolist()
        if len(infos) > limits.max_entries:
            return _rej("F009", entries=len(infos), limit=limits.max_entries)

        # Central-directory consistency and sizes (no decompression).
        names: dict[str, zipfile.ZipInfo] = {}
        total = 0
        for zi in infos:
            lname = zi.filename.lower()
            if lname in names:
                return _rej("F008", reason="duplicate_entry", entry=zi.filename)
            names[lname] = zi
            if zi.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                return _rej("F008", reason="unsupported_compression", entry=zi.filename, method=zi.compress_type)
            if zi.header_offset + 30 + zi.compress_size > size:
                return _rej("F008", reason="entry_beyond_end", entry=zi.filename)
            if (zi.compress_type == zipfile.ZIP_STORED and not zi.flag_bits & 1
                    and zi.compress_size != zi.file_size):
                return _rej("F008", reason="size_mismatch", entry=zi.filename)
            # A bomb is told by its compression ratio (deflate reaches ~1000:1 on repeated bytes; real
            # sheet XML stays well under 100:1); a part that is merely big at a normal ratio is "too large".
            ratio = zi.file_size / max(zi.compress_size, 1)
            if zi.file_size > _MiB and ratio > limits.max_ratio:
                return _rej("F010", reason="ratio", entry=zi.filename, size=zi.file_size,
                            compressed=zi.compress_size, ratio=round(ratio, 1), limit=limits.max_ratio)
            if zi.file_size > limits.max_entry_uncompressed:
                return _rej("F019", reason="entry_size", entry=zi.filename, size=zi.file_size,
                            compressed=zi.compress_size, limit=limits.max_entry_uncompressed,
                            size_mb=_mb(zi.file_size), limit_mb=_mb(limits.max_entry_uncompressed))
            total += zi.file_size
            if total > limits.max_total_uncompressed:
                return _rej("F019", reason="total_size", entry=zi.filename, size=total,
                            limit=limits.max_total_uncompressed, size_mb=_mb(total),
                            limit_mb=_mb(limits.max_total_uncompressed))

        for zi in infos:
            if zi.flag_bits & 0x41:  # bit 0: encrypted, bit 6: strong encryption
                return _rej("F014", entry=zi.filename)

        if "[content_types].xml" not in names or "xl/workbook.xml" not in names:
            missing = "[Content_Types].xml" if "[content_types].xml" not in names else "xl/workbook.xml"
            kind = _zip_kind(names, zf)
            if kind in OTHER_FORMATS:
                return _rej("F005", format=kind)
            return _rej("F011", missing=missing, kind=kind)

        for lname, zi in names.items():
            if posixpath.basename(lname.replace("\\", "/")) == "vbaproject.bin":
                return _rej("F012", reason="vba_project", entry=zi.filename)
            if lname.startswith("xl/macrosheets/"):
                return _rej("F012", reason="macro_sheet", entry=zi.filename)

        # Local headers must be where the central directory says, and entry data may not overlap
        # (overlapping entries are how "non-recursive" zip bombs reuse one compressed kernel).
        by_offset = sorted(infos, key=lambda zi: zi.header_offset)
        for i, zi in enumerate(by_offset):
            if zi.header_offset < 0:  # as the seek of a file object would
                raise OSError(22, "Invalid argument")
            local = data[zi.header_offset:zi.header_offset + 30]
            if len(local) < 30 or local[:4] != b"PK\x03\x04":
                return _rej("F008", reason="bad_local_header", entry=zi.filename)
            name_len, extra_len = struct.unpack_from("<HH", local, 26)
            data_end = zi.header_offset + 30 + name_len + extra_len + zi.compress_size
            limit = by_offset[i + 1].header_offset if i + 1 < len(by_offset) else size
            if data_end > limit:
                reason = "overlapping_entries" if i + 1 < len(by_offset) else "entry_beyond_end"
                return _rej("F008", reason=reason, entry=zi.filename)

        budget = [_CRC_BUDGET]
        ct = names["[content_types].xml"]
        problem, ct_data = _scan_xml(data, ct, budget, parts, keep=_CONTENT_TYPES_MAX)
        if problem:
            return problem
        macro = _macro_override(ct_data, names)
        if macro is not None:
            return _rej("F012", reason="content_type", entry=macro[0], marker=macro[1])

        # Every part a parser might read as XML is scanned, whatever its extension (a hostile
        # workbook can point its relationships at "sheet1.dat"); only media is skipped (SVG images
        # legitimately carry a DOCTYPE and no spreadsheet parser reads them).
        for zi in infos:
            if zi is ct or zi.is_dir() or zi.filename.lower().endswith(_MEDIA_EXT):
                continue
            problem, head = _scan_xml(data, zi, budget, parts, keep=_XML_HEAD)
            if problem:
                return problem
            problem = _check_dimension(zf, zi, head, limits)
            if problem:
                return problem
    if entries is not None:
        entries.extend(infos)
    return None


_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
_CENTRAL_HEADER = struct.Struct("<4sHHHHHHIIIHHHHHII")
_END_RECORD = struct.Struct("<4sHHHHIIH")


def shared_zip(data: bytes, entries: list, parts: Mapping[str, bytes]) -> bytes:
    """The checked file again, with every part the check inflated (and CRC-checked) *stored*, not deflated.

    A parser given this copy reads exactly the bytes that were checked and does not inflate them a
    second time; entries the check did not inflate whole (media, big parts) are copied as they were,
    compressed, with the sizes and CRC the checked central directory gives them. *data*, *entries* and
    *parts* are what :func:`read_checked` handed back for a file that passed.
    """
    chunks: list = []
    central: list = []
    pos = 0
    for zi in entries:
        name = zi.orig_filename.encode("utf-8")
        body = parts.get(zi.filename)
        if body is not None:
            method, csize, payload = 0, len(body), body
        else:
            start = zi.header_offset
            name_len, extra_len = struct.unpack_from("<HH", data, start + 26)
            begin = start + 30 + name_len + extra_len
            method, csize = zi.compress_type, zi.compress_size
            payload = memoryview(data)[begin:begin + csize]
        chunks.append(_LOCAL_HEADER.pack(b"PK\x03\x04", 20, 0x800, method, 0, 0x21, zi.CRC, csize, zi.file_size,
                                         len(name), 0))
        chunks.append(name)
        chunks.append(payload)
        central.append(_CENTRAL_HEADER.pack(b"PK\x01\x02", 20, 20, 0x800, method, 0, 0x21, zi.CRC, csize,
                                            zi.file_size, len(name), 0, 0, 0, 0, 0, pos))
        central.append(name)
        pos += 30 + len(name) + csize
    directory = b"".join(central)
    chunks.append(directory)
    chunks.append(_END_RECORD.pack(b"PK\x05\x06", 0, 0, len(entries), len(entries), len(directory), pos, 0))
    return b"".join(chunks)


_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\b[^>]*?\bref\s*=\s*[\"']([^\"']*)[\"']")
_REF_END = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d{1,9})$")


def _check_dimension(zf, zi, head: bytes, limits: Limits) -> Rejection | None:
    """F018 when a worksheet declares a used range the reader's dense grid could not afford.

    Excel, WPS, LibreOffice, openpyxl and xlsxwriter all write an honest ``<dimension ref>`` near the
    start of each worksheet; a crafted sheet without one is left to the worker's memory limit.
    """
    if b"\0" in head:
        head = head.replace(b"\0", b"")
    m = _DIMENSION.search(head) if b"dimension" in head else None  # most parts have none: skip the regex
    if not m:
        return None
    ref = m.group(1).decode("ascii", "replace").strip()
    end = _REF_END.search(ref)  # the last cell of the range (the pattern is anchored at the end)
    if not end:
        return None
    col = 0
    for ch in end.group(1).upper():
        col = col * 26 + ord(ch) - 64
    rows = int(end.group(2))
    if rows <= limits.max_sheet_rows and rows * col <= limits.max_sheet_cells:
        return None
    return _rej("F018", sheet_name=_sheet_name(zf, zi.filename), entry=zi.filename, ref=ref, rows=rows,
                cells=rows * col, limit_rows=limits.max_sheet_rows, limit_cells=limits.max_sheet_cells)


def _sheet_name(zf, entry: str) -> str:
    """The sheet name workbook.xml gives the part *entry* (for messages), or the part name."""
    try:
        rels = zf.read("xl/_rels/workbook.xml.rels")[:_MiB]
        wb = zf.read("xl/workbook.xml")[:_MiB]
        rid = None
        for tag in re.finditer(rb"<(?:\w+:)?Relationship\b[^>]*>", rels):
            t = re.search(rb'\bTarget="([^"]+)"', tag.group(0))
            i = re.search(rb'\bId="([^"]+)"', tag.group(0))
            target = t.group(1).decode("utf-8", "replace") if t else ""
            target = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
            if i and posixpath.normpath(target) == entry:
                rid = i.group(1)
                break
        for tag in re.finditer(rb"<(?:\w+:)?sheet\b[^>]*>", wb) if rid else ():
            if re.search(rb'\bid="' + re.escape(rid) + rb'"', tag.group(0)):
                name = re.search(rb'\bname="([^"]*)"', tag.group(0))
                if name:
                    from xml.sax.saxutils import unescape

                    return unescape(name.group(1).decode("utf-8", "replace"), {"&quot;": '"', "&apos;": "'"})
    except Exception:  # a name for the message only; the rejection stands without it
        pass
    return entry


# Content types that make a part a macro: VBA, Excel 4.0 macro sheets (also the international ones),
# Excel 5 dialog sheets, and a macro-enabled main part (.xlsm/.xltm/.xlam).
_MACRO_TYPES = (b"vbaproject", b"macrosheet", b"dialogsheet", b"macroenabled.main+xml")
_OVERRIDE = re.compile(rb"<(?:\w+:)?Override\b[^>]*>", re.I)
_PART_NAME = re.compile(rb"\bPartName\s*=\s*[\"']([^\"']*)[\"']")
_CONTENT_TYPE = re.compile(rb"\bContentType\s*=\s*[\"']([^\"']*)[\"']")


def _macro_override(ct_data: bytes, names: Mapping[str, object]) -> tuple[str, str] | None:
    """(part, content type) of a macro part that ``[Content_Types].xml`` declares and the zip holds.

    Only ``<Override>`` entries count, and only for parts that are there: a ``<Default Extension="bin"
    ContentType="…macroEnabled…">`` says what a .bin part *would* be, and SheetJS writes one in every file.
    """
    lowered = ct_data.lower()
    if not any(m in lowered for m in _MACRO_TYPES):  # no such content type anywhere: no tag to look at
        return None
    for tag in _OVERRIDE.finditer(ct_data):
        ctype = _CONTENT_TYPE.search(tag.group(0))
        part = _PART_NAME.search(tag.group(0))
        if not ctype or not part:
            continue
        low = ctype.group(1).lower()
        if not any(m in low for m in _MACRO_TYPES):
            continue
        name = unquote_part(part.group(1).decode("utf-8", "replace")).lstrip("/").lower()
        if name in names:
            return name, ctype.group(1).decode("ascii", "replace")
    return None


def unquote_part(name: str) -> str:
    """A part name as written in the zip (part names in content types and relationships are percent-encoded)."""
    from urllib.parse import unquote

    return unquote(name) if "%" in name else name


_ODF_SPREADSHEET = b"application/vnd.oasis.opendocument.spreadsheet"


def _zip_kind(names: Mapping[str, object], zf=None) -> str:
    """What a zip that is not an .xlsx is: 'xlsb', 'ods', 'numbers', 'docx', 'pptx', 'odf' or 'zip'."""
    if any(n == "workbook.bin" or n.endswith("/workbook.bin") for n in names):  # any main part path
        return "xlsb"
    if "mimetype" in names:
        mime = b""
        zi = names["mimetype"]
        if zf is not None and getattr(zi, "file_size", 1 << 30) <= 256:
            try:
                mime = zf.read(zi).strip()
            except Exception:  # a damaged mimetype entry: fall back on the other entries
                mime = b""
        if mime.startswith(_ODF_SPREADSHEET):
            return "ods"
        if mime.startswith(b"application/vnd.oasis.opendocument"):
            return "odf"
        if "content.xml" in names and not mime:
            return "odf"
    if "word/document.xml" in names:
        return "docx"
    if "ppt/presentation.xml" in names:
        return "pptx"
    if "index/document.iwa" in names or any(n.startswith("index/") and n.endswith(".iwa") for n in names):
        return "numbers"
    return "zip"


# Spreadsheet formats other than .xlsx that are told apart by content (F005 names the one found).
OTHER_FORMATS = ("xls", "et", "xlsb", "ods", "fods", "numbers")


class _Inflater:
    """The output of one zip entry, inflated from the in-memory file only as far as asked.

    Behaves as ``zipfile.ZipFile.open(zi).read(n)`` does (output cut at the entry's file_size, the
    local header's name must match the central directory's, bit 5 "patched data" is refused) at a
    fraction of its cost: no file object, no ZipExtFile, no 4 KiB read loop.
    """

    __slots__ = ("zi", "src", "out", "stored", "done")

    def __init__(self, data: bytes, zi):
        import zipfile

        start = zi.header_offset
        local = data[start:start + 30]
        if len(local) != 30:
            raise zipfile.BadZipFile("Truncated file header")
        sig, flags, name_len, extra_len = struct.unpack("<4s2xH18xHH", local)
        if sig != b"PK\x03\x04":
            raise zipfile.BadZipFile("Bad magic number for file header")
        fname = data[start + 30:start + 30 + name_len]
        if zi.flag_bits & 0x20:
            raise NotImplementedError("compressed patched data (flag bit 5)")
        if zi.flag_bits & 0x40:
            raise NotImplementedError("strong encryption (flag bit 6)")
        fname_str = fname.decode("utf-8") if flags & 0x800 else fname.decode("cp437")
        if fname_str != zi.orig_filename:
            raise zipfile.BadZipFile(f"File name in directory {zi.orig_filename!r} and header {fname!r} differ.")
        begin = start + 30 + name_len + extra_len
        self.zi = zi
        self.src = memoryview(data)[begin:begin + zi.compress_size]
        self.out = b""
        self.stored = zi.compress_type == zipfile.ZIP_STORED  # else deflated (_check_zip allows no other)
        self.done = False  # the whole entry has been inflated (self.out is all of it)

    def head(self, n: int) -> bytes:
        """The first *n* bytes of the entry (fewer if it is shorter)."""
        if len(self.out) < n and not self.done:
            if self.stored:
                self.out = bytes(self.src[:min(n, self.zi.file_size)])
                self.done = len(self.out) >= min(len(self.src), self.zi.file_size)
            else:  # start again with a bigger limit: rare (long prologs), and simpler than resuming
                self._inflate(min(n, self.zi.file_size))
        return self.out[:n]

    def whole(self) -> bytes:
        """The whole entry (cut at its file_size), inflated once."""
        if not self.done:
            if self.stored:
                self.out = bytes(self.src[:self.zi.file_size])
            else:
                self._inflate(self.zi.file_size, zlib)
            self.done = True
        return self.out

    def check_crc(self) -> None:
        """zipfile.BadZipFile unless the whole entry matches its CRC-32 (call after whole())."""
        import zipfile

        if zlib.crc32(self.out) != self.zi.CRC:
            raise zipfile.BadZipFile(f"Bad CRC-32 for file {self.zi.filename!r}")

    def _inflate(self, limit: int, lib=_zlib) -> None:
        """Inflate up to *limit* bytes. A head is inflated by the standard zlib, which stops where asked
        even if the data goes bad further on (a faster inflater may look ahead and fail first); a whole
        part by the fast one (xlperf.zlib_fast), where any damage is an error either way."""
        d = lib.decompressobj(-15)
        out = d.decompress(self.src, max(limit, 1))  # max_length 0 would mean no limit at all
        if len(out) < limit and not d.eof:  # compressed data ended first: what it gave is all there is
            out += d.flush()
        self.out = out[:self.zi.file_size]
        self.done = len(out) < limit or d.eof or limit >= self.zi.file_size


def _scan_xml(data: bytes, zi, budget: list[int], parts: dict, keep: int) -> tuple[Rejection | None, bytes]:
    """Scan the start of one XML part for DOCTYPE/ENTITY; small parts are inflated whole (CRC checked).
    Hands back the first *keep* bytes of the part (the caller reads them only when there is no problem)."""
    import zipfile

    verify = (zi.filename.lower().endswith(_XML_EXT)
              and zi.file_size <= _CRC_ENTRY_MAX and zi.file_size <= budget[0])
    try:
        part = _Inflater(data, zi)
        late_error = None
        if verify:  # inflated whole anyway: scan that rather than inflating a head first
            try:
                buf = part.whole()[:_XML_HEAD]
            except zlib.error as e:  # damage further on: the head is still scanned first, as a stream read would
                late_error = e
                buf = part.head(_XML_HEAD)
        else:
            buf = part.head(_XML_HEAD)
        nulless = buf.replace(b"\0", b"") if b"\0" in buf else buf
        if b"<!" in nulless:  # no declaration without it: most parts skip the lower() copy
            nulless = nulless.lower()
            if b"<!doctype" in nulless or b"<!entity" in nulless:
                return _rej("F013", entry=zi.filename), b""
        state = _prolog_state(buf)
        while state == "more" and len(buf) < _XML_PROLOG_MAX:
            more = part.head(len(buf) + _XML_HEAD)
            if len(more) == len(buf):
                break
            buf = more
            state = _prolog_state(buf)
        if state == "dtd":
            return _rej("F013", entry=zi.filename), b""
        if state == "more" and len(buf) >= _XML_PROLOG_MAX:
            return _rej("F013", entry=zi.filename, reason="oversized_prolog"), b""
        kept = part.head(keep)
        if verify:
            if late_error is not None:
                raise late_error
            part.check_crc()
            budget[0] -= zi.file_size
            parts[zi.filename] = part.out
    except (zipfile.BadZipFile, zlib.error, _zlib.error, EOFError, OSError, ValueError, NotImplementedError, RuntimeError) as e:
        return _rej("F008", reason="bad_entry", entry=zi.filename, error=_err(e)), b""
    return None, kept


def _prolog_state(data: bytes) -> str:
    """'root' if the root element starts after a clean prolog, 'dtd' on any <!...> declaration, 'more' if undecided.

    NUL bytes are dropped first so UTF-16/UTF-32 encoded parts are read like ASCII.
    """
    d = data.replace(b"\0", b"") if b"\0" in data else data
    for bom in (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"):
        if d.startswith(bom):
            d = d[len(bom):]
            break
    i, n = 0, len(d)
    for _ in range(n + 1):  # each pass moves past at least one byte: a bounded loop, whatever the input
        while i < n and d[i] in b" \t\r\n":
            i += 1
        if i >= n:
            return "more"
        if d[i] != 0x3C:  # '<'
            return "root"  # text before the root: malformed, the parser will refuse it
        if d.startswith(b"<?", i):
            j = d.find(b"?>", i + 2)
            if j < 0:
                return "more"
            i = j + 2
            continue
        if n - i < 4:
            return "more"
        if d.startswith(b"<!--", i):
            j = d.find(b"-->", i + 4)
            if j < 0:
                return "more"
            i = j + 3
            continue
        if d.startswith(b"<!", i):
            return "dtd"
        return "root"
    return "more"  # not reached: the last pass finds the end of the data


# --------------------------------------------------------------------------- XML the project parses itself


def safe_parse_xml(data: bytes):
    """Parse *data* with defusedxml, forbidding DTDs, entities and external references.

    Returns the root Element; raises ValueError for unsafe or malformed XML.
    """
    from xml.etree.ElementTree import ParseError

    from defusedxml import ElementTree as DET
    from defusedxml.common import DefusedXmlException

    try:
        return DET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as e:
        raise ValueError(f"unsafe XML rejected (DOCTYPE/entity/external reference): {e}") from e
    except ParseError as e:
        raise ValueError(f"malformed XML: {e}") from e
