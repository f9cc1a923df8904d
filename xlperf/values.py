"""Parse free-form 指标值 cells into 计算符号 + number + 计量单位 (IndicatorValue)."""
from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

GE, GT, EQ, LT, LE, QUALITATIVE = '≥', '＞', '＝', '＜', '≤', '定性'
SYMBOLS = (GE, GT, EQ, LT, LE, QUALITATIVE)
QUALITATIVE_TEXTS = ('达成预期指标', '部分达成预期指标并具有一定效果', '未完成预期指标且效果较差')
MAX_UNIT_LEN = 10

# Prefix operators, matched after full-width -> half-width folding and whitespace removal.
_PREFIX_OPS = {
    '>=': GE, '=>': GE, '≥': GE, '≧': GE, '≥=': GE,
    '不低于': GE, '不少于': GE, '不小于': GE, '大于等于': GE, '大于或等于': GE, '至少': GE,
    '<=': LE, '=<': LE, '≤': LE, '≦': LE, '≤=': LE,
    '不高于': LE, '不超过': LE, '不多于': LE, '不大于': LE, '小于等于': LE, '小于或等于': LE,
    '至多': LE,
    '>': GT, '大于': GT, '高于': GT, '超过': GT, '多于': GT,
    '<': LT, '小于': LT, '低于': LT, '少于': LT, '不足': LT,
    '==': EQ, '=': EQ, '等于': EQ,
}
_SUFFIX_OPS = {
    '及以上': GE, '或以上': GE, '以上': GE,
    '及以下': LE, '或以下': LE, '以下': LE, '及以内': LE, '以内': LE, '之内': LE, '内': LE,
}
_PREFIXES = sorted(_PREFIX_OPS, key=len, reverse=True)
_SUFFIXES = sorted(_SUFFIX_OPS, key=len, reverse=True)
# Text that must never survive inside a unit: it means an operator sat in the wrong place.
_OPERATOR_FRAGMENTS = ('<', '>', '=', '≥', '≤', '≧', '≦', '以上', '以下', '以内',
                       *(w for w in _PREFIX_OPS if len(w) > 1 and not w.isascii()))

_FOLD = {i: i - 0xFEE0 for i in range(0xFF01, 0xFF5F)}  # full-width ASCII block
_FOLD.update({0x3000: ' ', 0x2212: '-'})  # U+2212 MINUS SIGN is what Word and many IMEs type
_INVISIBLE = dict.fromkeys(map(ord, '\u200b\u200c\u200d\u2060\ufeff'))
_NUMBER = re.compile(r'([+-]?)(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)')
_DIGIT = re.compile(r'\d')
_QUOTED = re.compile(r'"[^"]*"|\\.')  # literal text in a number format: "…" or a backslash-escaped character
_DASHES = set('-—–―‐‑')
_YESNO = {'是否', '是/否', '是或否', '是\\否', '是、否'}
_RANGE_MARKS = set('-~—–〜∼至到')
_TRAILING_PUNCT = '。.;；,，、'
# Deadlines. The budget system takes a 时效 target as 计算符号 + number + unit, so "by the end of
# June" is ≤6月; a calendar date (or a year) has no such form and is refused with advice instead.
_BEFORE = '(?:前|之前|以前)?(?:完成)?'
_MONTH_END = re.compile(rf'(\d+)月(?:底|末){_BEFORE}')
_YEAR_END = re.compile(rf'年(?:底|末){_BEFORE}')
_DATE_LIKE = re.compile(r'\d+年|\d+月\d+[日号]|\d+月(?:底|末|前|之前|以前)|年(?:底|末)')
_DEADLINE_SYMBOLS = ('', LE, LT)
# A row whose indicator speaks of a rate or share: a bare 0.95 there is a percentage written as a fraction.
_PERCENT_WORDS = ('率', '%', '％', '比例', '占比', '百分', '满意度')


