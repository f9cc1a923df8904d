"""Tests for xlperf.scoring: the self-evaluation's funds, indicator, total and grade scoring."""
import math
import tomllib
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlperf.scoring import (
    FundsScore,
    IndicatorScore,
    ScoringRules,
    default_points,
    grade,
    level1_totals,
    needs_execution_reason,
    round2,
    score_funds,
    score_indicator,
    total_score,
)
from xlperf.values import QUALITATIVE_TEXTS, IndicatorValue, format_number, parse_indicator_value, probable_percent

# The [scoring] table of templates/self-evaluation.toml, as the form spec declares it.
SCORING_TOML = '''
[scoring]
funds_points = 10
level1_points = { "产出指标" = 50, "效益指标" = 30, "满意度指标" = 10 }
qualitative = { "达成" = 1.0, "部分达成" = 0.5, "未达成" = 0.0 }
grades = [ { name = "优", min = 90 }, { name = "良", min = 80 }, { name = "中", min = 60 }, { name = "差", min = 0 } ]
overshoot = 1.3
execution_reason_below = 0.9
'''


def table() -> dict:
    return tomllib.loads(SCORING_TOML)['scoring']


RULES = ScoringRules.from_table(table())
OUTPUT, BENEFIT, SATISFACTION = RULES.level1_points  # the three 一级指标 names, in the spec's order
ACHIEVED, PARTLY, MISSED = RULES.qualitative          # the three 定性 grade texts, best first


def cents(values) -> Decimal:
    """Exact sum of 2-decimal scores as a user would add them."""
    return sum((Decimal(repr(v)) for v in values), Decimal(0))


# --- the rules table -----------------------------------------------------------------------

def test_from_table_reads_the_spec_table():
    assert RULES.funds_points == 10
    assert list(RULES.level1_points.items()) == [('产出指标', 50), ('效益指标', 30), ('满意度指标', 10)]
    assert RULES.qualitative == {'达成': 1.0, '部分达成': 0.5, '未达成': 0.0}
    assert RULES.grades == (('优', 90), ('良', 80), ('中', 60), ('差', 0))
    assert (RULES.overshoot, RULES.execution_reason_below) == (1.3, 0.9)
    assert RULES.indicator_points == 90


def test_from_table_defaults_the_optional_thresholds():
    t = table()
    del t['overshoot'], t['execution_reason_below']
    rules = ScoringRules.from_table(t)
    assert (rules.overshoot, rules.execution_reason_below) == (1.3, 0.9)
    direct = ScoringRules(10, RULES.level1_points, RULES.qualitative, RULES.grades)
    assert (direct.overshoot, direct.execution_reason_below) == (1.3, 0.9)


def _with(**changes):
    t = table()
    for key, value in changes.items():
        if value is KeyError:
            del t[key]
        else:
            t[key] = value
    return t


BAD_TABLES = [
    (_with(funds_points=KeyError), 'funds_points'),
    (_with(grades=KeyError), 'grades'),
    (_with(fund_points=10), 'fund_points'),                                   # a typo is not ignored
    (_with(funds_points='10'), 'funds_points'),
    (_with(funds_points=True), 'funds_points'),
    (_with(funds_points=float('nan')), 'funds_points'),
    (_with(funds_points=-10, level1_points={'产出指标': 110}), 'funds_points'),
    (_with(funds_points=20), 'total 100'),
    (_with(level1_points={}), 'level1_points'),
    (_with(level1_points=[50, 30, 10]), 'level1_points'),
    (_with(level1_points={'产出指标': 50, '效益指标': 30, ' ': 10}), 'level1_points'),
    (_with(qualitative={'达成': 1.5}), 'qualitative'),
    (_with(qualitative={'达成': -0.5}), 'qualitative'),
    (_with(grades=[]), 'grades'),
    (_with(grades=[{'name': '优', 'min': 60}, {'name': '良', 'min': 80}, {'name': '差', 'min': 0}]), 'highest'),
    (_with(grades=[{'name': '优', 'min': 90}, {'name': '良', 'min': 90}, {'name': '差', 'min': 0}]), 'distinct'),
    (_with(grades=[{'name': '优', 'min': 90}, {'name': '良', 'min': 60}]), 'min 0'),
    (_with(grades=[{'name': '优', 'min': 90}, {'name': '优', 'min': 0}]), 'names'),
    (_with(grades=[{'name': '优'}, {'name': '差', 'min': 0}]), 'grades[0]'),
    (_with(grades=[{'name': '', 'min': 90}, {'name': '差', 'min': 0}]), 'grades[0].name'),
    (_with(grades=['优', '差']), 'grades[0]'),
    (_with(overshoot=0.9), 'overshoot'),
    (_with(execution_reason_below=90), 'execution_reason_below'),
    (_with(execution_reason_below=1.5), 'execution_reason_below'),
    (_with(grades=[{'name': '优', 'min': 90}, {'name': '差', 'min': 0.5}]), 'min 0'),
    ([('funds_points', 10)], 'table'),
]


