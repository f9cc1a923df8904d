"""Tests for xlperf.values: the 指标值 parser."""
import datetime as dt
import math
import numbers
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlperf.values import (
    QUALITATIVE_TEXTS,
    IndicatorValue,
    ParseResult,
    ValueStatus,
    format_number,
    is_percent_format,
    parse_indicator_value,
    probable_percent,
)

OK, EMPTY, PH, YN, BAD = (ValueStatus.OK, ValueStatus.EMPTY, ValueStatus.PLACEHOLDER,
                          ValueStatus.YESNO, ValueStatus.UNPARSEABLE)

CASES = [
    # every distinct value in the seed workbook
    ('≥95%', OK, '≥', 95, '%'),
    ('≥85%', OK, '≥', 85, '%'),
    ('≥80%', OK, '≥', 80, '%'),
    ('≥100本', OK, '≥', 100, '本'),
    ('≥3条', OK, '≥', 3, '条'),
    ('2人', OK, '＝', 2, '人'),
    ('≤95%', OK, '≤', 95, '%'),
    ('≥100%', OK, '≥', 100, '%'),
    ('是否', YN, None, None, None),
    # ASCII operators
    ('>=95%', OK, '≥', 95, '%'),
    ('<=95%', OK, '≤', 95, '%'),
    ('>90%', OK, '＞', 90, '%'),
    ('<5天', OK, '＜', 5, '天'),
    ('=2人', OK, '＝', 2, '人'),
    ('==2人', OK, '＝', 2, '人'),
    ('=>95%', OK, '≥', 95, '%'),
    # full-width and look-alike operators
    ('＞90%', OK, '＞', 90, '%'),
    ('＜5天', OK, '＜', 5, '天'),
    ('＝2人', OK, '＝', 2, '人'),
    ('≧95%', OK, '≥', 95, '%'),
    ('≦10次/年', OK, '≤', 10, '次/年'),
    ('>＝95%', OK, '≥', 95, '%'),
    ('＞＝95％', OK, '≥', 95, '%'),
    # word operators
    ('不低于95%', OK, '≥', 95, '%'),
    ('不少于100本', OK, '≥', 100, '本'),
    ('大于等于90%', OK, '≥', 90, '%'),
    ('至少3条', OK, '≥', 3, '条'),
    ('不高于5%', OK, '≤', 5, '%'),
    ('不超过10万元', OK, '≤', 10, '万元'),
    ('不多于3次', OK, '≤', 3, '次'),
    ('小于等于5个工作日', OK, '≤', 5, '个工作日'),
    ('至多2人', OK, '≤', 2, '人'),
    ('大于80%', OK, '＞', 80, '%'),
    ('高于80%', OK, '＞', 80, '%'),
    ('超过1000人', OK, '＞', 1000, '人'),
    ('小于5%', OK, '＜', 5, '%'),
    ('低于5%', OK, '＜', 5, '%'),
    ('等于100%', OK, '＝', 100, '%'),
    # suffix operators
    ('95%以上', OK, '≥', 95, '%'),
    ('100本及以上', OK, '≥', 100, '本'),
    ('5%以下', OK, '≤', 5, '%'),
    ('3天以内', OK, '≤', 3, '天'),
    ('10个工作日及以内', OK, '≤', 10, '个工作日'),
    ('≥95%以上', OK, '≥', 95, '%'),
    # digits, spacing, separators
    ('≥ 95 %', OK, '≥', 95, '%'),
    ('100 本', OK, '＝', 100, '本'),
    ('≥９５％', OK, '≥', 95, '%'),
    ('９９．５％', OK, '＝', 99.5, '%'),
    ('1,000人', OK, '＝', 1000, '人'),
    ('≥１，２００，０００元', OK, '≥', 1200000, '元'),
    ('\u3000≥95%\u3000', OK, '≥', 95, '%'),
    ('100%', OK, '＝', 100, '%'),
    ('0.95', OK, '＝', 0.95, ''),
    ('≥3', OK, '≥', 3, ''),
    ('≥95.00%', OK, '≥', 95, '%'),
    ('95%。', OK, '＝', 95, '%'),
    # qualitative
    ('达成预期指标', OK, '定性', None, ''),
    ('  部分达成预期指标并具有一定效果 ', OK, '定性', None, ''),
    ('未完成预期指标且效果较差', OK, '定性', None, ''),
    # unfilled
    ('', EMPTY, None, None, None),
    ('   ', EMPTY, None, None, None),
    ('\u3000', EMPTY, None, None, None),
    ('≥**%', PH, None, None, None),
    ('≥＊＊%', PH, None, None, None),
    ('__人', PH, None, None, None),
    ('＿＿本', PH, None, None, None),
    ('-', PH, None, None, None),
    ('—', PH, None, None, None),
    ('－', PH, None, None, None),
    ('——', PH, None, None, None),
    ('是/否', YN, None, None, None),
    (' 是 否 ', YN, None, None, None),
    # unparseable
    ('良好', BAD, None, None, None),
    ('≥abc', BAD, None, None, None),
    ('95%-100%', BAD, None, None, None),
    ('90%～95%', BAD, None, None, None),
    ('2人3天', BAD, None, None, None),
    ('>95%以上', BAD, None, None, None),
    ('完成率≥95%', BAD, None, None, None),
    ('95%以上完成', BAD, None, None, None),
    ('2人，负责全区党务活动的组织协调工作', BAD, None, None, None),
    ('≥%', BAD, None, None, None),
]