@dataclass(frozen=True)
class IndicatorValue:
    """One 指标值: 计算符号, number and 计量单位 (or canonical text for 定性)."""

    symbol: str
    number: float | None
    unit: str
    text: str = ''

    def display(self) -> str:
        """Canonical spelling: '≥95%', '2人' (＝ omitted), or the 定性 text."""
        if self.symbol == QUALITATIVE:
            return self.text
        prefix = '' if self.symbol == EQ else self.symbol
        return f'{prefix}{format_number(self.number)}{self.unit}'


class ValueStatus(Enum):
    OK = 'ok'
    EMPTY = 'empty'
    PLACEHOLDER = 'placeholder'
    YESNO = 'yesno'
    UNPARSEABLE = 'unparseable'


@dataclass(frozen=True)
class ParseResult:
    status: ValueStatus
    value: IndicatorValue | None
    raw: str
    reason: str = ''

    @property
    def ok(self) -> bool:
        return self.status is ValueStatus.OK


def format_number(number: float | None) -> str:
    """Shortest plain decimal spelling without exponent or trailing zeros."""
    if number is None:
        return ''
    text = format(Decimal(repr(float(number))).normalize(), 'f')
    return '0' if text == '-0' else text


def parse_indicator_value(raw: object, *, number_format: str = '') -> ParseResult:
    """Classify and parse one 指标值 cell; never raises."""
    raw_text = _safe_str(raw)
    if raw is None:
        return ParseResult(ValueStatus.EMPTY, None, raw_text)
    if isinstance(raw, str):
        return _parse_text(raw)
    if isinstance(raw, bool) or not isinstance(raw, (numbers.Real, Decimal)):
        return _fail(raw_text, 'unsupported type')
    return _parse_cell_number(raw, raw_text, number_format)


def _safe_str(raw: object) -> str:
    if raw is None:
        return ''
    try:
        return str(raw)
    except Exception:  # arbitrary objects may have a broken __str__
        return f'<{type(raw).__name__}>'


def _fail(raw_text: str, reason: str) -> ParseResult:
    return ParseResult(ValueStatus.UNPARSEABLE, None, raw_text, reason)


def _ok(raw_text: str, symbol: str, number: float, unit: str) -> ParseResult:
    value = IndicatorValue(symbol, number + 0.0, unit)  # + 0.0 turns -0.0 into 0.0
    return ParseResult(ValueStatus.OK, value, raw_text)


def _parse_cell_number(raw: object, raw_text: str, number_format: str) -> ParseResult:
    scale, unit = _percent_kind(number_format) if isinstance(number_format, str) else (0, '')
    try:
        number = float(_exact(raw).scaleb(scale))
    except Exception:  # signalling NaN, Fractions, exotic Real subclasses
        try:
            number = float(raw) * 10 ** scale
        except Exception:
            return _fail(raw_text, 'not a number')
    if not math.isfinite(number):
        return _fail(raw_text, 'not finite')
    return _ok(raw_text, EQ, number, unit)


def _exact(raw: object) -> Decimal:
    """Decimal with the digits a user sees, so 0.57 scales to 57 and not 56.99999999999999."""
    if isinstance(raw, Decimal):
        return raw
    if isinstance(raw, numbers.Integral):
        return Decimal(int(raw))
    return Decimal(float.__repr__(float(raw)))


def _percent_kind(number_format: str) -> tuple[int, str]:
    """(decimal scale, unit) implied by an Excel number format's positive section."""
    section = number_format.partition(';')[0]
    if any('%' in part for part in _QUOTED.split(section)):
        return 2, '%'
    if '%' in section:  # literal '%' ("%" or \%) is shown but does not scale
        return 0, '%'
    return 0, ''


def _normalise(text: str) -> str:
    folded = text.translate(_FOLD).translate(_INVISIBLE)
    return ''.join(folded.split())


def _parse_text(raw: str) -> ParseResult:
    text = _normalise(raw)
    if not text:
        return ParseResult(ValueStatus.EMPTY, None, raw)
    if text in QUALITATIVE_TEXTS:
        value = IndicatorValue(QUALITATIVE, None, '', text)
        return ParseResult(ValueStatus.OK, value, raw)
    if text in _YESNO:
        return ParseResult(ValueStatus.YESNO, None, raw)
    if '*' in text or '_' in text or set(text) <= _DASHES:
        return ParseResult(ValueStatus.PLACEHOLDER, None, raw)
    if _DATE_LIKE.search(text):
        return _parse_deadline(raw, text)
    return _parse_quantity(raw, text)