@pytest.mark.parametrize('bad, named', BAD_TABLES)
def test_from_table_refuses_a_bad_table_naming_what_is_wrong(bad, named):
    with pytest.raises(ValueError, match=named.replace('[', r'\[').replace(']', r'\]')):
        ScoringRules.from_table(bad)


# --- one indicator, case by case -----------------------------------------------------------

# (年度指标值, 实际完成值, 实际完成值 number format, 分值, expected 得分, outcome)
INDICATOR_CASES = [
    # ≥: min(actual / target, 1) × 分值
    ('≥95%', '96%', '', 10, 10, 'full'),
    ('≥95%', '95%', '', 10, 10, 'full'),
    ('≥95%', '90%', '', 10, 9.47, 'partial'),
    ('≥95%', '0%', '', 10, 0, 'zero'),
    ('≥95%', '-5%', '', 10, 0, 'zero'),                  # never negative
    ('不少于200人', '150人', '', 20, 15, 'partial'),
    ('200人以上', '250', '', 20, 20, 'full'),              # a bare number is in the target's unit
    # ＞: as ≥, and an actual equal to the target is full marks
    ('＞95%', '95%', '', 10, 10, 'full'),
    ('＞95%', '94%', '', 10, 9.89, 'partial'),
    ('＞95%', '99%', '', 10, 10, 'full'),
    # ≤: full when actual ≤ target, else target / actual × 分值
    ('≤5天', '4天', '', 12, 12, 'full'),
    ('≤5天', '5天', '', 12, 12, 'full'),
    ('≤5天', '6天', '', 12, 10, 'partial'),
    ('≤5天', '10天', '', 12, 6, 'partial'),
    ('≤5天', '0天', '', 12, 12, 'full'),                   # actual 0 under a ceiling is full
    ('6月底前', '5月', '', 10, 10, 'full'),                 # a deadline is ≤6月
    ('6月底前', '8月', '', 10, 7.5, 'partial'),
    # ＜: as ≤, and equal to the target is full marks
    ('＜5%', '5%', '', 10, 10, 'full'),
    ('＜5%', '4%', '', 10, 10, 'full'),
    ('＜5%', '8%', '', 10, 6.25, 'partial'),
    # ＝: min(a/t, t/a) × 分值
    ('＝100人', '100人', '', 10, 10, 'full'),
    ('100人', '80人', '', 10, 8, 'partial'),
    ('100人', '125人', '', 10, 8, 'partial'),
    ('100人', '0人', '', 10, 0, 'zero'),
    ('100人', '-100人', '', 10, 0, 'zero'),
    # zero targets and actuals: never a division by zero
    ('≥0', '0', '', 10, 10, 'full'),
    ('≥0', '5', '', 10, 10, 'full'),
    ('≥10', '0', '', 10, 0, 'zero'),
    ('≥0', '-5', '', 10, 0, 'zero'),
    ('≥0.5', '0.25', '', 10, 5, 'partial'),
    ('≤0.5', '1', '', 10, 5, 'partial'),
    ('＝0.5', '0.4', '', 10, 8, 'partial'),
    ('＝-100', '-80', '', 10, 8, 'partial'),
    ('＝-100', '80', '', 10, 0, 'zero'),
    ('≤0', '0', '', 10, 10, 'full'),
    ('≤0', '3', '', 10, 0, 'zero'),
    ('＝0', '0', '', 10, 10, 'full'),
    ('＝0', '1', '', 10, 0, 'zero'),
    ('＝5', '0', '', 10, 0, 'zero'),
    # percent-formatted actual cells: 0.95 shown as 95%
    ('≥95%', 0.95, '0%', 10, 10, 'full'),
    ('≥95%', 0.9, '0.00%', 10, 9.47, 'partial'),
    ('≤5%', 0.08, '0%', 10, 6.25, 'partial'),
    ('≥95%', 96, '', 10, 10, 'full'),                      # a number cell without format: the target's unit
    # full-width symbols, digits and percent signs
    ('≥９５％', '９６％', '', 10, 10, 'full'),
    ('＞９５％', '９０%', '', 10, 9.47, 'partial'),
    ('≦５天', '６天', '', 12, 10, 'partial'),
    ('＝１００人', '１００人', '', 10, 10, 'full'),
    ('≥95%', '\u3000 96 % ', '', 10, 10, 'full'),
    # half up to 2 decimals on the decimal value (round() would give 0.12 and 0.0)
    ('≥8', '1', '', 1, 0.13, 'partial'),
    ('≥200', '1', '', 1, 0.01, 'partial'),
    ('≥400', '1', '', 1, 0, 'zero'),                       # 0.0025 rounds to nothing: it lost every point
    ('≥95%', '94.99%', '', 10, 10, 'full'),                # 9.99895 rounds to full marks
    # 定性 targets: the actual names a grade of the spec (or the target's own spelling)
    (QUALITATIVE_TEXTS[0], '达成', '', 10, 10, 'full'),
    (QUALITATIVE_TEXTS[0], '部分达成', '', 10, 5, 'partial'),
    (QUALITATIVE_TEXTS[0], '未达成', '', 10, 0, 'zero'),
    (QUALITATIVE_TEXTS[0], QUALITATIVE_TEXTS[0], '', 10, 10, 'full'),
    (QUALITATIVE_TEXTS[0], QUALITATIVE_TEXTS[1], '', 10, 5, 'partial'),
    (QUALITATIVE_TEXTS[0], QUALITATIVE_TEXTS[2], '', 10, 0, 'zero'),
    (QUALITATIVE_TEXTS[0], ' 部分\u3000达成 ', '', 10, 5, 'partial'),
    (QUALITATIVE_TEXTS[1], QUALITATIVE_TEXTS[1], '', 10, 10, 'full'),  # equal to the target: full
    (QUALITATIVE_TEXTS[1], '部分达成', '', 10, 10, 'full'),
    (QUALITATIVE_TEXTS[1], '达成', '', 10, 10, 'full'),
    # not scorable: the engine reports these
    ('≥95%', '95人', '', 10, None, 'unscorable'),          # units differ
    ('≤5天', '5月', '', 10, None, 'unscorable'),
    ('≥95%', '约九成', '', 10, None, 'unscorable'),
    ('≥95%', '', '', 10, None, 'unscorable'),
    ('≥95%', None, '', 10, None, 'unscorable'),
    ('≥95%', '——', '', 10, None, 'unscorable'),
    ('≥95%', '是', '', 10, None, 'unscorable'),
    ('≥95%', '达成', '', 10, None, 'unscorable'),          # a grade text against a number
    ('≥95%', '90%-95%', '', 10, None, 'unscorable'),
    ('按计划', '达成', '', 10, None, 'unscorable'),         # target not a 指标值
    (None, '95%', '', 10, None, 'unscorable'),
    (QUALITATIVE_TEXTS[0], '很好', '', 10, None, 'unscorable'),
    (QUALITATIVE_TEXTS[0], '95%', '', 10, None, 'unscorable'),
    (QUALITATIVE_TEXTS[0], None, '', 10, None, 'unscorable'),
]