@pytest.mark.parametrize(('raw', 'status', 'symbol', 'number', 'unit'), CASES)
def test_real_spellings(raw, status, symbol, number, unit):
    result = parse_indicator_value(raw)
    assert result.status is status, result
    assert result.raw == raw
    if status is not OK:
        assert result.value is None
        assert bool(result.reason) == (status is BAD)
        return
    value = result.value
    assert (value.symbol, value.number, value.unit) == (symbol, number, unit)
    assert parse_indicator_value(value.display()).value == value


def test_case_table_is_large_enough():
    assert len(CASES) >= 45


@pytest.mark.parametrize(('raw', 'reason'), [
    ('良好', 'no number'),
    ('≥abc', 'no number'),
    ('完成率≥95%', 'unknown operator'),
    ('95%-100%', 'range'),
    ('2人3天', 'multiple numbers'),
    ('>95%以上', 'conflicting operators'),
    ('95%以上完成', 'misplaced operator'),
    (True, 'unsupported type'),
    (b'95%', 'unsupported type'),
    (dt.datetime(2021, 1, 1), 'unsupported type'),
    (float('nan'), 'not finite'),
    (float('inf'), 'not finite'),
])
def test_unparseable_reasons(raw, reason):
    result = parse_indicator_value(raw)
    assert (result.status, result.reason) == (BAD, reason)


@pytest.mark.parametrize(('raw', 'fmt', 'number', 'unit'), [
    (0.95, '0%', 95, '%'),
    (0.95, '0.00%', 95, '%'),
    (0.57, '0%', 57, '%'),
    (1, '0%', 100, '%'),
    (0.955, '0.0%', 95.5, '%'),
    (95, '0"%"', 95, '%'),
    (0.95, '', 0.95, ''),
    (2, '', 2, ''),
    (2, 'General', 2, ''),
    (1000, '#,##0', 1000, ''),
    (Decimal('0.85'), '0%', 85, '%'),
    (Fraction(1, 2), '0%', 50, '%'),
])
def test_numeric_cells(raw, fmt, number, unit):
    result = parse_indicator_value(raw, number_format=fmt)
    assert result.status is OK
    assert result.value == IndicatorValue('＝', number, unit)


def test_none_is_empty():
    assert parse_indicator_value(None) == ParseResult(EMPTY, None, '')


@pytest.mark.parametrize(('value', 'shown'), [
    (IndicatorValue('≥', 95.0, '%'), '≥95%'),
    (IndicatorValue('＝', 2.0, '人'), '2人'),
    (IndicatorValue('≤', 0.5, '%'), '≤0.5%'),
    (IndicatorValue('＞', 100.0, ''), '＞100'),
    (IndicatorValue('＜', 1e16, '元'), '＜10000000000000000元'),
    (IndicatorValue('定性', None, '', '达成预期指标'), '达成预期指标'),
])
def test_display(value, shown):
    assert value.display() == shown


