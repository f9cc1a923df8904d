"""Score a year-end self-evaluation: funds execution, indicator attainment, total and grade (pure)."""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Context, Decimal

from xlperf.values import (
    EQ,
    GE,
    GT,
    LE,
    LT,
    QUALITATIVE,
    QUALITATIVE_TEXTS,
    IndicatorValue,
    parse_indicator_value,
)

CENT = Decimal('0.01')
# Enough digits to quantize any finite float to the cent (the default 28 would raise past 1e26).
_WIDE = Context(prec=400)
# Outcomes of one indicator; "unscorable" means xlperf cannot score it (the engine reports why).
FULL, PARTIAL, ZERO, UNSCORABLE = 'full', 'partial', 'zero', 'unscorable'
_TABLE_KEYS = {'funds_points', 'level1_points', 'qualitative', 'grades', 'overshoot',
               'execution_reason_below'}
_INVISIBLE = dict.fromkeys(map(ord, '\u200b\u200c\u200d\u2060\ufeff'))


@dataclass(frozen=True)
class ScoringRules:
    """Weights and thresholds of the self-evaluation, from the form spec's [scoring] table."""

    funds_points: float
    level1_points: dict[str, float]          # 一级指标 name -> points, in the form's order
    qualitative: dict[str, float]            # grade text of a 定性 actual -> fraction of 分值, best first
    grades: tuple[tuple[str, float], ...]    # (name, minimum total), highest first
    overshoot: float = 1.3                   # actual beyond this × a ≥/＞ target warns
    execution_reason_below: float = 0.9      # 执行率 below this needs a reason

    @property
    def indicator_points(self) -> float:
        """Points shared by all indicator rows (100 - funds_points with the shipped table)."""
        return float(sum(_dec(p) for p in self.level1_points.values()))

    @classmethod
    def from_table(cls, table: dict) -> ScoringRules:
        """Build from the [scoring] TOML table; ValueError naming the bad key otherwise."""
        if not isinstance(table, dict):
            raise ValueError('[scoring] must be a table')
        unknown = sorted(set(table) - _TABLE_KEYS, key=str)
        if unknown:
            raise ValueError(f'[scoring]: unknown key(s) {", ".join(map(repr, unknown))}')
        for key in ('funds_points', 'level1_points', 'qualitative', 'grades'):
            if key not in table:
                raise ValueError(f'[scoring]: missing key {key!r}')
        funds_points = _number(table['funds_points'], 'funds_points', low=0)
        level1_points = _named_numbers(table['level1_points'], 'level1_points', low=0)
        qualitative = _named_numbers(table['qualitative'], 'qualitative', low=0, high=1)
        grades = _grades(table['grades'])
        overshoot = _number(table.get('overshoot', cls.overshoot), 'overshoot', low=1)
        below = _number(table.get('execution_reason_below', cls.execution_reason_below),
                        'execution_reason_below', low=0, high=1)
        total = _dec(funds_points) + sum(_dec(p) for p in level1_points.values())
        if total != 100:
            raise ValueError(f'[scoring]: funds_points + level1_points must total 100, not '
                             f'{_plain(total)}')
        return cls(funds_points, level1_points, qualitative, grades, overshoot, below)


def _number(raw: object, key: str, *, low: float | None = None, high: float | None = None) -> float:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not math.isfinite(raw):
        raise ValueError(f'[scoring]: {key} must be a number, not {raw!r}')
    if (low is not None and raw < low) or (high is not None and raw > high):
        bounds = f'at least {low}' if high is None else f'between {low} and {high}'
        raise ValueError(f'[scoring]: {key} must be {bounds}, not {raw!r}')
    return float(raw)


def _named_numbers(raw: object, key: str, *, low: float, high: float | None = None) -> dict[str, float]:
    if not isinstance(raw, dict) or not raw:
        raise ValueError(f'[scoring]: {key} must be a non-empty table of name = number')
    result: dict[str, float] = {}
    for name, value in raw.items():
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f'[scoring]: {key} has an empty name')
        result[name] = _number(value, f'{key}.{name}', low=low, high=high)
    return result


