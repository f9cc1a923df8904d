#!/usr/bin/env python3
"""Benchmark xlperf as users run it, on returns as clients save them, against calamine and the naive stack.

Usage (from the repository root, with xlperf installed and the `bench` extra for the plot):

    python benchmarks/bench.py --sizes 1000,10000 --naive-n 100 --keep --out docs/
    python benchmarks/bench.py --tables docs/bench_results.json     # the markdown tables of docs/performance.md

Corpora (under --workdir, default /tmp/xlperf-bench, never in the repository):

- xlsxwriter: N returns written by `writer.write_template(..., values=FormValues(...))` with varied
  content, ~5% broken on purpose;
- openpyxl: --base-n templates filled with openpyxl by `xlperf.fill` as `xlperf demo` fills them
  (~5% broken), then copied up to N with a new project code and locked digest replaced in their XML;
- libreoffice: the same --base-n filled returns converted by `soffice --headless --convert-to xlsx`
  (private profile, 100 files a call), then copied up to N the same way.

For every N and corpus, each step in a fresh process (peak memory of the process tree sampled from /proc):
the calamine floor (every sheet of every file, one process, interpreter start included in its wall
time); `reader.read_file` against calamine per file, alternated in one process (CPU time); the CLI
`xlperf consolidate DIR -r R -o M` with default options and output, and with `-q`; the naive stack
(openpyxl + per-file pandera + pandas to_excel) on --naive-n files, extrapolated; and for every N
`xlperf generate R -o DIR` with default options.

Results: <out>/bench_results.json and <out>/img/perf_scaling.png; the targets are judged in summarize().
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import shutil
import string
import subprocess
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
PAGE = os.sysconf("SC_PAGE_SIZE")

# ----------------------------------------------------------------------------- synthetic data

DISTRICTS = ["秦皇岛市北戴河区", "秦皇岛市海港区", "秦皇岛市山海关区", "秦皇岛市抚宁区", "昌黎县", "卢龙县", "青龙满族自治县"]
DEPTS = ["财政局", "教育局", "卫生健康局", "民政局", "人力资源和社会保障局", "自然资源和规划局", "住房和城乡建设局",
         "交通运输局", "农业农村局", "水务局", "商务局", "文化广电和旅游局", "应急管理局", "审计局", "市场监督管理局",
         "统计局", "医疗保障局", "城市管理综合行政执法局", "司法局", "公安分局", "委员会办公室", "人民政府办公室",
         "发展和改革局", "科学技术和工业信息化局", "生态环境分局", "退役军人事务局", "档案馆", "融媒体中心"]
SUFFIXES = ["(本级)", "机关服务中心", "综合执法大队", "事务服务中心", "信息中心", "培训中心"]
TOPICS = ["党史宣传", "电子政务内网", "安可替代", "人事代理", "机要通信", "保密技术", "档案数字化", "信息化运维", "网络安全",
          "办公楼维修", "公务用车运行", "会议保障", "应急物资储备", "防汛抗旱", "森林防火", "河道治理", "农村人居环境",
          "困难群众救助", "城乡低保", "养老服务", "儿童福利", "义务教育", "学前教育", "校舍安全", "教师培训", "公共卫生",
          "疫情防控", "家庭医生签约", "食品安全抽检", "药品监管", "市场监管执法", "统计调查", "审计项目", "法律援助",
          "社区矫正", "基层治理", "文化惠民演出", "公共图书馆", "全民健身", "旅游宣传推介", "道路养护", "公交运营补贴",
          "环境监测", "大气污染防治", "垃圾分类", "园林绿化", "市政设施维护", "就业创业扶持", "职业技能培训", "退役军人优抚"]
ACTIVITIES = ["工作经费", "专项经费", "建设维护经费", "运行经费", "补助资金", "工程经费", "服务采购经费", "设备购置经费"]
USES = ["资料印刷及宣传费", "系统运行维护费", "设备购置及安装费", "人员劳务及工资福利", "专项业务工作开支", "物资采购及储备费",
        "委托第三方服务费", "工程建设及维修费", "培训及会议费", "补助发放"]
BASES = ["年度工作计划", "计划标准", "行业标准", "历史标准", "其他", "上级文件要求", "部门职责"]
PLANS = [(25, 50, 75, 100), (10, 40, 70, 100), (0, 30, 60, 100), (20, 50, 80, 100), (30, 60, 90, 100), (25, 50, 100, 100)]
# 指标值 spellings a sub-unit types: each is a format with {n} (a number).
PERCENT_FORMS = ["≥{n}%", "≥{n}％", ">={n}%", "≥ {n} %", "不低于{n}%", "{n}%以上", "{n}%及以上", "＞{n}%", "≥{n}%。"]
COUNT_FORMS = ["≥{n}{u}", "{n}{u}", "不少于{n}{u}", "{n}{u}以上", "＝{n}{u}", "≤{n}{u}", "至少{n}{u}"]
COUNT_UNITS = ["本", "条", "人", "次", "个", "项", "场", "户", "家", "台", "套", "篇", "天", "小时", "万元", "公里"]
QUALITATIVE = ["达成预期指标", "部分达成预期指标并具有一定效果"]
PLACEHOLDERS = ["≥**人", "≥**%", "___", "--", "≥＊＊本"]


def synthetic_registry(n: int, seed: int = 2021) -> list[dict]:
    """N projects across ~N/20 units with realistic codes, names and amounts (万元, 2 decimals)."""
    rng = random.Random(seed * 1_000_003 + n)
    n_units = max(1, round(n / 20))
    units = []
    for i in range(n_units):
        name = rng.choice(DISTRICTS) + rng.choice(DEPTS) + rng.choice(SUFFIXES)
        units.append((f"{201001 + i:06d}", name))
    alphabet = string.digits + string.ascii_uppercase
    codes = set()
    rows = []
    for i in range(n):
        unit_code, unit_name = units[i * n_units // n]
        while True:
            code = "130304" + "21" + "".join(rng.choice(alphabet) for _ in range(13))
            if code not in codes:
                codes.add(code)
                break
        budget = round(min(5000.0, rng.lognormvariate(2.8, 1.2)), 2) or 0.5
        other = 0.0 if rng.random() < 0.8 else round(budget * rng.choice((0.1, 0.2, 0.3, 0.5)), 2)
        fiscal = round(budget - other, 2)
        rows.append({"单位编码": unit_code, "单位名称": unit_name, "项目编码": code,
                     "项目名称": rng.choice(TOPICS) + rng.choice(ACTIVITIES), "预算数": f"{budget:.2f}",
                     "财政资金": f"{fiscal:.2f}", "其他资金": f"{other:.2f}", "资金用途": rng.choice(USES), "主管部门": ""})
    return rows


def write_registry_csv(rows: list[dict], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def _value(rng: random.Random, l2: str) -> str:
    r = rng.random()
    if l2 in ("质量指标", "服务对象满意度指标", "社会效益指标") and r < 0.8:
        return rng.choice(PERCENT_FORMS).format(n=rng.choice((80, 85, 90, 95, 98, 100)))
    if l2 == "时效指标" and r < 0.5:
        return rng.choice(["≤{n}天", "{n}月底前", "≥{n}%"]).format(n=rng.choice((3, 5, 10, 12, 30, 95)))\
            .replace("月底前", "个月")
    if l2 == "成本指标" and r < 0.6:
        return rng.choice(["≤{n}万元", "≤{n}元/人", "不超过{n}万元"]).format(n=rng.choice((2.7, 5, 12.76, 19.5, 60, 200)))
    if r < 0.15:
        return rng.choice(QUALITATIVE)
    if r < 0.6:
        return rng.choice(COUNT_FORMS).format(n=rng.choice((1, 2, 3, 5, 10, 12, 20, 50, 100, 365)), u=rng.choice(COUNT_UNITS))
    return rng.choice(PERCENT_FORMS).format(n=rng.choice((60, 70, 80, 90, 95, 100)))


def return_content(spec, row: dict, seed_projects: list[dict], rng: random.Random, broken: str = ""):
    """(FormValues, registry row as written) for one filled return; `broken` names the defect, if any."""
    from xlperf.writer import FormValues

    base = rng.choice(seed_projects)
    plan = rng.choice(PLANS)
    secret = rng.random() < 0.3
    fields = {"资金用途": row["资金用途"] if rng.random() < 0.7 else base.get("资金用途") or row["资金用途"],
              "3月底": plan[0], "6月底": plan[1], "10月底": plan[2], "12月底": plan[3],
              "涉密": "是" if secret else "否"}
    goals = [line.split(".", 1)[-1] for line in (base.get("绩效目标") or "").splitlines() if line.strip()]
    goals = goals or ["完成年度工作任务"]
    extra = f"保障{row['项目名称']}顺利实施"
    fields["绩效目标"] = "\n".join(f"{i}.{g}" for i, g in enumerate([extra] + goals[:rng.randint(1, 3)], start=1))
    by_l2: dict[str, list] = {}
    for ind in base["indicators"]:
        by_l2.setdefault(ind["二级指标"], []).append(ind)
    yesno = rng.random() < 0.15  # the seed's own placeholder: a warning, the return is still accepted
    indicators: dict[str, list] = {}
    for l2 in spec.level2s:
        items = by_l2.get(l2.name, [])
        n = len(items) if items else (1 if l2.required else 0)
        n = min(spec.slots, n + (rng.random() < 0.3))
        out = []
        for k in range(n):
            src = items[k % len(items)] if items else {"三级指标": f"{l2.name[:2]}完成情况", "绩效指标描述": f"{row['项目名称']}{l2.name[:2]}"}
            name = src.get("三级指标") or f"{l2.name[:2]}目标"
            desc = src.get("绩效指标描述") or name
            if name == "涉密" and not secret:
                name, desc = f"{l2.name[:2]}目标完成率", f"{row['项目名称']}{l2.name[:2]}目标完成情况"
            value = "是否" if yesno and rng.random() < 0.3 else _value(rng, l2.name)
            out.append({"三级指标": name, "绩效指标描述": desc, "指标值": value, "指标值确定依据": rng.choice(BASES)})
        if out:
            indicators[l2.name] = out
    written = dict(row)
    if broken == "budget":  # a locked amount changed: E102 (registry) and E103 (sum)
        written["预算数"] = f"{float(row['预算数']) + rng.choice((1, 10, 0.5)):.2f}"
    elif broken == "placeholder":
        l2 = rng.choice([k for k in indicators])
        indicators[l2][0]["指标值"] = rng.choice(PLACEHOLDERS)
    elif broken == "missing":
        what = rng.choice(("资金用途", "6月底", "level2", "basis"))
        if what == "level2":
            indicators.pop("时效指标", None)
        elif what == "basis":
            indicators["数量指标"][0]["指标值确定依据"] = ""
        else:
            fields[what] = ""
    return FormValues(fields=fields, indicators=indicators), written


def _returns_chunk(args) -> int:
    spec_name, rows, out_dir, password, seed, broken = args
    from xlperf.fill import load_projects
    from xlperf.spec import load_spec
    from xlperf.writer import template_filename, write_template

    spec = load_spec(spec_name)
    seed_projects = list(load_projects().values())
    for i, row in enumerate(rows):
        rng = random.Random(seed + i)
        values, written = return_content(spec, row, seed_projects, rng, broken[i])
        path = Path(out_dir) / template_filename(spec, row)
        with open(path, "wb") as fh:
            write_template(spec, written, fh, password=password, values=values)
    return len(rows)


def write_returns(rows: list[dict], out_dir: Path, jobs: int, seed: int = 7, broken_share: float = 0.05) -> dict:
    """Write N filled returns (a `broken_share` of them defective); returns the defect counts."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed + len(rows))
    kinds = ("budget", "placeholder", "missing")
    broken = [rng.choice(kinds) if rng.random() < broken_share else "" for _ in rows]
    step = max(1, min(250, len(rows) // max(1, jobs * 4) or 1))
    tasks = [("project_2021", rows[i:i + step], str(out_dir), "bench", seed * 100_003 + i, broken[i:i + step])
             for i in range(0, len(rows), step)]
    if jobs <= 1:
        for t in tasks:
            _returns_chunk(t)
    else:
        with ProcessPoolExecutor(jobs) as pool:
            list(pool.map(_returns_chunk, tasks))
    return {k: broken.count(k) for k in kinds}


# ----------------------------------------------------------------------------- client-saved corpora

CORPORA = ("xlsxwriter", "openpyxl", "libreoffice")


def _base_rows(base_n: int) -> list[dict]:
    """The registry rows of the base returns, the same for every N (so the base is built once)."""
    return synthetic_registry(base_n, seed=4242)


def _derived_rows(n: int, base_n: int) -> list[tuple[int, dict]]:
    """N registry rows: the base rows, then copies of them (base index, row) with new project codes."""
    base = _base_rows(base_n)
    rng = random.Random(n * 7919 + base_n)
    alphabet = string.digits + string.ascii_uppercase
    codes = {r["项目编码"] for r in base}
    out = [(i, r) for i, r in enumerate(base[:n])]
    for i in range(len(out), n):
        j = i % len(base)
        while True:
            code = "130304" + "21" + "".join(rng.choice(alphabet) for _ in range(13))
            if code not in codes:
                codes.add(code)
                break
        out.append((j, {**base[j], "项目编码": code}))
    return out


def _fill_chunk(args) -> int:
    """Fill templates with openpyxl the way `xlperf demo` does (xlperf.fill); ~5 % broken on purpose."""
    tpl_paths, out_dir, seed = args
    from xlperf.fill import fill_workbook, input_cells, load_projects, template_slots
    from xlperf.spec import load_spec

    spec = load_spec()
    projects = list(load_projects().values())
    for k, tpl in enumerate(tpl_paths):
        rng = random.Random(seed + k)
        tpl = Path(tpl)
        cells = input_cells(spec, rng.choice(projects), template_slots(tpl, spec))
        if rng.random() < 0.05:  # broken on purpose: a placeholder 指标值 (E110) or a blank plan value
            by_name = {f.name: f.cell for f in spec.input_fields}
            value_col = next(c.col for c in spec.columns if c.name == "指标值")
            values = [r for r in cells if r not in by_name.values() and r.startswith(value_col)
                      and r[len(value_col):].isdigit()]
            if values and rng.random() < 0.5:
                cells[rng.choice(values)] = rng.choice(PLACEHOLDERS)
            else:
                cells[by_name["6月底"]] = None
        fill_workbook(tpl, Path(out_dir) / tpl.name, cells, spec.sheet)
    return len(tpl_paths)


def build_base(kind: str, root: Path, base_n: int, jobs: int, log) -> Path:
    """root/base_<kind>: base_n returns as a client saves them (kept across sizes and runs)."""
    out = root / f"base_{kind}_{base_n}"
    if (out / "done").exists():
        return out
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    if kind == "openpyxl":
        from xlperf.spec import load_spec
        from xlperf.writer import generate

        rows = _base_rows(base_n)
        tpl = out / "templates"
        paths = generate(load_spec(), rows, tpl, password="bench", jobs=jobs)
        (out / "returns").mkdir(parents=True)
        step = max(1, -(-len(paths) // (jobs * 4)))
        tasks = [([str(p) for p in paths[i:i + step]], str(out / "returns"), 31 * i) for i in range(0, len(paths), step)]
        with ProcessPoolExecutor(jobs) as pool:
            list(pool.map(_fill_chunk, tasks))
        shutil.rmtree(tpl)
    elif kind == "libreoffice":
        src = build_base("openpyxl", root, base_n, jobs, log) / "returns"
        files = sorted(src.glob("*.xlsx"))
        (out / "returns").mkdir(parents=True)
        profile = root / "lo_profile"
        batch = 100  # files per soffice call: its start-up (~2 s) is paid once per batch
        for i in range(0, len(files), batch):
            subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{profile}", "--convert-to", "xlsx",
                            "--outdir", str(out / "returns"), *map(str, files[i:i + batch])],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=1800)
        got = len(list((out / "returns").glob("*.xlsx")))
        if got != len(files):
            raise RuntimeError(f"LibreOffice converted {got} of {len(files)} files")
    else:
        raise ValueError(kind)
    (out / "done").write_text("ok\n")
    log(f"  base corpus {kind}: {base_n} returns in {time.perf_counter() - t0:.1f} s")
    return out


def _raw_entries(data: bytes, infos, cd_start: int) -> dict:
    """name -> the entry's bytes as stored (local header, data, data descriptor), for a verbatim copy."""
    ordered = sorted(infos, key=lambda zi: zi.header_offset)
    out = {}
    for k, zi in enumerate(ordered):
        end = ordered[k + 1].header_offset if k + 1 < len(ordered) else cd_start
        out[zi.filename] = data[zi.header_offset:end]
    return out


def vary_return(src: bytes, replace: dict[bytes, bytes]) -> bytes:
    """A copy of the xlsx `src` with byte strings replaced in its XML parts; other parts copied verbatim."""
    import io
    import zipfile

    zin = zipfile.ZipFile(io.BytesIO(src))
    infos = zin.infolist()
    raw = _raw_entries(src, infos, zin.start_dir)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zout:
        for zi in infos:
            body = zin.read(zi) if zi.filename.endswith((".xml", ".rels")) else None
            if body is not None and any(old in body for old in replace):
                for old, new in replace.items():
                    body = body.replace(old, new)
                nzi = zipfile.ZipInfo(zi.filename, zi.date_time)
                nzi.compress_type = zipfile.ZIP_DEFLATED
                nzi.external_attr = zi.external_attr
                zout.writestr(nzi, body, compress_type=zipfile.ZIP_DEFLATED, compresslevel=6)
            else:  # verbatim: the client's own compression
                copy = zipfile.ZipInfo(zi.filename, zi.date_time)
                for attr in ("compress_type", "flag_bits", "CRC", "compress_size", "file_size", "create_system",
                             "create_version", "extract_version", "external_attr", "internal_attr", "extra",
                             "comment", "volume", "reserved"):
                    setattr(copy, attr, getattr(zi, attr))
                copy.header_offset = zout.fp.tell()
                zout.fp.write(raw[zi.filename])
                zout.filelist.append(copy)
                zout.NameToInfo[copy.filename] = copy
                zout.start_dir = zout.fp.tell()
    return buf.getvalue()


def _vary_chunk(args) -> int:
    base_dir, out_dir, items = args
    from xlperf.spec import load_spec
    from xlperf.writer import locked_digest, locked_values, template_filename

    spec = load_spec()
    cache: dict = {}
    for base_row, row in items:
        name = template_filename(spec, base_row)
        if name not in cache:
            cache[name] = (Path(base_dir) / name).read_bytes()
        old_digest = locked_digest(spec, locked_values(spec, base_row)).encode()
        new_digest = locked_digest(spec, locked_values(spec, row)).encode()
        data = vary_return(cache[name], {base_row["项目编码"].encode(): row["项目编码"].encode(), old_digest: new_digest})
        (Path(out_dir) / template_filename(spec, row)).write_bytes(data)
    return len(items)


def phase_corpus_client(workdir: Path, kind: str, n: int, base_dir: Path, base_n: int, jobs: int) -> dict:
    """N returns of a client-saved kind: the base files for the first rows, varied copies for the rest."""
    t0 = time.perf_counter()
    pairs = _derived_rows(n, base_n)
    base = _base_rows(base_n)
    rows = [r for _j, r in pairs]
    write_registry_csv(rows, workdir / "registry.csv")
    ret = workdir / "returns"
    shutil.rmtree(ret, ignore_errors=True)
    ret.mkdir(parents=True)
    items = [(base[j], r) for j, r in pairs]
    step = max(1, min(500, -(-len(items) // (jobs * 4))))
    tasks = [(str(base_dir / "returns"), str(ret), items[i:i + step]) for i in range(0, len(items), step)]
    with ProcessPoolExecutor(jobs) as pool:
        list(pool.map(_vary_chunk, tasks))
    return {"n": n, "kind": kind, "base_n": base_n, "time_s": round(time.perf_counter() - t0, 2),
            "bytes": sum(p.stat().st_size for p in ret.iterdir())}


# ----------------------------------------------------------------------------- measuring


def _tree_rss(root: int, cpu: dict | None = None) -> int:
    """Resident bytes of a process and all its descendants (from /proc); CPU ticks per pid into `cpu`."""
    parent: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", "rb") as fh:
                stat = fh.read()
            parent[int(d)] = int(stat[stat.rfind(b")") + 2:].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    tree, frontier = {root}, [root]
    while frontier:
        p = frontier.pop()
        for c, pp in parent.items():
            if pp == p and c not in tree:
                tree.add(c)
                frontier.append(c)
    total = 0
    for pid in tree:
        try:
            with open(f"/proc/{pid}/statm", "rb") as fh:
                total += int(fh.read().split()[1]) * PAGE
            if cpu is not None:
                with open(f"/proc/{pid}/stat", "rb") as fh:
                    stat = fh.read()
                fields = stat[stat.rfind(b")") + 2:].split()
                cpu[pid] = int(fields[11]) + int(fields[12])  # utime + stime, clock ticks
        except (OSError, ValueError, IndexError):
            pass
    return total


def _loadavg() -> float:
    try:
        with open("/proc/loadavg", encoding="ascii") as fh:
            return float(fh.read().split()[0])
    except (OSError, ValueError):
        return -1.0


def measured(cmd: list[str], env: dict | None = None) -> dict:
    """Run cmd; wall time, peak RSS of the largest process (wait4) and of the whole tree (sampled every
    100 ms, like the CPU seconds of the tree: workers of a fork server are not our children, wait4 misses them)."""
    load = _loadavg()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    peak = [0]
    cpu: dict[int, int] = {}
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss(proc.pid, cpu))
            done.wait(0.1)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    out = proc.stdout.read()
    err = proc.stderr.read()
    _pid, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    done.set()
    th.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    # wait4 times would add the fork server's reaped workers a second time: use them only if never sampled
    cpu.setdefault(proc.pid, round((ru.ru_utime + ru.ru_stime) * os.sysconf("SC_CLK_TCK")))
    res = {"wall_s": round(wall, 4), "cpu_s": round(sum(cpu.values()) / os.sysconf("SC_CLK_TCK"), 2),
           "peak_rss_mib": round(ru.ru_maxrss / 1024, 1),
           "peak_tree_rss_mib": round(max(peak[0], ru.ru_maxrss * 1024) / 2**20, 1), "exit": proc.returncode,
           "loadavg_before": load}
    res["_stdout_lines"] = out.count(b"\n")
    try:
        res.update(json.loads(out.decode().strip().splitlines()[-1]))
    except (ValueError, IndexError):
        pass
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err.decode()[-3000:]}")
    return res


REPEAT = 1


def best(cmd: list[str], env: dict | None = None) -> dict:
    """measured() REPEAT times; the fastest run (least disturbed by other load) with every wall time kept."""
    return fastest([measured(cmd, env) for _ in range(max(1, REPEAT))])


def fastest(runs: list[dict]) -> dict:
    """The fastest of several measured() runs of one command, with every wall time kept."""
    top = min(runs, key=lambda r: r["wall_s"])
    top["walls_s"] = [r["wall_s"] for r in runs]
    return top


def paired_median(rounds: list[dict], a: str, b: str) -> float:
    """The median over rounds of a's wall time over b's, both measured in the same round (a minute apart)."""
    import statistics

    return round(statistics.median(r[a]["wall_s"] / r[b]["wall_s"] for r in rounds), 2)


def _phase_cmd(*args) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "--phase", *map(str, args)]


# ----------------------------------------------------------------------------- phases (child processes)


def phase_generate(workdir: Path, jobs: int) -> dict:
    t0 = time.perf_counter()
    from xlperf.registry import load_registry
    from xlperf.spec import load_spec
    from xlperf.writer import generate

    reg = load_registry(workdir / "registry.csv")
    spec = load_spec()
    out = workdir / f"templates_j{jobs}"
    shutil.rmtree(out, ignore_errors=True)
    t1 = time.perf_counter()
    paths = generate(spec, reg.rows, out, password="bench", jobs=jobs) if jobs > 1 else \
        generate(spec, reg.rows, out, password="bench")
    t = time.perf_counter() - t1
    assert len(paths) == len(reg.rows)
    shutil.rmtree(out, ignore_errors=True)
    return {"n": len(paths), "time_s": round(t, 4), "per_s": round(len(paths) / t, 1),
            "with_imports_s": round(time.perf_counter() - t0, 4)}


def phase_fast(workdir: Path, jobs: int, master: bool, subset: int = 0) -> dict:
    """validate (read + rules) or consolidate (validate + master xlsx) in this process, timed from the imports."""
    t0 = time.perf_counter()
    from xlperf.pipeline import run
    from xlperf.registry import load_registry
    from xlperf.rules import Options

    reg = load_registry(workdir / "registry.csv")
    paths = [workdir / "returns"]
    if subset:
        paths = sorted((workdir / "returns").glob("*.xlsx"))[:subset]
    report = run(paths, reg, Options(duplicates="latest"), jobs=jobs)
    t_validate = time.perf_counter() - t0
    info = {}
    if master:
        from xlperf.master import write_master

        info = write_master(workdir / "master" / "master.xlsx", report, reg, ("xlsx",))
    t = time.perf_counter() - t0
    s = report.summary()
    return {"n": s["files"], "time_s": round(t, 4), "validate_s": round(t_validate, 4), "per_s": round(s["files"] / t, 1),
            "accepted": s["accepted"], "rejected": s["rejected"], "skipped": s["skipped"],
            "indicators": info.get("indicators")}


def naive_read(path: Path, spec):
    """openpyxl load_workbook (default mode) → the same ReturnData the fast reader builds."""
    import openpyxl

    from xlperf.model import FileResult, Issue
    from xlperf.reader import _check_layout, _extract, _meta_dict, _slots_from_meta

    res = FileResult(str(path))
    try:
        wb = openpyxl.load_workbook(path)
        meta = _meta_dict([list(r) for r in wb[spec.meta_sheet].iter_rows(values_only=True)])
        ws = wb[spec.sheet]
        grid = [list(r) for r in ws.iter_rows(values_only=True)]
        grid = [["" if v is None else v for v in r] for r in grid]
        merged = {str(r) for r in ws.merged_cells.ranges}
        slots = _slots_from_meta(spec, meta)
        res.kind = spec.kind
        _check_layout(spec, grid, merged, slots, res.issues)
        if not res.issues:
            res.data = _extract(spec, grid, meta, slots)
    except Exception as exc:
        res.add(Issue.make("F016", error=f"{type(exc).__name__}: {exc}"[:200]))
    return res


def phase_naive(workdir: Path, subset: int) -> dict:
    """The naive stack: openpyxl per file, one pandera pass per file, pandas DataFrame.to_excel master."""
    t0 = time.perf_counter()
    import pandas as pd

    from xlperf.master import build_tables
    from xlperf.pipeline import Report
    from xlperf.registry import load_registry
    from xlperf.rules import Options
    from xlperf.spec import load_spec

    from naive_schema import validate_naively

    spec = load_spec()
    reg = load_registry(workdir / "registry.csv")
    files = sorted((workdir / "returns").glob("*.xlsx"))[:subset]
    results = []
    t_read = 0.0
    for f in files:
        t1 = time.perf_counter()
        res = naive_read(f, spec)
        t_read += time.perf_counter() - t1
        validate_naively(res, reg, Options(duplicates="latest"))  # pandera once per file
        results.append(res)
    t_validate = time.perf_counter() - t0
    report = Report(results)
    tables = build_tables(report, reg)
    out = workdir / "master" / "naive_master.xlsx"
    out.parent.mkdir(parents=True, exist_ok=True)
    with pd.ExcelWriter(out) as xw:
        for name, (cols, rows) in tables.items():
            pd.DataFrame(rows, columns=cols).to_excel(xw, sheet_name=name, index=False)
        engine = xw.engine
    t = time.perf_counter() - t0
    s = report.summary()
    return {"n": s["files"], "time_s": round(t, 4), "validate_s": round(t_validate, 4), "openpyxl_read_s": round(t_read, 4),
            "per_s": round(s["files"] / t, 2), "accepted": s["accepted"], "rejected": s["rejected"], "writer_engine": engine}


def phase_corpus(workdir: Path, n: int, jobs: int) -> dict:
    t0 = time.perf_counter()
    rows = synthetic_registry(n)
    write_registry_csv(rows, workdir / "registry.csv")
    shutil.rmtree(workdir / "returns", ignore_errors=True)
    broken = write_returns(rows, workdir / "returns", jobs)
    return {"n": n, "units": len({r["单位编码"] for r in rows}), "broken": broken, "time_s": round(time.perf_counter() - t0, 2),
            "bytes": sum(p.stat().st_size for p in (workdir / "returns").iterdir())}


def _floor_pass(files: list[Path]) -> tuple[float, float]:
    """(wall, CPU) seconds of calamine reading every sheet of every file."""
    from python_calamine import CalamineWorkbook

    t, c = time.perf_counter(), time.process_time()
    for f in files:
        wb = CalamineWorkbook.from_path(str(f))
        for name in wb.sheet_names:
            wb.get_sheet_by_name(name).to_python()
    return time.perf_counter() - t, time.process_time() - c


def phase_floor(workdir: Path) -> dict:
    """The floor: calamine reading every sheet of every file, one process (its wall time is measured outside)."""
    files = sorted((workdir / "returns").glob("*.xlsx"))
    wall, cpu = _floor_pass(files)
    return {"n": len(files), "time_s": round(wall, 4), "loop_cpu_s": round(cpu, 4)}


def _read_pass(files: list[Path]) -> tuple[float, float, int]:
    """(wall, CPU) seconds of xlperf's read of every file (precheck + parse + provenance), and files parsed."""
    from xlperf.reader import read_file
    from xlperf.safety import Limits

    limits = Limits.from_env()
    ok = 0
    t, c = time.perf_counter(), time.process_time()
    for f in files:
        ok += read_file(f, limits=limits).data is not None
    return time.perf_counter() - t, time.process_time() - c, ok


def phase_read(workdir: Path, rounds: int = 3) -> dict:
    """Per file, xlperf's read (safety precheck + parse + provenance, `reader.read_file`) against the
    calamine floor, alternated in one process so that both see the same machine; the best round of each
    counts. CPU time is the figure compared (this machine is shared: wall time there also counts waiting)."""
    import xlperf.reader  # noqa: F401  imports outside the timing, for both
    from python_calamine import CalamineWorkbook  # noqa: F401

    files = sorted((workdir / "returns").glob("*.xlsx"))
    _read_pass(files[:20]), _floor_pass(files[:20])  # warm: caches, page cache
    floors, reads, ok = [], [], 0
    for _ in range(rounds):
        floors.append(_floor_pass(files))
        *t, ok = _read_pass(files)
        reads.append(t)
    n = len(files)
    fw, fc = min(w for w, _c in floors), min(c for _w, c in floors)
    rw, rc = min(w for w, _c in reads), min(c for _w, c in reads)
    return {"n": n, "floor_ms": round(1000 * fc / n, 3), "read_ms": round(1000 * rc / n, 3), "ratio": round(rc / fc, 2),
            "floor_wall_ms": round(1000 * fw / n, 3), "read_wall_ms": round(1000 * rw / n, 3),
            "ratio_wall": round(rw / fw, 2), "parsed": ok,
            "rounds": [{"floor": [round(w, 4), round(c, 4)], "read": [round(rw_, 4), round(rc_, 4)]}
                       for (w, c), (rw_, rc_) in zip(floors, reads)]}


def run_phase(argv: list[str]) -> None:
    name, workdir, *rest = argv
    workdir = Path(workdir)
    if name == "corpus":
        out = phase_corpus(workdir, int(rest[0]), int(rest[1]))
    elif name == "generate":
        out = phase_generate(workdir, int(rest[0]))
    elif name in ("validate", "consolidate"):
        out = phase_fast(workdir, int(rest[0]), name == "consolidate", int(rest[1]) if len(rest) > 1 else 0)
    elif name == "naive":
        out = phase_naive(workdir, int(rest[0]))
    elif name == "client_corpus":
        out = phase_corpus_client(workdir, rest[0], int(rest[1]), Path(rest[2]), int(rest[3]), int(rest[4]))
    elif name == "floor":
        out = phase_floor(workdir)
    elif name == "read":
        out = phase_read(workdir)
    else:
        raise SystemExit(f"unknown phase {name}")
    print(json.dumps(out, ensure_ascii=False))


# ----------------------------------------------------------------------------- driver


def _xlperf_bin() -> str:
    return shutil.which("xlperf") or str(Path(sys.executable).with_name("xlperf"))


READ_SUBSET = 2000  # files of the in-process per-file comparison (a ratio: more files would only cost time)


def bench_generate(n: int, root: Path, log, patched: bool = True) -> dict:
    """`xlperf generate registry.csv -o DIR` with default options, interpreter start included.

    patched=False sets XLPERF_NO_TEMPLATE_PATCH=1: every template written by xlsxwriter (the writer
    before template_patch), for a before/after pair measured in the same run."""
    from xlperf.template_patch import DISABLE_ENV

    wd = root / f"gen{n}"
    wd.mkdir(parents=True, exist_ok=True)
    write_registry_csv(synthetic_registry(n), wd / "registry.csv")
    shutil.rmtree(wd / "templates", ignore_errors=True)
    env = None if patched else {**os.environ, DISABLE_ENV: "1"}
    r = best([_xlperf_bin(), "generate", str(wd / "registry.csv"), "-o", str(wd / "templates")], env)
    r["n"] = n
    r["writer"] = "patched" if patched else "xlsxwriter"
    r["per_s"] = round(n / r["wall_s"], 1)
    shutil.rmtree(wd, ignore_errors=True)
    log(f"  generate (CLI, default options, {r['writer']}): {r['wall_s']:.2f} s = {r['per_s']:.0f} templates/s, "
        f"peak {r['peak_tree_rss_mib']} MiB, cpu {r['cpu_s']} s, load {r['loadavg_before']}")
    return r


def bench_corpus(kind: str, n: int, root: Path, jobs: int, base_n: int, naive_n: int, naive: dict, log) -> dict:
    """One corpus at one N: the floor, xlperf's per-file read, the CLI (default output and -q), the naive stack."""
    wd = root / f"{kind}_n{n}"
    wd.mkdir(parents=True, exist_ok=True)
    out: dict = {"kind": kind, "n": n}
    if kind == "xlsxwriter":
        out["corpus"] = measured(_phase_cmd("corpus", wd, n, jobs))
    else:
        base = build_base(kind, root, base_n, jobs, log)
        out["corpus"] = measured(_phase_cmd("client_corpus", wd, kind, n, base, base_n, jobs))
    if kind not in naive and naive_n:
        r = best(_phase_cmd("naive", wd, min(naive_n, n)))
        r["ms_per_file"] = round(1000 * r["time_s"] / r["n"], 2)
        naive[kind] = r
        log(f"  naive stack on {r['n']} {kind} returns: {r['time_s']:.2f} s = {r['ms_per_file']} ms a file "
            f"(openpyxl {1000 * r['openpyxl_read_s'] / r['n']:.1f} ms), accepted {r['accepted']}, rejected {r['rejected']}")
    sub = wd / "subset"
    if n > READ_SUBSET:  # the per-file comparison on the first READ_SUBSET files
        (sub / "returns").mkdir(parents=True, exist_ok=True)
        for f in sorted((wd / "returns").glob("*.xlsx"))[:READ_SUBSET]:
            os.link(f, sub / "returns" / f.name)
    rd = measured(_phase_cmd("read", sub if n > READ_SUBSET else wd))
    out["read"] = rd
    log(f"  per file, same process ({rd['n']} files, CPU): calamine {rd['floor_ms']} ms, xlperf read_file {rd['read_ms']} ms "
        f"→ {rd['ratio']}× (wall: {rd['floor_wall_ms']} / {rd['read_wall_ms']} ms → {rd['ratio_wall']}×)")
    cmd = [_xlperf_bin(), "consolidate", str(wd / "returns"), "-r", str(wd / "registry.csv"), "-o",
           str(wd / "master" / "master.xlsx")]
    # The floor, the CLI and the CLI with -q in turn, REPEAT rounds: the machine's speed drifts within
    # minutes, so each round's ratios compare runs made side by side (their median is judged).
    commands = {"floor": _phase_cmd("floor", wd), "cli": cmd, "cli_quiet": cmd + ["-q"]}
    rounds = [{key: measured(c) for key, c in commands.items()} for _ in range(max(1, REPEAT))]
    out["rounds"] = [{key: r[key]["wall_s"] for key in commands} for r in rounds]
    fl = out["floor"] = fastest([r["floor"] for r in rounds])
    log(f"  floor (calamine, every sheet, one process): {fl['time_s']:.2f} s in the loop, "
        f"{fl['wall_s']:.2f} s with interpreter start and import")
    for key, extra in (("cli", []), ("cli_quiet", ["-q"])):
        r = fastest([rd_[key] for rd_ in rounds])
        r["per_s"] = round(n / r["wall_s"], 1)
        r["stdout_lines"] = r.pop("_stdout_lines", None)
        out[key] = r
        log(f"  xlperf consolidate{' -q' if extra else ''} (default options): {r['wall_s']:.2f} s "
            f"({r['per_s']:.0f}/s), {r['stdout_lines']} lines printed, cpu {r['cpu_s']} s, peak {r['peak_tree_rss_mib']} MiB, "
            f"exit {r['exit']}, load {r['loadavg_before']}")
    out["output_cost"] = round(out["cli"]["wall_s"] / out["cli_quiet"]["wall_s"], 2)
    out["cli_vs_floor"] = round(out["cli"]["wall_s"] / fl["wall_s"], 2)  # fastest against fastest
    out["cli_vs_floor_paired"] = paired_median(rounds, "cli", "floor")
    out["output_cost_paired"] = paired_median(rounds, "cli", "cli_quiet")
    if kind in naive:
        out["naive_extrapolated_s"] = round(naive[kind]["ms_per_file"] * n / 1000, 1)
        out["naive_vs_cli"] = round(out["naive_extrapolated_s"] / out["cli"]["wall_s"], 1)
    log(f"  → CLI / (floor + start) {out['cli_vs_floor']}× fastest/fastest, {out['cli_vs_floor_paired']}× median of "
        f"{len(rounds)} rounds; default output / -q {out['output_cost']}× ({out['output_cost_paired']}× paired)"
        + (f", naive (extrapolated {out['naive_extrapolated_s']} s) / CLI {out['naive_vs_cli']}×" if kind in naive else ""))
    shutil.rmtree(wd / "master", ignore_errors=True)
    shutil.rmtree(sub, ignore_errors=True)
    return out


def machine_info() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    cpu = ""
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    try:
        for line in open("/proc/meminfo", encoding="utf-8"):
            if line.startswith("MemTotal"):
                mem = int(line.split()[1]) * 1024
    except OSError:
        pass
    libs = {}
    for p in ("xlperf", "python-calamine", "xlsxwriter", "openpyxl", "pandas", "pandera", "numpy", "pyarrow", "matplotlib"):
        try:
            libs[p] = version(p)
        except PackageNotFoundError:
            libs[p] = None
    return {"nproc": os.cpu_count(), "cpu": cpu, "ram_gib": round(mem / 2**30, 1), "python": platform.python_version(),
            "platform": platform.platform(), "libraries": libs}


def summarize(results: dict, log) -> None:
    """The issue's targets against this run's figures (into results["targets"]), printed."""
    t: dict = {}
    gens = [g for g in results.get("generate") or [] if g.get("writer", "patched") == "patched"]
    if gens:
        g = max(gens, key=lambda g: g["n"])
        t["generate_per_s"] = {"n": g["n"], "target": 300, "measured": g["per_s"], "met": g["per_s"] >= 300}
        t["generate_peak_mib"] = {"n": g["n"], "target": 1024, "measured": g["peak_tree_rss_mib"],
                                  "met": g["peak_tree_rss_mib"] < 1024}
    runs = results.get("runs") or []
    for r in runs:
        key = f"{r['kind']}_n{r['n']}"
        t[f"read_ratio_{key}"] = {"target": 2.0, "measured": r["read"]["ratio"], "met": r["read"]["ratio"] <= 2.0}
        cost = r.get("output_cost_paired", r["output_cost"])  # the median of side-by-side rounds when there is one
        t[f"output_cost_{key}"] = {"target": 1.2, "measured": cost, "met": cost <= 1.2}
    big = max((r["n"] for r in runs), default=0)
    for r in runs:
        if r["n"] != big or r["kind"] == "xlsxwriter":
            continue
        key = f"{r['kind']}_n{r['n']}"
        ratio = r.get("cli_vs_floor_paired", r["cli_vs_floor"])
        t[f"cli_vs_floor_{key}"] = {"target": 1.6, "measured": ratio, "met": ratio <= 1.6}
        t[f"cli_vs_floor_fastest_{key}"] = {"target": 1.6, "measured": r["cli_vs_floor"], "met": r["cli_vs_floor"] <= 1.6}
        if "naive_vs_cli" in r:
            t[f"naive_vs_cli_{key}"] = {"target": 20, "measured": r["naive_vs_cli"], "met": r["naive_vs_cli"] >= 20}
    for r in runs:
        if r["n"] == 1000 and r["kind"] == "openpyxl":
            t["cli_1000_openpyxl_s"] = {"target": 2.5, "measured": r["cli"]["wall_s"], "met": r["cli"]["wall_s"] <= 2.5}
    results["targets"] = t
    for k, v in t.items():
        log(f"target {k}: {v['measured']} (target {v['target']}) {'met' if v['met'] else 'NOT met'}")


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = results["runs"]
    kinds = list(dict.fromkeys(r["kind"] for r in runs))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.8))
    colors = dict(zip(CORPORA, ("tab:blue", "tab:orange", "tab:green")))
    n_max = max(r["n"] for r in runs)
    for kind in kinds:
        rs = sorted((r for r in runs if r["kind"] == kind), key=lambda r: r["n"])
        ns = [r["n"] for r in rs]
        c = colors.get(kind)
        ax1.plot(ns, [r["cli"]["wall_s"] for r in rs], marker="o", color=c, label=f"{kind}: xlperf consolidate (default)")
        ax1.plot(ns, [r["floor"]["wall_s"] for r in rs], marker=".", ls=":", color=c,
                 label=f"{kind}: calamine floor + interpreter start")
        ax1.plot(ns, [1.6 * r["floor"]["wall_s"] for r in rs], ls="--", lw=0.8, color=c, alpha=0.6,
                 label=f"{kind}: 1.6 × floor (target)")
        ax2.plot(ns, [r["cli"]["peak_tree_rss_mib"] for r in rs], marker="o", color=c, label=f"{kind}: consolidate")
    gens = [g for g in results.get("generate") or [] if g.get("writer", "patched") == "patched"]
    if gens:
        ax1.plot([g["n"] for g in gens], [g["wall_s"] for g in gens], marker="s", color="grey",
                 label="xlperf generate (default)")
        ax2.plot([g["n"] for g in gens], [g["peak_tree_rss_mib"] for g in gens], marker="s", color="grey", label="generate")
    ax1.set(xlabel="returns / templates (N)", ylabel="seconds (wall, interpreter start included)", title="time vs N")
    ax2.axhline(1024, ls="--", color="grey", label="1 GiB")
    ax2.set(xlabel="returns / templates (N)", ylabel="peak RSS, MiB (process tree)", title="peak memory vs N")
    for ax in (ax1, ax2):
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
        ax.set_xlim(0, n_max * 1.03)
        ax.set_ylim(bottom=0)
    m = results["machine"]
    fig.suptitle(f"xlperf scaling — {m['nproc']} × {m['cpu']}, Python {m['python']}", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def markdown(results: dict) -> str:
    """The tables of docs/performance.md, from a bench_results.json (so every figure there comes from here)."""
    out = []
    runs = results.get("runs") or []
    naive = results.get("naive") or {}
    for kind in list(dict.fromkeys(r["kind"] for r in runs)):
        out.append(f"#### {kind}\n")
        out.append("| N | lines printed (default) | floor: calamine, one process (start included) | xlperf consolidate, default | "
                   "ratio: fastest / fastest | ratio: median of rounds | `-q` | default / `-q` (median of rounds) | "
                   "per file, CPU: calamine / xlperf read | ratio | naive stack (extrapolated) | naive / xlperf |")
        out.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in sorted((r for r in runs if r["kind"] == kind), key=lambda r: r["n"]):
            cli, q, fl, rd = r["cli"], r["cli_quiet"], r["floor"], r["read"]
            nv = f"{r['naive_extrapolated_s']:,.0f} s" if "naive_extrapolated_s" in r else "–"
            ratio = f"{r['naive_vs_cli']}×" if "naive_vs_cli" in r else "–"
            out.append(f"| {r['n']:,} | {cli.get('stdout_lines', '')} | {fl['wall_s']:.2f} s | "
                       f"{cli['wall_s']:.2f} s ({cli['cpu_s']} CPU-s) | {r['cli_vs_floor']}× | "
                       f"**{r.get('cli_vs_floor_paired', '–')}×** | {q['wall_s']:.2f} s | "
                       f"{r.get('output_cost_paired', r['output_cost'])}× | {rd['floor_ms']} / {rd['read_ms']} ms | "
                       f"**{rd['ratio']}×** | {nv} | {ratio} |")
        for r in sorted((r for r in runs if r["kind"] == kind and r.get("rounds")), key=lambda r: r["n"]):
            walls = "; ".join(f"floor {x['floor']:.2f} s, CLI {x['cli']:.2f} s, `-q` {x['cli_quiet']:.2f} s"
                              for x in r["rounds"])
            out.append(f"\nN = {r['n']:,}, the rounds in turn: {walls}.")
        if kind in naive:
            nv = naive[kind]
            out.append(f"\nNaive stack measured on {nv['n']} of these returns: {nv['time_s']:.2f} s = {nv['ms_per_file']} ms a "
                       f"file (openpyxl `load_workbook` {1000 * nv['openpyxl_read_s'] / nv['n']:.1f} ms of it); "
                       f"accepted {nv['accepted']}, rejected {nv['rejected']}.")
        out.append("")
    gens = results.get("generate") or []
    if gens:
        out.append("#### generate\n")
        out.append("| N | writer | `xlperf generate R -o DIR` (default options) | templates/s | CPU-s | peak RSS | load before |")
        out.append("|---:|---|---:|---:|---:|---:|---:|")
        for g in gens:
            out.append(f"| {g['n']:,} | {g.get('writer', 'xlsxwriter')} | {g['wall_s']:.2f} s | **{g['per_s']:.0f}/s** | "
                       f"{g['cpu_s']} | {g['peak_tree_rss_mib']} MiB | {g['loadavg_before']} |")
        out.append("")
    t = results.get("targets") or {}
    if t:
        out.append("#### targets\n")
        out.append("| target | limit | measured | met |")
        out.append("|---|---:|---:|---|")
        for k, v in t.items():
            out.append(f"| {k} | {v['target']} | {v['measured']} | {'yes' if v['met'] else '**no**'} |")
    return "\n".join(out) + "\n"


def compile_bytecode() -> str:
    """xlperf's modules compiled to bytecode once, as pip does when it installs the package from a wheel.

    An editable install (``pip install -e .``) leaves that to the first run, which caches it unless
    PYTHONDONTWRITEBYTECODE is set (as it is on the machine these figures come from): every timed
    command would then compile ~12,000 lines again (~0.13 s a process, the fork server's too)."""
    import compileall

    import xlperf

    ok = compileall.compile_dir(str(Path(xlperf.__file__).parent), quiet=1)
    return "compiled" if ok else "compile failed"


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--phase":
        run_phase(sys.argv[2:])
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000,10000", help="comma-separated corpus sizes")
    ap.add_argument("--corpora", default=",".join(CORPORA), help=f"comma-separated, of {', '.join(CORPORA)}")
    ap.add_argument("--base-n", type=int, default=300, help="returns filled with openpyxl (and converted by LibreOffice) "
                    "before they are varied up to N")
    ap.add_argument("--naive-n", type=int, default=200, help="returns the naive stack reads per corpus (0: skip)")
    ap.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)), help="processes building the corpora")
    ap.add_argument("--no-generate", action="store_true", help="skip timing `xlperf generate`")
    ap.add_argument("--generate-baseline-max", type=int, default=1000,
                    help="up to this N, also time generate with every template written by xlsxwriter (before/after)")
    ap.add_argument("--only-generate", action="store_true", help="time `xlperf generate` only, no corpora")
    ap.add_argument("--out", type=Path, default=Path("docs"), help="folder for bench_results.json and img/perf_scaling.png")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/xlperf-bench"), help="where the corpora are written")
    ap.add_argument("--keep", action="store_true", help="keep the corpora (and the base returns) after the run")
    ap.add_argument("--repeat", type=int, default=1, help="run each timed step this often and keep the fastest")
    ap.add_argument("--replot", type=Path, help="only redo the summary and the plot from this bench_results.json")
    ap.add_argument("--tables", type=Path, help="print the markdown tables of this bench_results.json")
    args = ap.parse_args()
    if args.tables:
        print(markdown(json.loads(args.tables.read_text(encoding="utf-8"))), end="")
        return
    if args.replot:
        results = json.loads(args.replot.read_text(encoding="utf-8"))
        summarize(results, print)
        args.replot.write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        plot(results, args.out / "img" / "perf_scaling.png")
        return
    global REPEAT
    REPEAT = args.repeat
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    corpora = [c.strip() for c in args.corpora.split(",") if c.strip()]
    for c in corpora:
        if c not in CORPORA:
            raise SystemExit(f"unknown corpus {c}")

    def log(msg):
        print(msg, flush=True)

    results = {"machine": machine_info(), "repeat": args.repeat, "base_n": args.base_n, "read_subset": READ_SUBSET,
               "runs": [], "generate": [], "naive": {},
               "command": "python benchmarks/bench.py " + " ".join(sys.argv[1:]),
               "started": time.strftime("%Y-%m-%dT%H:%M:%S")}
    m = results["machine"]
    log(f"machine: {m['nproc']} × {m['cpu']}, {m['ram_gib']} GiB, Python {m['python']}")
    results["bytecode"] = compile_bytecode()
    args.workdir.mkdir(parents=True, exist_ok=True)
    try:
        for n in sizes:
            log(f"N = {n}")
            if not args.no_generate:
                if n <= args.generate_baseline_max:
                    results["generate"].append(bench_generate(n, args.workdir, log, patched=False))
                results["generate"].append(bench_generate(n, args.workdir, log))
            for kind in (() if args.only_generate else corpora):
                log(f" corpus {kind}")
                results["runs"].append(bench_corpus(kind, n, args.workdir, args.jobs, args.base_n, args.naive_n,
                                                    results["naive"], log))
                if not args.keep:
                    shutil.rmtree(args.workdir / f"{kind}_n{n}", ignore_errors=True)
    finally:
        if not args.keep:
            shutil.rmtree(args.workdir, ignore_errors=True)
    summarize(results, log)
    results["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_results.json").write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    log(f"results: {args.out / 'bench_results.json'}")
    log(markdown(results))
    if results["runs"]:
        try:
            plot(results, args.out / "img" / "perf_scaling.png")
            log(f"plot: {args.out / 'img' / 'perf_scaling.png'}")
        except ImportError:
            log("matplotlib is not installed (pip install -e '.[bench]'): no plot")


if __name__ == "__main__":
    main()
