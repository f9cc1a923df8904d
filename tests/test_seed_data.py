"""The committed seed data files match a fresh extraction and the published seed text."""

import csv
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WB = ROOT / "workbooks"
SCRIPT = ROOT / "tools" / "extract_seed.py"
SEED = WB / "seed_201001_2021.txt"
FILES = ["registry.csv", "projects.json", "unit.json"]
LEVEL2 = ["数量指标", "质量指标", "时效指标", "成本指标", "经济效益指标",
          "社会效益指标", "生态效益指标", "可持续影响指标", "服务对象满意度指标"]


@pytest.fixture(scope="module")
def projects():
    return json.loads((WB / "projects.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def unit():
    return json.loads((WB / "unit.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def registry():
    with open(WB / "registry.csv", encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_extraction_is_reproducible(tmp_path):
    subprocess.run([sys.executable, str(SCRIPT), str(SEED), "--out", str(tmp_path)],
                   check=True, capture_output=True)
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (WB / name).read_bytes(), name


def test_registry(registry):
    assert (WB / "registry.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert list(registry[0]) == ["单位编码", "单位名称", "项目编码", "项目名称", "预算数",
                                 "财政资金", "其他资金", "资金用途", "主管部门"]
    assert len(registry) == 15
    assert {r["单位编码"] for r in registry} == {"201001"}
    assert {r["单位名称"] for r in registry} == {"中国共产党秦皇岛市北戴河区委员会办公室(本级)"}
    assert {r["主管部门"] for r in registry} == {""}
    assert sum(Decimal(r["预算数"]) for r in registry) == Decimal("226.42")
    for r in registry:
        assert Decimal(r["预算数"]) == Decimal(r["财政资金"]) + Decimal(r["其他资金"])
        assert r["其他资金"] == "0.00"
    assert registry[0]["预算数"] == "2.70"
    assert registry[0]["资金用途"] == "党史资料印刷费"


def test_projects_summary(projects, registry):
    ps = projects["projects"]
    assert projects["year"] == 2021 and projects["unit_code"] == "201001"
    assert len(ps) == 15
    assert [p["order"] for p in ps] == list(range(1, 16))
    assert [p["项目编码"] for p in ps] == [r["项目编码"] for r in registry]
    assert round(sum(p["预算数"] for p in ps), 2) == 226.42
    for p in ps:
        assert round(p["财政资金"] + p["其他资金"], 2) == p["预算数"]
        assert p["资金支出计划"] == {"3月底": 25.0, "6月底": 50.0, "10月底": 75.0, "12月底": 100.0}
    inds = [i for p in ps for i in p["indicators"]]
    assert len(inds) == 135
    assert sum(i["指标值"] == "是否" for i in inds) == 35
    assert sum(p["涉密"] for p in ps) == 7
    assert [p["order"] for p in ps if p["涉密"]] == [3, 5, 6, 8, 10, 12, 15]
    assert [p["order"] for p in ps
            if any(i["指标值确定依据"] == "涉密" for i in p["indicators"])] == [6, 12]


def test_indicator_structure(projects):
    for p in projects["projects"]:
        inds = p["indicators"]
        assert [i["二级指标"] for i in inds] == LEVEL2
        assert [i["一级指标"] for i in inds] == ["产出指标"] * 4 + ["效益指标"] * 4 + ["满意度指标"]
        for i in inds:
            assert all(i[k] for k in ("三级指标", "绩效指标描述", "指标值", "指标值确定依据"))


def test_spot_checks(projects):
    p1, p2 = projects["projects"][:2]
    assert p1["项目编码"] == "130304211DGTGIWENVORV"
    assert p1["项目名称"] == "党史宣传研究工作经费"
    assert p1["indicators"][0]["三级指标"] == "完成送审稿字数、印刷册数"
    assert p1["indicators"][0]["指标值"] == "≥100本"
    assert p1["绩效目标"] == "1.放大党史教育功能，完成年底当时资料收集、整理\n2.提高机关干部对党史的了解"
    assert p2["绩效目标"] == "1.电子公文系统正常运转\n2.电子公文系统正常运转"
    assert projects["projects"][2]["绩效目标"] == "1.涉密\n2.涉密"
    assert projects["projects"][5]["绩效目标"] == "1.涉密"


def test_every_text_is_in_seed(projects, unit):
    seed = SEED.read_text(encoding="utf-8")
    for p in projects["projects"]:
        for key in ("项目编码", "项目名称", "资金用途"):
            assert p[key] in seed
        for line in p["绩效目标"].split("\n"):
            assert line in seed
        for i in p["indicators"]:
            assert all(v in seed for v in i.values())
    for item in unit["分项绩效目标"] + unit["工作保障措施"]:
        assert item["标题"] in seed
        assert all(para in seed for para in item["内容"].split("\n"))


def test_unit(unit):
    assert unit["unit_code"] == "201001"
    assert unit["unit_name"] == "中国共产党秦皇岛市北戴河区委员会办公室(本级)"
    assert unit["year"] == 2021
    assert len(unit["分项绩效目标"]) == 6
    assert len(unit["工作保障措施"]) == 7
    assert unit["分项绩效目标"][0]["标题"] == "区委办党务活动"
    assert unit["工作保障措施"][0]["标题"] == "完善制度建设"
    assert unit["工作保障措施"][0]["内容"].startswith("通过征求意见建议")
    assert unit["总体绩效目标"].startswith("做好区委办公室2021年部门预算的各项工作")
    assert unit["总体绩效目标"].count("\n") == 1
    assert unit["分项绩效目标概述"].startswith("结合区委区政府工作部署")
    assert unit["工作保障措施概述"].startswith("为确保区委办各项工作的顺利开展")
    text = json.dumps(unit, ensure_ascii=False)
    assert "TC " not in text and "\\\\f" not in text