def _grades(raw: object) -> tuple[tuple[str, float], ...]:
    if not isinstance(raw, list) or not raw:
        raise ValueError('[scoring]: grades must be a non-empty list of { name, min }')
    grades: list[tuple[str, float]] = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or set(item) != {'name', 'min'}:
            raise ValueError(f'[scoring]: grades[{i}] must be {{ name = "…", min = number }}')
        name = item['name']
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f'[scoring]: grades[{i}].name must be a non-empty text')
        grades.append((name, _number(item['min'], f'grades[{i}].min')))
    minima = [m for _, m in grades]
    if any(a <= b for a, b in zip(minima, minima[1:])):
        raise ValueError('[scoring]: grades must be listed highest min first, each min distinct')
    if minima[-1] > 0:
        raise ValueError('[scoring]: the last grade must have min 0 so that every total gets a grade')
    if len({n for n, _ in grades}) != len(grades):
        raise ValueError('[scoring]: grade names must be distinct')
    return tuple(grades)


# --- numbers -------------------------------------------------------------------------------

def _dec(x: float) -> Decimal:
    """The decimal a user sees for a float (0.1 -> Decimal('0.1'), not its binary expansion)."""
    return Decimal(repr(float(x)))


def _cents(d: Decimal, rounding: str = ROUND_HALF_UP) -> Decimal:
    return d.quantize(CENT, rounding=rounding, context=_WIDE)


def _plain(d: Decimal) -> str:
    return format(d.normalize(), 'f')


def round2(x: float) -> float:
    """Half up to 2 decimals on the decimal spelling (2.675 -> 2.68, which round() makes 2.67)."""
    return float(_cents(_dec(x)))


def _finite_number(raw: object) -> float | None:
    if isinstance(raw, bool) or not isinstance(raw, (numbers.Real, Decimal)):
        return None
    try:
        value = float(raw)
    except (ValueError, OverflowError, TypeError):
        return None
    return value if math.isfinite(value) else None


def _points(raw: object) -> float:
    """分值 as a usable weight: missing, negative or non-finite counts as 0 (the engine reports it)."""
    value = _finite_number(raw)
    return value if value is not None and value > 0 else 0.0


def _capped_score(fraction: float, points: float) -> float:
    """fraction × points, half up to 2 decimals, within [0, points]."""
    fraction = min(max(fraction, 0.0), 1.0)
    score = _cents(_dec(fraction * points))
    ceiling = _dec(points)
    if score > ceiling:  # a 分值 with more than 2 decimals: full marks round down, never above it
        score = _cents(ceiling, ROUND_DOWN)
    return float(score)


# --- 分值 split ------------------------------------------------------------------------------

