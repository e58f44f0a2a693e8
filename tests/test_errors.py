"""Errors (diffi/errors.py): the rendering, spans, and the DiffiError family."""

import pytest

import diffi
from diffi.errors import (ArityError, DiffiError, DiffiNameError, DiffiSyntaxError,
                          DiffiTypeError, LimitError, ShapeError, Span, format_warning, render)
from diffi.language.parser import parse

SUBCLASSES = [DiffiSyntaxError, DiffiNameError, DiffiTypeError, ArityError, ShapeError,
              LimitError]


def located(error: DiffiError, source: str, filename: str = "model.dfi") -> str:
    """The error rendered against `source` in `filename`."""
    return error.locate(source, filename).render()


def parse_error(source: str) -> DiffiSyntaxError:
    with pytest.raises(DiffiSyntaxError) as info:
        parse(source)
    return info.value


# ----------------------------------------------------------------------------
# The format of an error


def test_render_matches_the_spec_example():
    error = DiffiNameError("name 'y' is not defined", Span(3, 9, 3, 10))
    assert located(error, "x = 1\nw = 2\nz = x + y\n") == (
        "error: name 'y' is not defined\n"
        " --> model.dfi:3:9\n"
        "  |\n"
        "3 | z = x + y\n"
        "  |         ^"
    )


def test_the_interpreter_renders_the_spec_example():
    with pytest.raises(DiffiNameError) as info:
        diffi.Interpreter().run("x = 1\nw = 2\nz = x + y\n", "model.dfi")
    assert info.value.render() == (
        "error: name 'y' is not defined\n"
        " --> model.dfi:3:9\n"
        "  |\n"
        "3 | z = x + y\n"
        "  |         ^"
    )


def test_caret_spans_the_whole_culprit():
    error = DiffiNameError("name 'foo' is not defined", Span(1, 5, 1, 8))
    assert located(error, "y = foo + 1") == (
        "error: name 'foo' is not defined\n"
        " --> model.dfi:1:5\n"
        "  |\n"
        "1 | y = foo + 1\n"
        "  |     ^^^"
    )


def test_caret_at_the_first_column():
    error = DiffiSyntaxError("oops", Span(1, 1, 1, 2))
    assert located(error, "x") == "error: oops\n --> model.dfi:1:1\n  |\n1 | x\n  | ^"


def test_gutter_widens_with_the_line_number():
    source = "\n".join(f"x{i} = {i}" for i in range(1, 10)) + "\ny = 2x\n"
    error = parse_error(source)
    assert located(error, source) == (
        "error: implicit multiplication is not supported: write 2*x\n"
        " --> model.dfi:10:6\n"
        "   |\n"
        "10 | y = 2x\n"
        "   |      ^"
    )


def test_tabs_are_kept_in_the_caret_line():
    source = "\tz = x + y"
    error = DiffiNameError("name 'y' is not defined", Span(1, 10, 1, 11))
    assert located(error, source) == (
        "error: name 'y' is not defined\n"
        " --> model.dfi:1:10\n"
        "  |\n"
        "1 | \tz = x + y\n"
        "  | \t        ^"
    )


def test_tabs_in_the_middle_of_a_line():
    source = "f(x) =\t{ a =\t2x; a }"
    error = parse_error(source)
    assert (error.line, error.column) == (1, 15)
    assert located(error, source).splitlines()[-2:] == [
        "1 | f(x) =\t{ a =\t2x; a }",
        "  |       \t     \t ^",
    ]


def test_syntax_error_rendered_at_the_last_line_without_a_newline():
    source = "x = 1\ny = 2x"
    error = parse_error(source)
    assert located(error, source) == (
        "error: implicit multiplication is not supported: write 2*x\n"
        " --> model.dfi:2:6\n"
        "  |\n"
        "2 | y = 2x\n"
        "  |      ^"
    )


def test_error_at_the_end_of_input_points_just_past_the_text():
    source = "x = 1\ny = x +"
    error = parse_error(source)
    assert (error.line, error.column) == (2, 8)
    assert located(error, source) == (
        f"error: {error.message}\n"
        " --> model.dfi:2:8\n"
        "  |\n"
        "2 | y = x +\n"
        "  |        ^"
    )


def test_unclosed_bracket_points_at_the_opener():
    source = "x = 1\ny = f(1,\n  2"
    error = parse_error(source)
    assert located(error, source) == (
        "error: '(' is never closed: expected ')'\n"
        " --> model.dfi:2:6\n"
        "  |\n"
        "2 | y = f(1,\n"
        "  |      ^"
    )


def test_windows_line_endings_are_not_shown():
    source = "x = 1\r\ny = 2x\r\n"
    error = parse_error(source)
    rendered = located(error, source)
    assert "\r" not in rendered
    assert rendered.splitlines()[-2:] == ["2 | y = 2x", "  |      ^"]


