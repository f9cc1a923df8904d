"""The naive stack's validation for benchmarks/bench.py: one pandera schema pass per return, as a first
implementation would write it (xlperf itself checks each cell in a plain loop, see xlperf/rules.py)."""
from __future__ import annotations

from xlperf.model import FileResult, Issue, text
from xlperf.rules import _STATUS_CODE, _frame_columns, frame_rows
from xlperf.spec import FormSpec


def build_frames(spec: FormSpec, results: list[FileResult], rows: list | None = None):
    """One DataFrame of scalar fields (a row per return) and one of indicators (a row per filled slot).

    *rows*, if given, holds :func:`frame_rows` of each result (or None where it is still to be done).
    """
    import pandas as pd

    names, _vcol = _frame_columns(spec)
    prows, irows, fis = [], [], []
    for fi, res in enumerate(results):
        got = rows[fi] if rows is not None else None
        prow, mine = got if got is not None else frame_rows(spec, res)
        prow["_fi"] = fi
        prows.append(prow)
        if mine:
            irows.extend(mine)
            fis.extend([fi] * len(mine))
    pdf = pd.DataFrame(prows)
    if irows:  # column lists, not a dict per row
        icol = {"_fi": fis}
        for name, col in zip(names, zip(*irows)):
            icol[name] = list(col)
        idf = pd.DataFrame(icol)
    else:
        idf = pd.DataFrame([])
    return pdf, idf


# ---------------------------------------------------------------- schema --------
def _nonempty(s):
    return s.astype(str).str.len() > 0


def build_schemas(spec: FormSpec):
    """pandera schemas for the two frames, every check named by the issue code it raises."""
    import pandera.pandas as pa

    pcols = {}
    for f in spec.fields:
        if f.locked:
            continue
        checks = []
        if f.required and f.type != "percent":
            checks.append(pa.Check(_nonempty, name="E101", element_wise=False))
        if f.max_length:
            checks.append(pa.Check.str_length(max_value=f.max_length, name="E113", error="E113"))
        if f.choices:
            checks.append(pa.Check(lambda s, ch=f.choices: s.isin(ch) | (s == ""), name="E117"))
        pcols[f.name] = pa.Column(str, checks=checks, nullable=False)
        if f.type == "percent":
            pcols[f"{f.name}__num"] = pa.Column(
                float, nullable=True, coerce=True,
                checks=[pa.Check.in_range(0, 100, name="E104", error="E104")])
            pcols[f"{f.name}__bad"] = pa.Column(bool, checks=[pa.Check(lambda s: ~s, name="E104")])
            if f.required:
                pcols[f.name] = pa.Column(str, checks=[pa.Check(_nonempty, name="E101")])
    icols = {}
    for c in spec.columns:
        checks = []
        if c.max_length:
            checks.append(pa.Check.str_length(max_value=c.max_length, name="E113", error="E113"))
        icols[c.name] = pa.Column(str, checks=checks)
    if any(c.type == "indicator_value" for c in spec.columns):
        icols["_status"] = pa.Column(str, checks=[
            pa.Check(lambda s, v=v: s != v, name=code) for v, code in _STATUS_CODE.items()])
        icols["_unit_missing"] = pa.Column(bool, checks=[pa.Check(lambda s: ~s, name="E112")])
    icols["_missing"] = pa.Column(str, checks=[pa.Check(lambda s: s == "", name="E108")])
    return pa.DataFrameSchema(pcols, strict=False), pa.DataFrameSchema(icols, strict=False)


def _failures(schema, df):
    import pandera.errors as pe

    if df.empty:
        return []
    try:
        schema.validate(df, lazy=True)
        return []
    except pe.SchemaErrors as err:
        fc = err.failure_cases
        return [(r["column"], r["check"], r["index"]) for r in fc.to_dict("records")]


def _column_ref(spec: FormSpec, column: str, row: int) -> str:
    for c in spec.columns:
        if c.name == column:
            return f"{c.col}{row}"
    if column in ("_status", "_unit_missing"):  # only forms with a 指标值 column have these
        vcol = next(c for c in spec.columns if c.type == "indicator_value")
        return f"{vcol.col}{row}"
    return f"{spec.columns[0].col}{row}"


def run_schema(spec: FormSpec, results: list[FileResult], pdf, idf) -> None:
    """Run both schemas once over all returns and file each failure under its file and cell."""
    pschema, ischema = build_schemas(spec)
    for column, check, index in _failures(pschema, pdf):
        if index is None or check is None:
            continue
        res = results[int(pdf.at[index, "_fi"])]
        fname = column.split("__")[0]
        f = spec.field(fname)
        code = str(check)  # every check is named by its issue code
        params = {"field": fname, "found": text(res.data.fields.get(fname))}
        if code == "E113":
            params.update(limit=f.max_length, length=len(params["found"]))
        if code == "E117":
            params["choices"] = "、".join(f.choices)
        res.add(Issue.make(code, spec.sheet, f.cell, **params))
    for column, check, index in _failures(ischema, idf):
        if index is None or check is None:
            continue
        row = idf.loc[index]
        res = results[int(row["_fi"])]
        ref = _column_ref(spec, column, int(row["_row"]))
        code = str(check)
        vcol = next((c.name for c in spec.columns if c.type == "indicator_value"), "")
        params = {"found": row.get(vcol, ""), "missing": row["_missing"], "field": column}
        if code == "E113":
            params.update(limit=spec.column(column).max_length, length=len(row[column]))
        res.add(Issue.make(code, spec.sheet, ref, **params))




def validate_naively(res: FileResult, registry, opts) -> None:
    """One return as the naive stack validates it: its own pandera pass, then xlperf's rules (whose
    checks of the same cells file the same issues again; the report keeps one of each)."""
    from xlperf.rules import validate_results

    if res.data is not None and not res.errors:
        from xlperf.spec import load_spec

        spec = load_spec(res.data.spec_name)
        pdf, idf = build_frames(spec, [res])
        run_schema(spec, [res], pdf, idf)
    validate_results([res], registry, opts)