@pytest.mark.parametrize('target, actual, actual_format, points, score, outcome', INDICATOR_CASES)
def test_score_indicator_case_by_case(target, actual, actual_format, points, score, outcome):
    result = score_indicator(target, actual, points, RULES, actual_format=actual_format)
    assert (result.score, result.outcome) == (score, outcome)
    assert result.points == points
    assert result.loses_points == (outcome in ('partial', 'zero'))
    assert (result.ratio is None) == (outcome == 'unscorable')
    assert result.ratio is None or 0 <= result.ratio <= 1


def test_ratio_is_the_fraction_earned_before_rounding():
    result = score_indicator('≥95%', '90%', 10, RULES)
    assert result.ratio == pytest.approx(90 / 95)
    assert score_indicator('≤5天', '10天', 12, RULES).ratio == 0.5
    assert score_indicator(QUALITATIVE_TEXTS[0], '部分达成', 10, RULES).ratio == 0.5


def test_a_percent_formatted_target_cell_is_read_through_its_format():
    # a number cell has no 计算符号, so it is an exact (＝) target of 95%
    assert score_indicator(0.95, '95%', 10, RULES, target_format='0%').score == 10
    assert score_indicator(0.95, '96%', 10, RULES, target_format='0%').score == 9.9
    assert score_indicator(0.95, '96人', 10, RULES, target_format='0%').outcome == 'unscorable'


