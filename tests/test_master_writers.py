"""Tests for the master's CSV and Parquet writers: real files on disk, read back."""
from __future__ import annotations

import csv
import sys
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from xlperf.master import csv_safe, write_csv, write_master, write_parquet
from xlperf.pipeline import Report

sys.path.insert(0, str(Path(__file__).resolve().parent))

from inmemory import CODE, NOT_COST, REGISTRY, VALUE, make_return  # noqa: E402

FORMULAS = ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "\n=1"]


def read_csv(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


@pytest.mark.parametrize("formula", FORMULAS)
def test_write_csv_neutralises_formula_text_in_every_column(tmp_path, formula):
    out = tmp_path / "t.csv"
    write_csv(out, ["a", "b"], [{"a": formula, "b": "x"}, {"a": "y", "b": formula}])
    rows = read_csv(out)
    assert rows[0] == ["a", "b"]
    assert rows[1] == ["'" + formula, "x"]
    assert rows[2] == ["y", "'" + formula]


def test_write_csv_keeps_ordinary_values(tmp_path):
    out = tmp_path / "t.csv"
    rows = [{"a": "≥95%", "b": 2.5, "c": None, "d": -3, "e": "多行\n文本，含逗号", "f": Decimal("1.10")}]
    write_csv(out, list("abcdef"), rows)
    assert out.read_bytes().startswith("\ufeff".encode())  # Excel opens UTF-8 only with the BOM
    assert read_csv(out) == [list("abcdef"), ["≥95%", "2.5", "", "-3", "多行\n文本，含逗号", "1.10"]]


def test_write_csv_leaves_no_temporary_file(tmp_path):
    write_csv(tmp_path / "t.csv", ["a"], [{"a": 1}])
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]


def test_csv_safe_only_touches_text():
    assert csv_safe(-5) == -5 and csv_safe(None) is None
    assert csv_safe("5-1") == "5-1" and csv_safe("a=b") == "a=b" and csv_safe("") == ""


def test_write_parquet_types(tmp_path):
    out = tmp_path / "t.parquet"
    rows = [{"n": 1, "x": 1.5, "s": "≥95%", "指标值": 95.0, "d": Decimal("2.70"), "b": True, "m": None},
            {"n": 2, "x": 2, "s": None, "指标值": "达成预期指标", "d": None, "b": False, "m": None}]
    write_parquet(out, ["n", "x", "s", "指标值", "d", "b", "m"], rows)
    table = pq.read_table(out)
    types = {f.name: str(f.type) for f in table.schema}
    assert types == {"n": "int64", "x": "double", "s": "string", "指标值": "string", "d": "string",
                     "b": "string", "m": "string"}
    data = table.to_pydict()
    assert data["n"] == [1, 2] and data["x"] == [1.5, 2.0]
    assert data["s"] == ["≥95%", None] and data["指标值"] == ["95.0", "达成预期指标"]
    assert data["d"] == ["2.70", None] and data["m"] == [None, None]
    assert [p.name for p in tmp_path.iterdir()] == ["t.parquet"]


def test_write_parquet_keeps_formula_text_as_data(tmp_path):
    # Parquet is read by programs, not spreadsheets: the text stays exactly as the unit typed it.
    out = tmp_path / "t.parquet"
    write_parquet(out, ["a"], [{"a": "=1+1"}])
    assert pq.read_table(out).to_pydict() == {"a": ["=1+1"]}


def test_master_csv_and_parquet_carry_a_return_without_formula_risk(tmp_path):
    res = make_return(path="returns/r.xlsx")
    ir = next(i for i in res.data.indicators if i.level2 == NOT_COST)
    ir.values["三级指标"] = "=cmd|' /C calc'!A0"
    ir.values[VALUE] = "12月底前"
    report = Report([res])
    out = tmp_path / "master.xlsx"
    info = write_master(out, report, REGISTRY, formats=("csv", "parquet"))
    assert not out.exists()  # xlsx was not asked for
    names = sorted(Path(p).name for p in info["written"])
    assert "master_项目汇总.csv" in names and "master_项目汇总.parquet" in names
    assert "master_绩效指标.csv" in names and "master_绩效指标.parquet" in names
    assert sorted(p.name for p in tmp_path.iterdir()) == names
    rows = read_csv(tmp_path / "master_绩效指标.csv")
    header, body = rows[0], rows[1:]
    line = next(r for r in body if r[header.index("三级指标")].endswith("calc'!A0"))
    assert line[header.index("三级指标")] == "'=cmd|' /C calc'!A0"
    assert (line[header.index("计算符号")], line[header.index("指标值")], line[header.index("计量单位")]) == ("≤", "12.0", "月")
    table = pq.read_table(tmp_path / "master_绩效指标.parquet").to_pydict()
    assert "=cmd|' /C calc'!A0" in table["三级指标"]
    projects = read_csv(tmp_path / "master_项目汇总.csv")
    assert projects[1][projects[0].index("项目编码")] == CODE
    assert info["projects"] == 1 and info["budget_total"] == "2.70"


def test_write_parquet_numbers_gaps_and_compression(tmp_path):
    out = tmp_path / "t.parquet"
    write_parquet(out, ["x", "指标值", "n"], [{"x": 1.5, "指标值": 95, "n": 1}, {"x": None, "指标值": 90.5, "n": None}])
    table = pq.read_table(out)
    assert {f.name: str(f.type) for f in table.schema} == {"x": "double", "指标值": "string", "n": "int64"}
    assert table.to_pydict() == {"x": [1.5, None], "指标值": ["95", "90.5"], "n": [1, None]}
    assert pq.ParquetFile(out).metadata.row_group(0).column(0).compression == "ZSTD"
