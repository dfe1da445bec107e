"""Reading a getAttributes answer's numbers and booleans from its text: exactly what each value's own ``toString()``
says, and nothing at all (the ordinary read then) when the text is not exactly the requested attributes."""

from __future__ import annotations

import math

import pytest

from exporter.sources.jmx.values import PlainList, plain_values

PLAIN = PlainList((("Count", False), ("Rate", False), ("Running", True)))


@pytest.mark.parametrize(("text", "values"), [
    ("[Count = 12, Rate = 1.5, Running = true]", {"Count": 12, "Rate": 1.5, "Running": True}),
    ("[Count = -3, Rate = 1.0E10, Running = false]", {"Count": -3, "Rate": 1e10, "Running": False}),
    ("[Count = 9223372036854775807, Rate = 4.9E-324, Running = null]",
     {"Count": 2**63 - 1, "Rate": 5e-324, "Running": None}),
    ("[Count = null, Rate = -Infinity, Running = true]", {"Count": None, "Rate": -math.inf, "Running": True}),
    # A value is typed by its text, as the class behind it wrote it: a Long in an attribute declared double.
    ("[Count = 5.0, Rate = 5, Running = true]", {"Count": 5.0, "Rate": 5, "Running": True}),
])  # fmt: skip
def test_numbers_and_booleans_are_read_as_their_classes_write_them(text: str, values: dict[str, object]) -> None:
    got = plain_values(text, PLAIN)
    assert got == values
    assert got is not None and {name: type(value) for name, value in got.items()} == {
        name: type(value) for name, value in values.items()}


def test_nan_is_read() -> None:
    got = plain_values("[Count = 1, Rate = NaN, Running = true]", PLAIN)
    assert got is not None and math.isnan(got["Rate"])  # type: ignore[arg-type]


@pytest.mark.parametrize("text", [
    "[Count = 12, Running = true]",  # the server left one out (its getter threw)
    "[Count = 12, Running = true, Rate = 1.5]",  # another order
    "[Count = 12, Rate = 1.5, Running = true, Extra = 1]",
    "[Count = 12, Rate = 1.5, Running = yes]",  # not what Boolean writes
    "[Count = 12, Rate = 1.5, Running = 1]",
    "[Count = twelve, Rate = 1.5, Running = true]",  # a value of another class
    "[Count = 1e5, Rate = 1.5, Running = true]",  # Python's spelling, not Java's
    "[Count = 1_000, Rate = 1.5, Running = true]",
    "[Count = inf, Rate = 1.5, Running = true]",
    "[Count = 12, Rate = 1.5, Running = true, Name = a, b]",
    "[Count = 1, 2, Rate = 1.5, Running = true]",
    "[Count = {a=1}, Rate = 1.5, Running = true]",  # a map's text
    "[null, Rate = 1.5, Running = true]",  # a null element
    "[Counter = 12, Rate = 1.5, Running = true]",  # a name that only starts like the requested one
    "[Count=12, Rate = 1.5, Running = true]",
    "Count = 12, Rate = 1.5, Running = true",
    "[]",
])  # fmt: skip
def test_anything_else_is_left_to_the_ordinary_read(text: str) -> None:
    assert plain_values(text, PLAIN) is None


@pytest.mark.parametrize(("plain", "text", "values"), [
    # Names are matched as written, whatever they hold.
    ((("a.b(c)+", False), ("[x]", True)), "[a.b(c)+ = 1, [x] = true]", {"a.b(c)+": 1, "[x]": True}),
    ((("One, Two", False),), "[One, Two = 2.5]", {"One, Two": 2.5}),
    # NaN and Infinity beside other values: each typed as its class wrote it.
    ((("A", False), ("B", False), ("C", True), ("D", False)), "[A = NaN, B = 7, C = null, D = Infinity]",
     {"A": math.nan, "B": 7, "C": None, "D": math.inf}),
])  # fmt: skip
def test_any_attribute_names_and_every_kind_of_value(
    plain: tuple[tuple[str, bool], ...], text: str, values: dict[str, object]
) -> None:
    got = plain_values(text, PlainList(plain))
    assert got is not None and list(got) == list(values)
    for name, want in values.items():
        value = got[name]
        assert type(value) is type(want)
        assert value == want or (isinstance(want, float) and math.isnan(want) and math.isnan(value))  # type: ignore[arg-type]