def test_units_are_compared_only_when_both_cells_have_one():
    assert score_indicator('≥100', '120人', 10, RULES).score == 10
    assert score_indicator('≥100人', '80', 10, RULES).score == 8
    assert score_indicator('≥100人', '80个', 10, RULES).outcome == 'unscorable'


def test_an_already_parsed_value_is_scored_as_given():
    # the engine may correct a fraction first: ≥0.95 in a 满意度 row meant ≥95%
    target = probable_percent(parse_indicator_value('≥0.95').value, '满意度')
    assert score_indicator(target, '96%', 10, RULES).score == 10
    actual = IndicatorValue('＝', 90.0, '%')
    assert score_indicator(target, actual, 10, RULES).score == 9.47
    qualitative = parse_indicator_value(QUALITATIVE_TEXTS[1]).value
    assert score_indicator(QUALITATIVE_TEXTS[0], qualitative, 10, RULES).score == 5


@pytest.mark.parametrize('target, actual, overshoot', [
    ('≥50%', '66%', True),
    ('≥50%', '65%', False),       # exactly 130 %: not beyond
    ('＞50%', '70%', True),
    ('≥0', '5', False),           # no target to be low against
    ('≥0.5', '1', True),
    ('≤50%', '90%', False),       # only floors can be set too low
    ('50%', '90%', False),
    ('≥50%', '90人', False),      # unscorable rows do not warn
    (QUALITATIVE_TEXTS[0], '达成', False),
])
def test_overshoot_flags_an_actual_far_beyond_a_floor(target, actual, overshoot):
    assert score_indicator(target, actual, 10, RULES).overshoot is overshoot


def test_overshoot_threshold_comes_from_the_rules():
    strict = ScoringRules.from_table(_with(overshoot=1.1))
    assert score_indicator('≥50%', '60%', 10, strict).overshoot
    assert not score_indicator('≥50%', '60%', 10, RULES).overshoot


def test_qualitative_grades_and_fractions_come_from_the_rules():
    rules = ScoringRules.from_table(_with(qualitative={'好': 1.0, '较好': 0.8, '差': 0.2}))
    assert score_indicator(QUALITATIVE_TEXTS[0], '较好', 10, rules).score == 8
    assert score_indicator(QUALITATIVE_TEXTS[0], QUALITATIVE_TEXTS[2], 10, rules).score == 2
    assert score_indicator(QUALITATIVE_TEXTS[0], '部分达成', 10, rules).outcome == 'unscorable'