def test_span_wider_than_its_line_is_cut_at_the_line_end():
    error = DiffiError("too wide", Span(1, 5, 1, 40))
    assert located(error, "y = foo").splitlines()[-1] == "  |     ^^^"


def test_span_over_several_lines_marks_its_start():
    source = "y = [1,\n  2]"
    error = DiffiError("a vector", Span(1, 5, 2, 5))
    lines = located(error, source).splitlines()
    assert lines[:4] == ["error: a vector", " --> model.dfi:1:5", "  |", "1 | y = [1,"]
    caret = lines[4]
    assert caret.startswith("  |     ^")
    assert set(caret[len("  |     "):]) == {"^"} and len(caret) <= len("  | y = [1,")


def test_error_without_a_span_is_its_header_alone():
    error = DiffiError("the program is nested too deeply to parse")
    assert error.render() == "error: the program is nested too deeply to parse"
    assert located(error, "x = 1") == "error: the program is nested too deeply to parse"


def test_error_without_source_shows_its_location():
    error = DiffiTypeError("a number is not a function", Span(2, 3, 2, 4))
    lines = error.render().splitlines()
    assert lines[0] == "error: a number is not a function"
    assert lines[1].startswith(" --> ") and lines[1].endswith(":2:3")
    assert len(lines) == 2


def test_span_past_the_source_shows_its_location_only():
    error = DiffiError("somewhere", Span(5, 1, 5, 2))
    assert located(error, "x = 1\ny = 2\n") == "error: somewhere\n --> model.dfi:5:1"


def test_locate_keeps_the_innermost_source():
    error = DiffiNameError("name 'q' is not defined", Span(1, 1, 1, 2))
    error.locate("q + 1", "inner.dfi")
    error.locate("f(3)", "outer.dfi")
    assert error.render().splitlines()[1:4] == [" --> inner.dfi:1:1", "  |", "1 | q + 1"]


def test_render_function_takes_the_level():
    text = render("warning", "derivative of sqrt is infinite at 0", Span(1, 6, 1, 10),
                  "y = sqrt(x)", "f.dfi")
    assert text == ("warning: derivative of sqrt is infinite at 0\n"
                    " --> f.dfi:1:6\n"
                    "  |\n"
                    "1 | y = sqrt(x)\n"
                    "  |      ^^^^")


def test_format_warning_matches_the_spec():
    message = "derivative of sqrt is infinite at 0"
    # The documented form: `warning: derivative of sqrt is infinite at 0 (line 3, column 9)`;
    # the `warning: ` prefix is the printer's, the rest is format_warning's.
    assert format_warning(message, Span(3, 9, 3, 13)) == (
        "derivative of sqrt is infinite at 0 (line 3, column 9)")
    assert format_warning(message, None) == message


# ----------------------------------------------------------------------------
# The DiffiError family


@pytest.mark.parametrize("cls", SUBCLASSES)
def test_every_error_is_a_diffi_error_with_line_and_column(cls):
    error = cls("what went wrong", Span(4, 7, 4, 9))
    assert isinstance(error, DiffiError) and isinstance(error, Exception)
    assert (error.line, error.column) == (4, 7)
    assert error.message == "what went wrong"
    assert error.span == Span(4, 7, 4, 9)
    text = str(error)
    assert "what went wrong" in text and "line 4" in text and "column 7" in text
    with pytest.raises(DiffiError):
        raise error


@pytest.mark.parametrize("cls", SUBCLASSES + [DiffiError])
def test_errors_without_a_span_still_have_a_line_and_column(cls):
    error = cls("no place")
    assert isinstance(error.line, int) and isinstance(error.column, int)
    assert str(error) == "no place"


def test_shape_and_arity_errors_are_type_errors():
    assert issubclass(ShapeError, DiffiTypeError)
    assert issubclass(ArityError, DiffiTypeError)
    assert not issubclass(LimitError, DiffiTypeError)
    assert not issubclass(DiffiNameError, DiffiTypeError)
    assert not issubclass(DiffiSyntaxError, DiffiTypeError)


def test_each_kind_is_distinct():
    kinds = {cls.kind for cls in SUBCLASSES}
    assert len(kinds) == len(SUBCLASSES)
    assert DiffiSyntaxError.kind == "syntax" and LimitError.kind == "limit"


def test_the_package_exports_the_errors():
    for cls in SUBCLASSES + [DiffiError]:
        assert getattr(diffi, cls.__name__) is cls


def test_syntax_errors_are_complete_unless_a_bracket_is_open():
    assert DiffiSyntaxError("x").incomplete is False
    assert parse_error("x = )").incomplete is False
    assert parse_error("x = (").incomplete is True


def test_parse_errors_carry_line_and_column():
    error = parse_error("x = 1\n\ny = 1 +* 2")
    assert isinstance(error, DiffiError)
    assert (error.line, error.column) == (3, 8)
    assert "(line 3, column 8)" in str(error)