@pytest.mark.parametrize(('number', 'text'), [
    (95.0, '95'), (0.5, '0.5'), (100.0, '100'), (-0.0, '0'), (1e-05, '0.00001'),
    (None, ''),
])
def test_format_number(number, text):
    assert format_number(number) == text


UNITS = ['%', '本', '人', '条', '万元', '天', '个工作日', '次/年', '元', '次', '', '人次', '㎡']
NUMBERS = st.floats(min_value=0, max_value=1e9, allow_nan=False,
                    allow_infinity=False).map(lambda x: round(x, 4))
QUANTITATIVE = st.builds(IndicatorValue, st.sampled_from(['≥', '＞', '＝', '＜', '≤']),
                         NUMBERS, st.sampled_from(UNITS))
QUALITATIVE = st.sampled_from(QUALITATIVE_TEXTS).map(lambda t: IndicatorValue('定性', None, '', t))


@given(st.one_of(QUANTITATIVE, QUALITATIVE))
def test_display_round_trips(value):
    result = parse_indicator_value(value.display())
    assert result.status is OK
    assert result.value == value


ANYTHING = st.one_of(
    st.text(),
    st.text(alphabet='≥≤＞＜＝><=0123456789０１２３４５６７８９.．,，%％ 以上下内及至多少不于*_-—人本'),
    st.integers(), st.floats(), st.booleans(), st.none(), st.binary(),
    st.datetimes(), st.dates(), st.decimals(), st.fractions(), st.complex_numbers(),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(), st.integers(), max_size=2),
    st.builds(object),
)


@settings(max_examples=500)
@given(ANYTHING, st.text(max_size=12))
def test_never_raises(raw, fmt):
    result = parse_indicator_value(raw, number_format=fmt)
    assert isinstance(result, ParseResult)
    assert isinstance(result.raw, str)
    assert (result.value is not None) == (result.status is OK)
    if result.status is OK and result.value.number is not None:
        assert math.isfinite(result.value.number)


@settings(max_examples=500)
@given(st.one_of(st.text(), ANYTHING))
def test_parsed_values_round_trip(raw):
    result = parse_indicator_value(raw)
    if result.status is OK:
        assert parse_indicator_value(result.value.display()).value == result.value


@pytest.mark.parametrize('fmt', [None, 5, b'0%', ['0%']])
def test_weird_number_format_argument_is_ignored(fmt):
    result = parse_indicator_value(0.5, number_format=fmt)  # type: ignore[arg-type]
    assert result.value == IndicatorValue('＝', 0.5, '')


def test_broken_str_does_not_raise():
    class Broken:
        def __str__(self):
            raise RuntimeError('boom')

    result = parse_indicator_value(Broken())
    assert (result.status, result.raw) == (BAD, '<Broken>')


# ---------------------------------------------------------------- minus signs, ranges, deadlines --------
@pytest.mark.parametrize('raw', ['−5%', '-5%', '－5%', '＝−5%'])
def test_minus_sign_spellings_read_as_negative(raw):
    # U+2212 (what Word and many input methods type) and the full-width minus are minus signs too.
    assert parse_indicator_value(raw).value == IndicatorValue('＝', -5.0, '%')


@pytest.mark.parametrize('raw', [
    '90%-95%', '95%−100%', '95%－100%', '90%～95%', '90%〜95%', '90%~95%', '90%至95%', '90%到95%',
    '90-95%', '≥90%-95%', '90%—95%', '3-5天', '3–5天',
])
def test_ranges_are_reported_as_ranges(raw):
    result = parse_indicator_value(raw)
    assert (result.status, result.reason) == (BAD, 'range')