@pytest.mark.parametrize('points, expected', [
    (3.335, 3.33),     # full marks never above a 分值 with more digits
    (0, 0),
    (None, 0),
    (-5, 0),
    (float('inf'), 0),
    ('10', 0),
])
def test_full_marks_for_odd_points_stay_within_them(points, expected):
    result = score_indicator('≥95%', '96%', points, RULES)
    assert result.score == expected
    assert 0 <= result.score <= result.points


def test_zero_points_keep_the_outcome_of_the_attainment():
    assert score_indicator('≥95%', '90%', 0, RULES).outcome == 'partial'
    assert score_indicator('≥95%', '96%', 0, RULES).outcome == 'full'
    assert score_indicator('≥95%', '0%', 0, RULES).outcome == 'zero'


# --- properties ----------------------------------------------------------------------------

finite = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False)
any_finite = st.floats(allow_nan=False, allow_infinity=False)
points_strategy = st.floats(min_value=0, max_value=100, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(['≥', '＞', '≤', '＜', '＝', '']), finite, finite, points_strategy,
       st.sampled_from(['', '%', '人']))
def test_score_is_between_zero_and_the_points_for_any_numbers(symbol, target, actual, points, unit):
    result = score_indicator(f'{symbol}{format_number(target)}{unit}', f'{format_number(actual)}{unit}',
                             points, RULES)
    assert result.outcome != 'unscorable'
    assert 0 <= result.score <= points
    assert 0 <= result.ratio <= 1
    assert round(result.score, 2) == result.score


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(['≥', '＞', '≤', '＜', '＝']), any_finite, any_finite,
       st.floats(min_value=0, allow_nan=False, allow_infinity=False))
def test_score_never_raises_nor_leaves_the_points_at_float_extremes(symbol, target, actual, points):
    result = score_indicator(IndicatorValue(symbol, target, ''), IndicatorValue('＝', actual, ''),
                             points, RULES)
    assert 0 <= result.score <= points


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(['≥', '＞']), st.floats(min_value=0, max_value=1e9, allow_nan=False),
       finite, finite, points_strategy)
def test_score_grows_with_the_actual_against_a_floor(symbol, target, a, b, points):
    low, high = sorted((a, b))
    target_text = f'{symbol}{format_number(target)}'
    assert (score_indicator(target_text, format_number(low), points, RULES).score
            <= score_indicator(target_text, format_number(high), points, RULES).score)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(['≤', '＜']), st.floats(min_value=0, max_value=1e9, allow_nan=False),
       finite, finite, points_strategy)
def test_score_falls_as_the_actual_rises_against_a_ceiling(symbol, target, a, b, points):
    low, high = sorted((a, b))
    target_text = f'{symbol}{format_number(target)}'
    assert (score_indicator(target_text, format_number(low), points, RULES).score
            >= score_indicator(target_text, format_number(high), points, RULES).score)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(['≥', '＞', '≤', '＜', '＝', '']), finite, points_strategy)
def test_an_actual_equal_to_the_target_is_full_marks(symbol, number, points):
    result = score_indicator(f'{symbol}{format_number(number)}%', f'{format_number(number)}%', points, RULES)
    assert result.outcome == 'full'
    assert result.score == round2(points) or result.score == math.floor(points * 100) / 100


# --- default 分值 --------------------------------------------------------------------------

def test_default_points_split_each_group_equally_with_the_remainder_last():
    rows = [OUTPUT] * 3 + [BENEFIT] * 7 + [SATISFACTION]
    points = default_points(rows, RULES)
    assert points == [16.67, 16.67, 16.66] + [4.29] * 6 + [4.26] + [10]
    assert cents(points[:3]) == 50 and cents(points[3:10]) == 30
    assert cents(points) == 90


def test_default_points_keep_the_rows_order_when_groups_interleave():
    rows = [BENEFIT, OUTPUT, BENEFIT, SATISFACTION, OUTPUT]
    assert default_points(rows, RULES) == [15, 25, 15, 10, 25]