def _split(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """*total* shared in proportion to *weights*, to the cent, the remainder on the last share."""
    if not weights:
        return []
    weight_sum = sum(weights)
    if weight_sum <= 0:
        weights, weight_sum = [Decimal(1)] * len(weights), Decimal(len(weights))
    for rounding in (ROUND_HALF_UP, ROUND_DOWN):
        # half up reads best (50/3 -> 16.67, 16.67, 16.66); with tiny totals it could push the
        # last share below zero, where rounding down cannot
        shares = [_cents(total * w / weight_sum, rounding) for w in weights[:-1]]
        last = total - sum(shares, Decimal(0))
        if last >= 0:
            return [*shares, last]
    raise AssertionError('rounding down never overshoots')  # pragma: no cover


def _level1_key(name: object) -> str:
    return ''.join(name.translate(_INVISIBLE).split()) if isinstance(name, str) else ''


def default_points(level1_names: list[str], rules: ScoringRules) -> list[float]:
    """Default 分值 of each indicator row, given each row's 一级指标 name.

    Each 一级指标's points are split equally among its rows (to the cent, remainder on its last
    row). The points of a 一级指标 with no rows go to the present ones in proportion to their own
    points, so the rows still total rules.indicator_points. Unknown names get 0.
    """
    keys = [_level1_key(name) for name in level1_names]
    known = {_level1_key(name): name for name in rules.level1_points}
    present = [name for key, name in known.items() if key in keys]
    if not present:
        return [0.0] * len(keys)
    group_totals = dict(zip(present, _split(_dec(rules.indicator_points),
                                            [_dec(rules.level1_points[n]) for n in present])))
    points = [Decimal(0)] * len(keys)
    for name in present:
        rows = [i for i, key in enumerate(keys) if key == _level1_key(name)]
        for i, share in zip(rows, _split(group_totals[name], [Decimal(1)] * len(rows))):
            points[i] = share
    return [float(p) for p in points]


# --- funds ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class FundsScore:
    """执行率 (executed / full-year budget, None when it cannot be computed), 得分 and 分值."""

    rate: float | None
    score: float
    points: float


def score_funds(full_year_budget: object, executed: object, points: object) -> FundsScore:
    """points × min(executed / budget, 1); no usable budget or executed amount -> rate None, score 0."""
    usable_points = _points(points)
    budget, spent = _finite_number(full_year_budget), _finite_number(executed)
    if budget is None or budget <= 0 or spent is None:
        return FundsScore(None, 0.0, usable_points)
    rate = spent / budget  # ±inf only for an absurd amount over a tiny budget; the score stays capped
    return FundsScore(rate, _capped_score(rate, usable_points), usable_points)


def needs_execution_reason(funds: FundsScore, rules: ScoringRules) -> bool:
    """True when the 执行率 is known and below the threshold that requires a reason."""
    return funds.rate is not None and funds.rate < rules.execution_reason_below


# --- indicators ----------------------------------------------------------------------------

@dataclass(frozen=True)
class IndicatorScore:
    """得分 of one indicator row (None when unscorable), its 分值, outcome and attainment.

    ratio is the fraction of 分值 earned before rounding (None when unscorable); overshoot is True
    when the actual exceeds rules.overshoot × a ≥/＞ target (the target was probably set too low).
    """

    score: float | None
    points: float
    outcome: str
    ratio: float | None
    overshoot: bool = False

    @property
    def loses_points(self) -> bool:
        """True for a scored row that earned less than its 分值 (it needs a 偏差原因)."""
        return self.outcome in (PARTIAL, ZERO)


def _parsed(raw: object, number_format: str) -> IndicatorValue | None:
    if isinstance(raw, IndicatorValue):  # already parsed (e.g. after values.probable_percent)
        return raw
    result = parse_indicator_value(raw, number_format=number_format)
    return result.value if result.ok else None


def _qualitative_fraction(raw: object, rules: ScoringRules) -> tuple[str, float] | None:
    """(canonical grade text, fraction) of a 定性 actual, or None when it is not a grade."""
    grade_names = list(rules.qualitative)
    # the target's own spellings (达成预期指标 …) count as the grades in the same order
    aliases = dict(zip(QUALITATIVE_TEXTS, grade_names))
    if isinstance(raw, IndicatorValue):
        text = raw.text if raw.symbol == QUALITATIVE else ''
    elif isinstance(raw, str):
        text = ''.join(raw.translate(_INVISIBLE).split())
    else:
        return None
    name = aliases.get(text, text)
    return (name, rules.qualitative[name]) if name in rules.qualitative else None


def _unit(value: IndicatorValue) -> str:
    return value.unit.replace('％', '%')


def _numeric_fraction(symbol: str, target: float, actual: float) -> float:
    """Attainment in [0, 1] of *actual* against a numeric target; never divides by zero."""
    if actual == target:
        return 1.0
    if symbol in (GE, GT):
        if actual > target:
            return 1.0
        return actual / target if target > 0 and actual > 0 else 0.0
    if symbol in (LE, LT):
        if actual < target:
            return 1.0
        return target / actual if target > 0 else 0.0
    # ＝: the nearer the actual, the higher; opposite signs or a zero on one side earn nothing
    if (target > 0 and actual > 0) or (target < 0 and actual < 0):
        return min(actual / target, target / actual)
    return 0.0


def _outcome(fraction: float, score: float, points: float) -> str:
    if fraction >= 1 or (points > 0 and score >= round2(points)):
        return FULL
    if fraction <= 0 or (points > 0 and score <= 0):
        return ZERO
    return PARTIAL


def score_indicator(target_raw: object, actual_raw: object, points: object, rules: ScoringRules, *,
                    target_format: str = '', actual_format: str = '') -> IndicatorScore:
    """Score one indicator row: 年度指标值 vs 实际完成值 for 分值 points; never raises.

    Raw cells are parsed with values.parse_indicator_value (an IndicatorValue is taken as parsed).
    """
    usable_points = _points(points)
    unscorable = IndicatorScore(None, usable_points, UNSCORABLE, None)
    target = _parsed(target_raw, target_format)
    if target is None:
        return unscorable
    if target.symbol == QUALITATIVE:
        actual_grade = _qualitative_fraction(actual_raw, rules)
        if actual_grade is None:
            actual_grade = _qualitative_fraction(_parsed(actual_raw, actual_format), rules)
        if actual_grade is None:
            return unscorable
        target_grade = _qualitative_fraction(target, rules)
        # an actual equal to the target is full marks, whatever grade the target names
        fraction = 1.0 if target_grade and target_grade[0] == actual_grade[0] else actual_grade[1]
        score = _capped_score(fraction, usable_points)
        return IndicatorScore(score, usable_points, _outcome(fraction, score, usable_points), fraction)
    actual = _parsed(actual_raw, actual_format)
    if actual is None or actual.number is None or target.number is None:
        return unscorable
    if _unit(actual) and _unit(target) and _unit(actual) != _unit(target):
        return unscorable
    fraction = _numeric_fraction(target.symbol, target.number, actual.number)
    score = _capped_score(fraction, usable_points)
    overshoot = (target.symbol in (GE, GT) and target.number > 0
                 and actual.number > rules.overshoot * target.number)
    return IndicatorScore(score, usable_points, _outcome(fraction, score, usable_points), fraction,
                          overshoot)


# --- totals --------------------------------------------------------------------------------

def total_score(funds: FundsScore, indicators: list[IndicatorScore]) -> float:
    """Funds score plus every scored indicator's score, to 2 decimals (unscorable rows add 0)."""
    parts = [funds.score, *(i.score for i in indicators if i.score is not None)]
    return float(_cents(sum((_dec(p) for p in parts), Decimal(0))))


def level1_totals(level1_names: list[str], indicators: list[IndicatorScore],
                  rules: ScoringRules) -> dict[str, float]:
    """Score per 一级指标 of the rules, in the rules' order (rows with other names are left out)."""
    keys = {_level1_key(name): name for name in rules.level1_points}
    sums = {name: Decimal(0) for name in rules.level1_points}
    for name, indicator in zip(level1_names, indicators):
        group = keys.get(_level1_key(name))
        if group is not None and indicator.score is not None:
            sums[group] += _dec(indicator.score)
    return {name: float(_cents(total)) for name, total in sums.items()}


def grade(total: float, rules: ScoringRules) -> str:
    """Name of the highest grade whose minimum the total (to 2 decimals, half up) reaches."""
    value = _finite_number(total)
    shown = _cents(_dec(value)) if value is not None else None
    for name, minimum in rules.grades:
        if shown is not None and shown >= _dec(minimum):
            return name
    return rules.grades[-1][0]