@pytest.mark.parametrize(('raw', 'month'), [
    ('12月底前', 12), ('12月底', 12), ('12月底前完成', 12), ('6月底前', 6), ('6月末前', 6), ('1月底之前', 1),
    ('年底前', 12), ('年底前完成', 12), ('年末前', 12), ('≤12月底', 12), ('＜＝6月底前', 6), ('12月底前。', 12),
    ('１２月底前', 12),
])
def test_month_end_deadlines_read_as_at_most_that_month(raw, month):
    # The budget system takes a 时效 target as 计算符号 ≤ with a month: "by the end of June" is ≤6月.
    result = parse_indicator_value(raw)
    assert result.status is OK, result
    assert result.raw == raw
    assert result.value == IndicatorValue('≤', float(month), '月')
    assert result.value.display() == f'≤{month}月'


@pytest.mark.parametrize('raw', [
    '2021年12月31日前', '12月31日前', '6月30日之前', '2021年12月底前', '2022年6月前', '12月前',
    '13月底前', '0月底前', '≥12月底前', '12月15号前', '2021年底前',
])
def test_dates_and_odd_deadlines_get_the_deadline_reason(raw):
    result = parse_indicator_value(raw)
    assert (result.status, result.reason) == (BAD, 'deadline'), result
    assert (result.raw, result.value) == (raw, None)


@pytest.mark.parametrize(('raw', 'value'), [
    ('≤12月', IndicatorValue('≤', 12.0, '月')),
    ('12个月', IndicatorValue('＝', 12.0, '个月')),
    ('≤3个月', IndicatorValue('≤', 3.0, '个月')),
    ('30日内', IndicatorValue('≤', 30.0, '日')),
    ('≤30天', IndicatorValue('≤', 30.0, '天')),
])
def test_durations_are_not_deadlines(raw, value):
    assert parse_indicator_value(raw).value == value


# ---------------------------------------------------------------- 0.95 meant as 95% --------
@pytest.mark.parametrize(('raw', 'context', 'meant'), [
    ('0.95', '群众满意度', IndicatorValue('＝', 95.0, '%')),
    ('≥0.95', '验收合格率', IndicatorValue('≥', 95.0, '%')),
    ('≥0.9', '覆盖比例', IndicatorValue('≥', 90.0, '%')),
    ('1', '完成率', IndicatorValue('＝', 100.0, '%')),
    ('≥0.95%', '满意度', IndicatorValue('≥', 95.0, '%')),
    ('＞0.8%', '', IndicatorValue('＞', 80.0, '%')),
    ('0.98%', '知晓率', IndicatorValue('＝', 98.0, '%')),
    (0.95, '达标率', IndicatorValue('＝', 95.0, '%')),
    ('≥0.95', '占比（%）', IndicatorValue('≥', 95.0, '%')),
])
def test_fraction_in_a_percent_row_suggests_the_percentage(raw, context, meant):
    value = parse_indicator_value(raw).value
    assert probable_percent(value, context) == meant


@pytest.mark.parametrize(('raw', 'context'), [
    ('0.95', '印刷册数'),              # not a percent row: E112 alone says what is wrong
    ('≥95%', '满意度'),                 # already a percentage
    ('≤0.5%', '差错率'),                # a small ceiling is a real percentage
    ('＜1%', '投诉率'),
    ('≥1%', '增长率'),                  # exactly 1%: a real target, not 100%
    ('0', '完成率'),                    # zero is zero on either scale
    ('1.5', '完成率'),                  # above 1: not a fraction
    ('≥2人', '比例'),                   # a counted unit
    ('达成预期指标', '满意度'),
    ('-0.5', '增长率'),
    ('≥0%', '增长率'),
    ('≥0', '增长率'),
    ('＞1.01', '完成率'),
])
def test_no_percent_suggestion_where_the_value_is_plausible(raw, context):
    value = parse_indicator_value(raw).value
    assert probable_percent(value, context) is None


def test_no_percent_suggestion_without_a_value():
    assert probable_percent(None, '满意度') is None
    assert probable_percent(IndicatorValue('定性', None, '', '达成预期指标'), '满意度') is None