def test_a_missing_group_is_spread_over_the_present_ones_in_proportion():
    rows = [OUTPUT] * 2 + [BENEFIT] * 3          # no 满意度 rows: its 10 go 6.25 / 3.75
    points = default_points(rows, RULES)
    assert points == [28.13, 28.12, 11.25, 11.25, 11.25]
    assert cents(points[:2]) == Decimal('56.25') and cents(points[2:]) == Decimal('33.75')
    assert cents(points) == 90


def test_a_single_group_takes_all_the_indicator_points():
    assert default_points([SATISFACTION] * 3, RULES) == [30, 30, 30]


def test_unknown_level1_names_get_nothing():
    rows = [OUTPUT, '其他指标', None, BENEFIT, SATISFACTION]
    assert default_points(rows, RULES) == [50, 0, 0, 30, 10]
    assert default_points(['其他指标'], RULES) == [0]
    assert default_points([], RULES) == []


def test_level1_names_match_despite_stray_spaces():
    assert default_points([f' {OUTPUT}\u3000', BENEFIT[:2] + ' ' + BENEFIT[2:]], RULES) == [56.25, 33.75]


def test_tiny_group_points_are_never_split_below_zero():
    rules = ScoringRules.from_table(_with(funds_points=0, level1_points={'甲': 0.02, '乙': 99.98}))
    points = default_points(['甲'] * 4 + ['乙'], rules)
    assert all(p >= 0 for p in points)
    assert cents(points[:4]) == Decimal('0.02') and cents(points) == 100
    assert points[:4] == [0, 0, 0, 0.02]                          # rounded down, not below zero
    assert default_points(['甲'] * 3 + ['乙'], rules)[:3] == [0.01, 0.01, 0]  # half up while the last stays ≥ 0


def test_groups_with_zero_points_share_a_missing_group_equally():
    rules = ScoringRules.from_table(_with(funds_points=10, level1_points={'甲': 0, '乙': 0, '丙': 90}))
    assert default_points(['甲', '乙'], rules) == [45, 45]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([OUTPUT, BENEFIT, SATISFACTION, '其他']), max_size=40))
def test_default_points_total_exactly_the_indicator_points(rows):
    points = default_points(rows, RULES)
    assert len(points) == len(rows)
    assert all(p >= 0 and Decimal(repr(p)) == Decimal(repr(p)).quantize(Decimal('0.01')) for p in points)
    if set(rows) & set(RULES.level1_points):
        assert cents(points) == 90
        present = [n for n in RULES.level1_points if n in rows]
        if len(present) == 3:  # every group present: each keeps exactly its own points
            for name, group_points in RULES.level1_points.items():
                assert cents(p for p, r in zip(points, rows) if r == name) == Decimal(repr(group_points))
    else:
        assert cents(points) == 0


# --- funds ---------------------------------------------------------------------------------

@pytest.mark.parametrize('budget, executed, rate, score', [
    (100, 95, 0.95, 9.5),
    (100, 100, 1.0, 10),
    (100, 120, 1.2, 10),            # over-spending is capped at the points
    (100, 0, 0.0, 0),
    (200, 1, 0.005, 0.05),
    (20000, 1, 0.00005, 0),
    (2000, 1, 0.0005, 0.01),        # 0.005 rounds half up
    (100, -5, -0.05, 0),
    (0, 50, None, 0),
    (None, 50, None, 0),
    (-100, 50, None, 0),
    (100, None, None, 0),
    ('100', 50, None, 0),
    (float('nan'), 50, None, 0),
    (100, float('inf'), None, 0),
    (0.5, 0.25, 0.5, 5),            # a budget under 1 is still a budget
    (1e-300, 1e300, math.inf, 10),  # absurd, but capped and never raising
    (1e-300, -1e300, -math.inf, 0),
])
def test_score_funds(budget, executed, rate, score):
    result = score_funds(budget, executed, 10)
    assert result == FundsScore(rate, score, 10)


def test_score_funds_with_decimal_amounts():
    assert score_funds(Decimal('123.45'), Decimal('111.105'), 10).score == 9