def _parse_deadline(raw: str, text: str) -> ParseResult:
    """'12月底前' / '年底前' -> ≤12月; any other date-like spelling fails with reason 'deadline'."""
    symbol, rest = _strip_prefix(text.rstrip(_TRAILING_PUNCT))
    if symbol in _DEADLINE_SYMBOLS:
        month = _MONTH_END.fullmatch(rest)
        if month and 1 <= int(month.group(1)) <= 12:
            return _ok(raw, LE, float(month.group(1)), '月')
        if _YEAR_END.fullmatch(rest):
            return _ok(raw, LE, 12.0, '月')
    return _fail(raw, 'deadline')


def _parse_quantity(raw: str, text: str) -> ParseResult:
    prefix_symbol, rest = _strip_prefix(text)
    match = _NUMBER.match(rest)
    if match is None:
        return _fail(raw, 'unknown operator' if _DIGIT.search(rest) else 'no number')
    unit, suffix_symbols = _strip_suffixes(rest[match.end():])
    problem = _unit_problem(unit)
    if problem:
        return _fail(raw, problem)
    symbols = {s for s in (prefix_symbol, *suffix_symbols) if s}
    if len(symbols) > 1:
        return _fail(raw, 'conflicting operators')
    number = float(match.group(1) + match.group(2).replace(',', ''))
    if not math.isfinite(number):
        return _fail(raw, 'not finite')
    return _ok(raw, symbols.pop() if symbols else EQ, number, unit)


def _strip_prefix(text: str) -> tuple[str, str]:
    for word in _PREFIXES:
        if text.startswith(word):
            return _PREFIX_OPS[word], text[len(word):]
    return '', text


def _strip_suffixes(unit: str) -> tuple[str, list[str]]:
    """Peel trailing punctuation and 以上/以内-style words until nothing changes."""
    found: list[str] = []
    for _ in range(len(unit) + 1):  # each pass removes at least one character, or stops
        before = unit
        unit = unit.rstrip(_TRAILING_PUNCT)
        for word in _SUFFIXES:
            if unit.endswith(word):
                found.append(_SUFFIX_OPS[word])
                unit = unit[:-len(word)]
                break
        if unit == before:
            break
    return unit, found


def _unit_problem(unit: str) -> str:
    if _DIGIT.search(unit):
        return 'range' if set(unit) & _RANGE_MARKS else 'multiple numbers'
    if any(fragment in unit for fragment in _OPERATOR_FRAGMENTS):
        return 'misplaced operator'
    if len(unit) > MAX_UNIT_LEN:
        return 'unit too long'
    return ''


def is_percent_format(number_format: object) -> bool:
    """True when an Excel number format shows a cell's number multiplied by 100 (0.25 as 25%)."""
    return isinstance(number_format, str) and _percent_kind(number_format)[0] == 2


def probable_percent(value: IndicatorValue | None, context: str) -> IndicatorValue | None:
    """The percentage a fraction probably meant (≥0.95 in a 满意度 row -> ≥95%), or None.

    *context* is the rest of the indicator's row (its name and description). A unitless number in
    (0, 1] counts in a row that speaks of a rate or share; a percentage under 1% counts anywhere
    when it is a floor or an exact target (a ceiling such as ≤0.5% is a real small percentage).
    """
    if value is None or value.number is None:  # nothing typed, or a 定性 text
        return None
    n = value.number
    if value.unit == '':
        likely = 0 < n <= 1 and any(word in context for word in _PERCENT_WORDS)
    elif value.unit == '%':
        likely = 0 < n < 1 and value.symbol in (GE, GT, EQ)
    else:
        return None
    return IndicatorValue(value.symbol, float(_exact(n).scaleb(2)), '%') if likely else None
