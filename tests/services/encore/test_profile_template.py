"""The SpEL subset of Encore profile templates: values, null handling, refusals, and fuzzing."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mediaplane.services.encore.profiles.template import TemplateError, evaluate, render_template

JOB: dict[str, Any] = {
    "baseName": "film",
    "priority": 40,
    "profile": "program",
    "duration": 12.5,
    "seekTo": None,
    "externalId": None,
    "profileParams": {"fps": 50, "height": 720, "empty": "", "nothing": None, "flag": "yes", "nested": {"a": 1}},
    "inputs": [{"uri": "/media/in.mp4", "type": "AudioVideo"}],
}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("profileParams['fps'] ?: 25", 50),
        ("profileParams['missing'] ?: 25", 25),
        ("profileParams['nothing'] ?: 25", 25),
        ("profileParams['empty'] ?: 'fallback'", "fallback"),
        ("profileParams['keyframes']?:'expr:not(mod(n,96))'", "expr:not(mod(n,96))"),
        ('profileParams["height"]', 720),
        ("profileParams['missing']", None),
        ("profileParams['x'] != null ? profileParams['x'] : 'y'", "y"),
        ("profileParams['fps'] != null ? profileParams['fps'] : 'y'", 50),
        ("profileParams['fps'] > 30 ? 5000 : 3000", 5000),
        ("profileParams['fps'] <= 30 ? 5000 : 3000", 3000),
        ("profileParams['height'] * 2", 1440),
        ("profileParams['height'] / 7", 102),
        ("-7 / 2", -3),
        ("-7 % 3", -1),
        ("7.0 / 2", 3.5),
        ("1 + 2 * 3 - 4 % 3", 6),
        ("(1 + 2) * 3", 9),
        ("10 div 4 + 10 mod 4", 4),
        ("2.5e2", 250.0),
        ("'it''s'", "it's"),
        ('"say ""hi"""', 'say "hi"'),
        ("baseName + '_' + priority", "film_40"),
        ("'x' + null", "xnull"),
        ("true and !false", True),
        ("true && not true", False),
        ("false or 1 < 2", True),
        ("false || false", False),
        ("profileParams['flag'] and true", True),
        ("1 == 1.0", True),
        ("'1' == 1", False),
        ("null == null", True),
        ("null != 'a'", True),
        ("null < 1", True),
        ("'abc' lt 'abd'", True),
        ("3 ge 3 and 3 le 3 and 2 eq 2 and 2 ne 3 and 4 gt 1", True),
        ("baseName", "film"),
        ("priority >= 40", True),
        ("profile", "program"),
        ("duration * 2", 25.0),
        ("seekTo ?: 0", 0),
        ("externalId?.anything", None),
        ("externalId ?: baseName", "film"),
        ("profileParams.nested.a", 1),
        ("profileParams?.nested?.b", None),
        ("profileParams?.['fps']", 50),
        ("inputs[0]['uri']", "/media/in.mp4"),
        ("'abc'[1]", "b"),
        ("true ? 'a' : false ? 'b' : 'c'", "a"),
        ("null ?: null ?: 'last'", "last"),
        ("TRUE", True),
    ],
)
def test_expressions(expression: str, expected: Any) -> None:
    value = evaluate(expression, JOB)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("T(java.lang.Runtime).getRuntime().exec('id')", "type references"),
        ("new java.io.File('/etc/passwd')", "constructors"),
        ("baseName.length()", "method calls"),
        ("baseName.toString()", "method calls"),
        ("getClass()", "method calls"),
        ("#root", "variables"),
        ("#this.baseName", "variables"),
        ("@someBean", "bean references"),
        ("{1, 2}", "inline lists"),
        ("2 ^ 10", "power"),
        ("priority = 3", "assignment"),
        ("priority instanceof T(Integer)", "instanceof"),
        ("baseName matches 'f.*'", "matches"),
        ("1 +", "unexpected end"),
        ("1 2", "unexpected 2 after a complete expression"),
        ("'open", "unterminated string"),
        ("(1", "expected ')'"),
        ("unknown", "unknown property 'unknown'"),
        ("'a' * 3", "operator '*'"),
        ("'a' - 1", "operator '-'"),
        ("1 / 0", "division by zero"),
        ("5 % 0", "division by zero"),
        ("1 < 'a'", "cannot compare"),
        ("priority ? 1 : 2", "expected a boolean"),
        ("null and true", "expected a boolean"),
        ("!priority", "expected a boolean"),
        ("-baseName", "needs a number"),
        ("seekTo.x", "of null"),
        ("seekTo['x']", "cannot index into null"),
        ("baseName.x", "of String"),
        ("inputs[3]", "out of bounds"),
        ("inputs['a']", "must be an integer"),
        ("99999999999999999999", "too large"),
        ("9223372036854775807 + 1", "overflow"),
        ("a ~ b", "unexpected character"),
        ("", "empty"),
    ],
)
def test_refused(expression: str, reason: str) -> None:
    with pytest.raises(TemplateError) as caught:
        evaluate(expression, JOB)
    assert reason in str(caught.value)
    assert caught.value.expression == expression