@pytest.mark.parametrize('rate, needed', [(0.89, True), (0.8999, True), (0.9, False), (1.2, False), (None, False)])
def test_execution_below_the_threshold_needs_a_reason(rate, needed):
    assert needs_execution_reason(FundsScore(rate, 0, 10), RULES) is needed


# --- total and grade -----------------------------------------------------------------------

@pytest.mark.parametrize('total, name', [
    (100, '优'), (90, '优'), (89.99, '良'), (80, '良'), (79.99, '中'), (60, '中'), (59.99, '差'),
    (0, '差'), (-1, '差'), (89.995, '优'),  # a total is graded as shown, to 2 decimals
    (float('nan'), '差'),
])
def test_grade_boundaries(total, name):
    assert grade(total, RULES) == name


def test_grade_names_and_minima_come_from_the_rules():
    rules = ScoringRules.from_table(_with(grades=[{'name': 'A', 'min': 85}, {'name': 'B', 'min': 0}]))
    assert (grade(85, rules), grade(84.99, rules)) == ('A', 'B')


def test_total_score_adds_funds_and_scored_indicators_exactly():
    rows = [OUTPUT] * 3 + [BENEFIT] * 7 + [SATISFACTION]
    indicators = [IndicatorScore(p, p, 'full', 1.0) for p in default_points(rows, RULES)]
    indicators.append(IndicatorScore(None, 0, 'unscorable', None))
    assert total_score(FundsScore(1.0, 10, 10), indicators) == 100
    assert grade(total_score(FundsScore(0.95, 9.5, 10), indicators), RULES) == '优'
    assert total_score(FundsScore(None, 0, 10), []) == 0


def test_total_score_rounds_the_sum_to_cents():
    parts = [IndicatorScore(0.1, 1, 'partial', 0.1)] * 3
    assert total_score(FundsScore(0.02, 0.2, 10), parts) == 0.5   # 0.1 * 3 in floats is 0.30000000000000004


def test_level1_totals_per_group_in_the_rules_order():
    rows = [BENEFIT, OUTPUT, OUTPUT, '其他', SATISFACTION]
    indicators = [score_indicator('≥100', a, p, RULES)
                  for a, p in zip(['50', '100', '80', '100', 'x'], [30, 25, 25, 5, 10])]
    totals = level1_totals(rows, indicators, RULES)
    assert list(totals) == [OUTPUT, BENEFIT, SATISFACTION]
    assert totals == {OUTPUT: 45, BENEFIT: 15, SATISFACTION: 0}


def test_the_bundled_forms_scoring_tables_load():
    from xlperf.spec import load_spec

    for form in ("self-evaluation", "monitoring"):
        rules = ScoringRules.from_table(load_spec(form).scoring)
        assert rules.funds_points == 10 and rules.indicator_points == 90
        assert [g for g, _ in rules.grades] == ["优", "良", "中", "差"]


# --- what a mutation run found untested ------------------------------------------------------

