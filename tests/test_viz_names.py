"""draw_graph with names no one planned for: every text a user controls (tensor names, op class
names, keyword names and values, constants) reaches the drawing escaped, and the SVG that
Graphviz's real `dot` renders from it always parses as XML.

The rule the drawing follows: a name is drawn on one line as given, except that characters a
label cannot carry are shown as Python escapes (control characters, the line breaks among
them, lone surrogates, U+FFFE/U+FFFF); a name with nothing visible is drawn quoted (`''`);
a name that is not a string is drawn as its repr.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tinygrad_edu import Function, Tensor
from tinygrad_edu.viz import draw_graph, render_graph

SVG = "{http://www.w3.org/2000/svg}"


def svg_labels(svg: bytes | str) -> dict[str, str]:
    """Node name -> its label lines joined by "\\n", from SVG that must parse as XML (dot
    writes runs of spaces as no-break spaces: read back as spaces)."""
    root = ET.fromstring(svg)
    labels = {}
    for g in root.iter(f"{SVG}g"):
        if g.get("class") == "node":
            title = g.find(f"{SVG}title").text
            text = "\n".join(t.text or "" for t in g.iter(f"{SVG}text"))
            labels[title] = text.replace("\xa0", " ")
    return labels


def graph_label(svg: bytes | str) -> str:
    graph = ET.fromstring(svg).find(f"{SVG}g")
    return "\n".join(t.text or "" for t in graph.findall(f"{SVG}text"))


def rendered(root: Tensor, **options: Any) -> bytes:
    return draw_graph(root, **options).pipe(format="svg")


class Twice(Function):
    """2x, taking any extra constants and settings (a user's op)."""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray, *constants: Any, **settings: Any) -> np.ndarray:
        return 2 * x

    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> tuple[Any, ...]:
        return (2 * grad,) + (None,) * (len(ctx.inputs) - 1)


class BadRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr for you")


NAMES = [  # (name, how its label line reads)
    ("", "''"),
    ("   ", "'   '"),
    ("loss\n", "loss\\n"),
    ("\n", "\\n"),
    ("a\r\nb", "a\\r\\nb"),
    ("\t", "\\t"),
    ("tab\there", "tab\\there"),
    ("\x00", "\\x00"),
    ("nul\x00inside", "nul\\x00inside"),
    ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),
    ("bell\x07", "bell\\x07"),
    ("\x0b\x0c", "\\x0b\\x0c"),
    ("del\x7f", "del\\x7f"),
    ("next line\x85", "next line\\x85"),
    ("\ud800", "\\ud800"),
    ("x\udfffy", "x\\udfffy"),
    ("not a char \ufffe\uffff", "not a char \\ufffe\\uffff"),
    ("é 𝑊 Ω", "é 𝑊 Ω"),  # ordinary Unicode is drawn as is
    ('<W & "b"> ]]>', '<W & "b"> ]]>'),
    (5, "5"),
    (2.5, "2.5"),
    (b"W\x00", "b'W\\x00'"),
    (("W", 1), "('W', 1)"),
    (["W"], "['W']"),
    (BadRepr(), "<BadRepr>"),
]


@pytest.mark.parametrize("name, shown", NAMES, ids=[shown for _, shown in NAMES])
def test_any_tensor_name_draws_as_valid_svg(name: Any, shown: str) -> None:
    x = Tensor([1.0, 2.0], requires_grad=True, name=name)
    labels = svg_labels(rendered((x * 2).sum()))
    assert labels[f"t{id(x)}"] == f"{shown}\n(2,) float64"


def test_names_set_after_construction_are_drawn_the_same_way() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    x.name, y.name = "a\nb", 7
    labels = svg_labels(rendered(y))
    assert labels[f"t{id(x)}"] == "a\\nb\n(2,) float64"
    assert labels[f"t{id(y)}"] == "7\n(2,) float64"


@pytest.mark.parametrize("op_name, shown", [
    ("Odd\x1bName\n", "Odd\\x1bName\\n"), ("", "''"), (" ", "' '"), ("Tab\t", "Tab\\t"),
])
def test_any_op_class_name_draws_as_valid_svg(op_name: str, shown: str) -> None:
    op = type(op_name, (Twice,), {})
    x = Tensor([1.0, 2.0], requires_grad=True)
    out = op.apply(x)
    labels = svg_labels(rendered(out.sum()))
    assert labels[f"op{id(out._node)}"] == shown


def test_keyword_names_and_values_are_escaped() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    settings = {"\x1bkey": "a\x00b", "mode": "mean\n", "none": None, "empty": ""}
    out = Twice.apply(x, **settings)
    labels = svg_labels(rendered(out.sum()))
    assert labels[f"op{id(out._node)}"] == (
        "Twice\n\\x1bkey='a\\x00b', mode='mean\\n', none=None, empty=''"
    )