def test_error_names_position() -> None:
    with pytest.raises(TemplateError) as caught:
        evaluate("baseName + T(java.lang.System)", JOB)
    assert caught.value.position == 11
    assert "at position 11" in str(caught.value)


@pytest.mark.parametrize("expression", ["(" * 200 + "1" + ")" * 200, "!" * 500 + "true", "+".join(["1"] * 3000)])
def test_deep_expressions_refused_not_crashing(expression: str) -> None:
    with pytest.raises(TemplateError, match=r"too deeply|too complex"):
        evaluate(expression, JOB)


def test_render_substitutes_and_formats() -> None:
    text = (
        "fps: #{profileParams['fps'] ?: 25}\n"
        "r: #{profileParams['missing'] ?: 25}\n"
        "quoted: '#{baseName}'\n"
        "nothing: #{externalId}\n"
        "float: #{duration}\n"
        "bool: #{priority > 10}\n"
        "braces: #{'{x}' + '}'}\n"
        "plain: no expressions # {here} or #here\n"
    )
    assert render_template(text, JOB) == (
        "fps: 50\nr: 25\nquoted: 'film'\nnothing: \nfloat: 12.5\nbool: true\nbraces: {x}}\n"
        "plain: no expressions # {here} or #here\n"
    )


def test_render_java_like_values() -> None:
    context = {"a": 25, "b": 25.0, "c": None, "d": False, "e": [1, "x"], "f": {"k": None}, "g": float("inf")}
    assert render_template("#{a} #{b} [#{c}] #{d} #{e} #{f} #{g} #{1/0.0 * -1}", context) == (
        "25 25.0 [] false [1, x] {k=null} Infinity -Infinity"
    )


def test_render_several_lines_and_text_around() -> None:
    assert render_template("", JOB) == ""
    assert render_template("no templates", JOB) == "no templates"
    assert render_template("#{1}#{2}", JOB) == "12"


@pytest.mark.parametrize(
    ("text", "reason", "line"),
    [
        ("a: 1\nb: #{profileParams['fps']", "no closing '}'", 2),
        ("x: #{'unterminated}", "unterminated string", 1),
        ("x: #{}", "no expression", 1),
        ("x: #{   }", "no expression", 1),
        ("x: #{ (1 }", "does not match", 1),
        ("x: #{ 1) }", "without an opening", 1),
        ("\n\nx: #{T(java.lang.Runtime)}", "type references", 3),
        ("x: #{profileParams['fps'] > 'a'}", "cannot compare", 1),
    ],
)
def test_render_errors_say_where(text: str, reason: str, line: int) -> None:
    with pytest.raises(TemplateError) as caught:
        render_template(text, JOB)
    assert reason in str(caught.value)
    assert f"template line {line}," in str(caught.value)
    assert isinstance(caught.value, ValueError)


_FRAGMENTS = st.sampled_from(
    [
        "#{", "}", "{", "(", ")", "[", "]", "'", '"', "''", "?:", "?", ":", "?.", ".", "!", "==", "<", ">=", "+", "-",
        "*", "/", "%", " and ", " or ", "not ", "null", "true", "1", "2.5", "0", "profileParams", "['fps']",
        "baseName", "T(", "new ", "#", "\n", " ",
    ]
)  # fmt: skip


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_FRAGMENTS | st.text(max_size=4), max_size=40).map("".join))
def test_fuzz_render_only_template_errors(text: str) -> None:
    try:
        result = render_template(text, JOB)
    except TemplateError:
        return
    assert isinstance(result, str)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_FRAGMENTS | st.text(max_size=3), max_size=30).map("".join))
def test_fuzz_evaluate_only_template_errors(expression: str) -> None:
    with contextlib.suppress(TemplateError):
        evaluate(expression, JOB)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_fuzz_arbitrary_text(text: str) -> None:
    try:
        render_template(text, JOB)
        evaluate(text, JOB)
    except TemplateError:
        pass