# Each bad table with the whole message: the key it names, the bound it states and the value found.
EXACT_MESSAGES = [
    ([('funds_points', 10)], '[scoring] must be a table'),
    (_with(funds_points=KeyError), "[scoring]: missing key 'funds_points'"),
    (_with(foo=1, bar=2), "[scoring]: unknown key(s) 'bar', 'foo'"),
    ({**table(), 1: 10, 'foo': 1}, "[scoring]: unknown key(s) 1, 'foo'"),  # keys of any type, sorted as text
    (_with(funds_points='10'), "[scoring]: funds_points must be a number, not '10'"),
    (_with(funds_points=-10, level1_points={'产出指标': 110}), '[scoring]: funds_points must be at least 0, not -10'),
    (_with(level1_points={'产出指标': -10, '效益指标': 100}),
     '[scoring]: level1_points.产出指标 must be at least 0, not -10'),
    (_with(level1_points=[50]), '[scoring]: level1_points must be a non-empty table of name = number'),
    (_with(level1_points={'产出指标': 50, '': 40}), '[scoring]: level1_points has an empty name'),
    (_with(qualitative={'达成': 1.5}), '[scoring]: qualitative.达成 must be between 0 and 1, not 1.5'),
    (_with(qualitative={}), '[scoring]: qualitative must be a non-empty table of name = number'),
    (_with(overshoot=0.9), '[scoring]: overshoot must be at least 1, not 0.9'),
    (_with(execution_reason_below=1.5), '[scoring]: execution_reason_below must be between 0 and 1, not 1.5'),
    (_with(execution_reason_below=-0.5), '[scoring]: execution_reason_below must be between 0 and 1, not -0.5'),
    (_with(funds_points=20), '[scoring]: funds_points + level1_points must total 100, not 110'),
    (_with(funds_points=10.5), '[scoring]: funds_points + level1_points must total 100, not 100.5'),
    (_with(grades=[]), '[scoring]: grades must be a non-empty list of { name, min }'),
    (_with(grades=[{'name': '优', 'min': '90'}, {'name': '差', 'min': 0}]),
     "[scoring]: grades[0].min must be a number, not '90'"),
    (_with(grades=[{'name': '优'}, {'name': '差', 'min': 0}]), '[scoring]: grades[0] must be { name = "…", min = number }'),
    (_with(grades=[{'name': ' ', 'min': 90}, {'name': '差', 'min': 0}]),
     '[scoring]: grades[0].name must be a non-empty text'),
    (_with(grades=[{'name': '优', 'min': 60}, {'name': '良', 'min': 80}, {'name': '差', 'min': 0}]),
     '[scoring]: grades must be listed highest min first, each min distinct'),
    (_with(grades=[{'name': '优', 'min': 90}, {'name': '良', 'min': 60}]),
     '[scoring]: the last grade must have min 0 so that every total gets a grade'),
    (_with(grades=[{'name': '优', 'min': 90}, {'name': '优', 'min': 0}]), '[scoring]: grade names must be distinct'),
]


@pytest.mark.parametrize('bad, message', EXACT_MESSAGES)
def test_from_table_messages_name_the_key_the_bound_and_the_value(bad, message):
    with pytest.raises(ValueError) as caught:
        ScoringRules.from_table(bad)
    assert str(caught.value) == message


def test_from_table_keeps_the_execution_threshold_it_is_given():
    rules = ScoringRules.from_table(_with(execution_reason_below=0.8, overshoot=1.5))
    assert (rules.execution_reason_below, rules.overshoot) == (0.8, 1.5)
    assert needs_execution_reason(FundsScore(0.85, 8.5, 10), rules) is False
    assert needs_execution_reason(FundsScore(0.79, 7.9, 10), rules) is True


def test_a_small_points_row_rounded_to_full_marks_is_full():
    # 9999.9 / 10000 of 0.5 points is 0.499995: 0.50 to the cent, all of its points
    result = score_indicator('≥10000', '9999.9', 0.5, RULES)
    assert (result.score, result.outcome) == (0.5, 'full')
    assert result.loses_points is False


def test_a_qualitative_actual_against_a_numeric_target_is_unscorable():
    for actual in ('达成', QUALITATIVE_TEXTS[0], '是'):
        result = score_indicator('≥95%', actual, 10, RULES)
        assert (result.score, result.outcome) == (None, 'unscorable')


def test_small_level1_weights_are_still_shared_in_proportion():
    rules = ScoringRules.from_table(_with(funds_points=99, level1_points={'产出指标': 0.2, '效益指标': 0.8}))
    assert default_points(['产出指标', '效益指标'], rules) == [0.2, 0.8]
    assert default_points(['产出指标', '产出指标', '效益指标'], rules) == [0.1, 0.1, 0.8]


def test_a_parsed_target_with_a_full_width_percent_sign_matches_a_percent_actual():
    target = IndicatorValue('≥', 95.0, '％', '')
    assert score_indicator(target, '96%', 10, RULES).score == 10
    assert score_indicator(target, IndicatorValue('＝', 90.0, '％', ''), 10, RULES).score == 9.47
    assert score_indicator(target, '90人', 10, RULES).outcome == 'unscorable'