@pytest.mark.parametrize(('fmt', 'percent'), [
    ('0%', True), ('0.00%', True), ('0.0%;[Red]-0.0%', True), ('0"%"', False), ('0\\%', False),
    ('', False), ('General', False), ('#,##0.00', False), (None, False),
])
def test_is_percent_format(fmt, percent):
    assert is_percent_format(fmt) is percent


# ---------------------------------------------------------------- numbers the fast path cannot take --------
class _HalfInteger:
    """An Integral by registration whose int() fails: only float() works (the fallback path)."""

    def __float__(self):
        return 0.5

    def __int__(self):
        raise TypeError('no int')


numbers.Integral.register(_HalfInteger)


@pytest.mark.parametrize(('fmt', 'number', 'unit'), [('0%', 50.0, '%'), ('', 0.5, ''), ('0"%"', 0.5, '%')])
def test_numbers_that_only_convert_with_float(fmt, number, unit):
    assert parse_indicator_value(_HalfInteger(), number_format=fmt).value == IndicatorValue('＝', number, unit)


@pytest.mark.parametrize(('raw', 'reason'), [
    (Decimal('sNaN'), 'not a number'), (Decimal('NaN'), 'not finite'), (10 ** 400, 'not finite'),
    (Decimal('1e400'), 'not finite'),
])
def test_numbers_beyond_float(raw, reason):
    result = parse_indicator_value(raw)
    assert (result.status, result.reason) == (BAD, reason)


@pytest.mark.parametrize(('raw', 'number'), [(10 ** 20 + 1, 1e20), (123456789, 123456789.0), (-7, -7.0)])
def test_integers_read_as_their_float(raw, number):
    assert parse_indicator_value(raw).value == IndicatorValue('＝', number, '')


@pytest.mark.parametrize(('fmt', 'percent'), [
    ('0;-0%', False), ('0%;0', True), ('"%"0.00', False), ('0.0"pct"%', True), ('\\%0%', True), ('"a%b"0', False),
])
def test_percent_format_reads_only_the_positive_section_outside_quotes(fmt, percent):
    assert is_percent_format(fmt) is percent
    assert parse_indicator_value(0.5, number_format=fmt).value.number == (50 if percent else 0.5)


@pytest.mark.parametrize(('number', 'text'), [
    (120.0, '120'), (1e16, '10000000000000000'), (0.1, '0.1'), (12.50, '12.5'), (-3.0, '-3'), (1.0, '1'),
])
def test_format_number_more(number, text):
    assert format_number(number) == text


def test_a_number_too_long_for_float_is_not_finite():
    raw = '9' * 400 + '人'
    result = parse_indicator_value(raw)
    assert (result.status, result.reason, result.raw) == (BAD, 'not finite', raw)


@pytest.mark.parametrize(('unit', 'ok'), [('个' * 10, True), ('个' * 11, False), ('次/人·年', True)])
def test_unit_length_limit(unit, ok):
    result = parse_indicator_value('≥3' + unit)
    assert result.ok is ok
    if not ok:
        assert result.reason == 'unit too long'


def test_every_dash_kind_together_is_a_placeholder():
    assert parse_indicator_value('-—–―‐‑').status is PH


@pytest.mark.parametrize('raw', ['-0%', '−0', '＝-0.0人'])
def test_negative_zero_reads_as_zero(raw):
    assert math.copysign(1, parse_indicator_value(raw).value.number) == 1
    assert parse_indicator_value(raw).value.display().lstrip('＝').startswith('0')


@pytest.mark.parametrize(('raw', 'value'), [
    ('95%以上。', IndicatorValue('≥', 95.0, '%')), ('3天以内；', IndicatorValue('≤', 3.0, '天')),
    ('≥95%。。', IndicatorValue('≥', 95.0, '%')), ('5人及以下,', IndicatorValue('≤', 5.0, '人')),
    ('95%以上以上', IndicatorValue('≥', 95.0, '%')),  # two passes of suffix peeling
    ('5内内', IndicatorValue('≤', 5.0, '')),  # as many passes as characters
])
def test_suffixes_and_trailing_punctuation_peel_in_any_order(raw, value):
    assert parse_indicator_value(raw).value == value