def test_constants_of_any_type_are_escaped() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    out = Twice.apply(x, "a\x00b", b"\x1b", None, {"k": 1}, BadRepr(), "\ud800")
    labels = svg_labels(rendered(out.sum()))
    constants = [labels[f"k{id(out._node)}_{i}"] for i in range(1, 7)]
    assert constants == ["'a\\x00b'", "b'\\x1b'", "None", "dict", "BadRepr", "'\\ud800'"]


def test_constants_that_are_huge_or_hold_themselves_draw_short() -> None:
    loop: list[Any] = []
    loop.append(loop)
    x = Tensor([1.0, 2.0], requires_grad=True)
    out = Twice.apply(x, loop, list(range(100_000)), size=10**5000)
    labels = svg_labels(rendered(out.sum()))
    assert labels[f"k{id(out._node)}_1"] == "[[[[…]]]]"
    many = labels[f"k{id(out._node)}_2"]
    assert many.startswith("[0, 1, 2, 3,") and many.endswith("…") and len(many) == 40
    assert labels[f"op{id(out._node)}"] == "Twice\nsize=≈2**16609"


def test_a_type_name_with_control_characters_is_escaped() -> None:
    odd = type("Odd\x07Type", (), {})
    x = Tensor([1.0, 2.0], requires_grad=True)
    out = Twice.apply(x, odd(), setting=odd())
    labels = svg_labels(rendered(out.sum()))
    assert labels[f"k{id(out._node)}_1"] == "Odd\\x07Type"
    assert labels[f"op{id(out._node)}"] == "Twice\nsetting=Odd\\x07Type"


def test_values_of_a_three_dimensional_tensor_draw() -> None:
    # numpy prints a blank line between the blocks of a 3-D array.
    x = Tensor(np.arange(6.0).reshape(2, 1, 3), requires_grad=True, name="x")
    labels = svg_labels(rendered((x * 2).sum(), show_values=True))
    lines = labels[f"t{id(x)}"].split("\n")
    assert lines[:2] == ["x", "(2, 1, 3) float64"]
    assert [line for line in lines[2:] if line.strip()] == ["[[[0., 1., 2.]],", " [[3., 4., 5.]]]"]


def test_repeats_with_odd_names_collapse_and_draw() -> None:
    op = type("Step\x1b\n", (Twice,), {})
    # Alike inputs of a user's op with many inputs, and a leaf with an unhashable name.
    leaves = [Tensor([1.0], requires_grad=True) for _ in range(12)]
    odd = Tensor([1.0], requires_grad=True, name=["w"])
    y = Sum.apply(*leaves, odd)
    for _ in range(30):
        y = op.apply(y)
    svg = rendered(y)
    labels = svg_labels(svg)
    groups = sorted(labels[n].split("\n")[0] for n in labels if n.startswith("more_"))
    assert groups == ["× 26 more Step\\x1b\\n", "× 8 more inputs like these"]
    assert labels[f"t{id(odd)}"] == "['w']\n(1,) float64"
    assert 'Repeats collapsed: 2 "× N more" node(s) stand for 26 ops.' in graph_label(svg)


def test_notes_naming_odd_ops_are_escaped() -> None:
    from tinygrad_edu.checks import Culprit, GradcheckReport

    op = type("Bad\x07Op", (Twice,), {})
    x = Tensor([1.0, 2.0], requires_grad=True)
    elsewhere = op.apply(x)
    report = GradcheckReport(
        inputs=[], culprits=[Culprit(elsewhere._node, "Bad\x07Op", 0, 0.5, "")],
        output=None, verdict="",
    )
    svg = rendered((x * 2).sum(), highlight=report)
    assert "and no Bad\\x07Op op is" in graph_label(svg).replace("\n", " ")
    svg = rendered(op.apply(x).sum(), highlight=report)
    assert "every Bad\\x07Op op is highlighted instead" in graph_label(svg).replace("\n", " ")


def test_max_nodes_summary_with_odd_op_names_is_escaped() -> None:
    op = type("Op\x1b", (Twice,), {})
    other = type("Other", (Twice,), {})
    y = Tensor([1.0], requires_grad=True)
    for _ in range(5):  # fewer repeats than collapsing needs
        y = other.apply(op.apply(y), 1.0)
        y = op.apply(y)
    svg = rendered(y, max_nodes=5)
    assert "Op\\x1b" in graph_label(svg)


def test_render_graph_writes_parseable_svg_for_odd_names(tmp_path: Path) -> None:
    x = Tensor([1.0, 2.0], requires_grad=True, name="\x00\ud800\n")
    written = render_graph((x * 2).sum(), tmp_path / "odd.svg")
    labels = svg_labels(Path(written).read_bytes())
    assert labels[f"t{id(x)}"] == "\\x00\\ud800\\n\n(2,) float64"


class Sum(Function):
    """The sum of any number of same-shape inputs."""

    @staticmethod
    def forward(ctx: Any, *xs: np.ndarray) -> np.ndarray:
        return np.sum(xs, axis=0)

    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> tuple[np.ndarray, ...]:
        return tuple(grad for _ in range(len(ctx.inputs)))
