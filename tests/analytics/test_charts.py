"""Server-side SVG charts: well-formed, accessible, escaped, and drawn to scale."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable

import pytest
from django.utils.safestring import SafeString

from lotse.analytics import charts
from lotse.analytics.charts import (
    bar_chart,
    contrast_ratio,
    format_count,
    format_number,
    heat_map,
    line_chart,
    nice_ticks,
    sankey,
    text_colour_on,
)

SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}"
NASTY = "<b>Tom & \"Jerry\" 'n' </title><script>x</script>"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own output


def by_id(root: ET.Element, element_id: str) -> ET.Element:
    found = [el for el in root.iter() if el.get("id") == element_id]
    assert len(found) == 1, element_id
    return found[0]


def texts(el: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in el.iter(f"{SVG}text")]


def make_bar(chart_id: str = "bars", **kw: object) -> str:
    args: dict = {"title": "T", "description": "D", "labels": ["a", "b"], "values": [1, 2]}
    return bar_chart(chart_id=chart_id, **{**args, **kw})


def make_line(chart_id: str = "lines", **kw: object) -> str:
    args: dict = {"title": "T", "description": "D", "x_labels": ["Q1", "Q2", "Q3"]}
    args["series"] = [("A", [1, 2, 3])]
    return line_chart(chart_id=chart_id, **{**args, **kw})


def make_heat(chart_id: str = "heat", **kw: object) -> str:
    args: dict = {"title": "T", "description": "D", "row_labels": ["r1", "r2"]}
    args |= {"col_labels": ["c1", "c2"], "values": [[1, 2], [3, None]]}
    return heat_map(chart_id=chart_id, **{**args, **kw})


def make_sankey(chart_id: str = "flow", **kw: object) -> str:
    args: dict = {"title": "T", "description": "D", "stages": [["A", "B"], ["X", "Y"]]}
    args["flows"] = [(0, "A", "X", 30), (0, "A", "Y", 10), (0, "B", "Y", 20)]
    return sankey(chart_id=chart_id, **{**args, **kw})


BUILDERS: list[Callable[..., str]] = [make_bar, make_line, make_heat, make_sankey]


# -- common ------------------------------------------------------------------------------


@pytest.mark.parametrize("build", BUILDERS)
def test_root_is_accessible_svg(build: Callable[..., str]) -> None:
    out = build("my-chart-1", title="Fälle & Träger", description="Beschreibung <kurz>")
    assert isinstance(out, SafeString)
    root = parse(out)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("focusable") == "false"
    assert root.get("width") == "100%"
    assert root.get("preserveAspectRatio") == "xMinYMin meet"
    assert re.fullmatch(r"0 0 \d+(\.\d+)? \d+(\.\d+)?", root.get("viewBox", ""))
    title, desc = list(root)[:2]
    assert (title.tag, desc.tag) == (f"{SVG}title", f"{SVG}desc")
    assert title.text == "Fälle & Träger" and desc.text == "Beschreibung <kurz>"
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert title.get("id") == "my-chart-1-title"
    for el in root.iter():  # nothing WeasyPrint cannot draw, nothing executable
        assert el.tag.removeprefix(SVG) not in {"foreignObject", "script", "style", "filter"}
        assert "class" not in el.attrib and "style" not in el.attrib


@pytest.mark.parametrize("build", BUILDERS)
@pytest.mark.parametrize("bad", ["", "1chart", "Chart", "a b", "a_b", 'a"><script>'])
def test_chart_id_is_validated(build: Callable[..., str], bad: str) -> None:
    with pytest.raises(ValueError, match="chart_id"):
        build(bad)


@pytest.mark.parametrize("build", BUILDERS)
def test_data_labels_are_escaped_and_round_trip(build: Callable[..., str]) -> None:
    label = NASTY + "\x00\x1f"
    kw: dict = {
        make_bar: {"labels": [label, "b"]},
        make_line: {"series": [(label, [1, 2, 3])], "x_labels": ["Q1", label, "Q3"]},
        make_heat: {"row_labels": [label, "r2"], "col_labels": ["c1", label]},
        make_sankey: {"stages": [[label, "B"], ["X", "Y"]], "flows": [(0, label, "X", 5)]},
    }[build]
    out = build(title=NASTY, **kw)
    assert "<script" not in out and "\x00" not in out
    root = parse(out)
    assert root.find(f"{SVG}title").text == NASTY
    found = [t.text or "" for t in root.iter(f"{SVG}title")] + texts(root)
    assert any(NASTY in s for s in found[1:])


# -- numbers and colours -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, "0"), (999, "999"), (12345, "12.345"), (1234567, "1.234.567"), (-1234, "-1.234")],
)
def test_format_count_is_german(value: int, expected: str) -> None:
    assert format_count(value) == expected


def test_format_number_uses_decimal_comma() -> None:
    assert format_number(2.5) == "2,5"
    assert format_number(1234.56) == "1.234,56"
    assert format_number(10.0) == "10"


def test_contrast_helpers() -> None:
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#ffffff", "#000") == pytest.approx(21.0)
    assert contrast_ratio("#1d4f91", "#1d4f91") == pytest.approx(1.0)
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    assert text_colour_on("#1d4f91") == "#ffffff"
    assert text_colour_on("#eef3fa") == "#1b1b1b"
    with pytest.raises(ValueError):
        contrast_ratio("blue", "#ffffff")


def test_palette_meets_wcag_non_text_contrast() -> None:
    graphics = [charts.BAR, charts.AXIS, charts.SUPPRESSED_LINK, *charts.SERIES_COLOURS]
    assert all(contrast_ratio(c, "#ffffff") >= 3 for c in graphics)
    assert contrast_ratio(charts.TEXT, "#ffffff") >= 4.5
    assert len(set(charts.SERIES_COLOURS)) == len(charts.SERIES_COLOURS)


# -- bar chart ---------------------------------------------------------------------------


def test_bar_widths_are_proportional_and_values_printed() -> None:
    root = parse(make_bar(labels=["a", "b", "c"], values=[100, 50, 12345], unit="Pers."))
    widths = [float(by_id(root, f"bars-r{i}").find(f"{SVG}rect").get("width")) for i in range(3)]
    assert widths[1] == pytest.approx(widths[0] / 2, abs=0.5)
    assert widths[0] == pytest.approx(widths[2] * 100 / 12345, abs=0.5)
    assert "12.345 Pers." in texts(by_id(root, "bars-r2"))


def test_bar_none_shows_bullet_and_no_bar() -> None:
    root = parse(make_bar(labels=["a", "geheim"], values=[7, None]))
    row = by_id(root, "bars-r1")
    assert row.find(f"{SVG}rect") is None
    assert texts(row) == ["geheim", "•"]
    assert by_id(root, "bars-r0").find(f"{SVG}rect") is not None


@pytest.mark.parametrize("values", [[None, None], [0, None], [0, 0]])
def test_bar_chart_without_positive_values_draws_no_bars(values: list[int | None]) -> None:
    root = parse(make_bar(values=values))
    assert root.find(f".//{SVG}rect") is None
    assert [texts(by_id(root, f"bars-r{i}"))[1] for i in range(2)] == [
        "•" if v is None else "0" for v in values
    ]


def test_bar_long_label_is_truncated_with_full_title_and_height_grows() -> None:
    long = "Beratungsstelle für Migration und Flucht Nord"
    root = parse(make_bar(labels=[long, "b"]))
    row = by_id(root, "bars-r0")
    assert row.find(f"{SVG}title").text == long
    shown = texts(row)[0]
    assert shown.endswith("…") and len(shown) == 28 and long.startswith(shown[:-1])
    heights = [
        float(parse(make_bar(labels=["x"] * n, values=[1] * n)).get("viewBox").split()[3])
        for n in (2, 10)
    ]
    assert heights[1] > heights[0]


def test_bar_chart_rejects_mismatch_and_negative_values() -> None:
    with pytest.raises(ValueError):
        make_bar(values=[1])
    with pytest.raises(ValueError):
        make_bar(values=[1, -1])


# -- line chart --------------------------------------------------------------------------


def markers(group: ET.Element) -> list[ET.Element]:
    return [el for el in group if el.tag != f"{SVG}title" and el.get("transform")]


def test_line_breaks_on_none_without_marker() -> None:
    x = ["Q1", "Q2", "Q3", "Q4", "Q5"]
    root = parse(
        make_line(x_labels=x, series=[("A", [1, 2, None, 3, 4]), ("B", [1, None, 3, 4, 5])])
    )
    a, b = by_id(root, "lines-s0"), by_id(root, "lines-s1")
    assert len(a.findall(f"{SVG}polyline")) == 2
    assert len(b.findall(f"{SVG}polyline")) == 1  # the lone first point has no line
    assert len(markers(a)) == 4 and len(markers(b)) == 4
    tips = [m.find(f"{SVG}title").text for m in markers(a)]
    assert not any("Q3" in t for t in tips) and "A, Q4: 3" in tips
    for line in a.findall(f"{SVG}polyline"):
        assert len(line.get("points").split()) == 2


def test_line_series_have_distinct_markers_colours_and_legend() -> None:
    series = [(f"Serie {i}", [i, i + 1, None]) for i in range(6)]
    root = parse(make_line(series=series))
    shapes, colours = set(), set()
    for i in range(6):
        m = markers(by_id(root, f"lines-s{i}"))[0]
        shapes.add((m.tag, m.get("d"), m.get("width"), m.get("r")))
        colours.add(m.get("fill"))
        legend = by_id(root, f"lines-l{i}")
        assert texts(legend) == [f"Serie {i}"]
    assert len(shapes) == 6 and len(colours) == 6
    with pytest.raises(ValueError):
        make_line(series=[*series, ("G", [1, 2, 3])])
    with pytest.raises(ValueError):
        make_line(series=[("A", [1, 2])])


def test_y_axis_uses_nice_ticks_from_zero() -> None:
    root = parse(make_line(series=[("A", [1200, 9000, 4500.5])], y_label="Fälle"))
    labels = texts(root)
    assert {"0", "2.000", "4.000", "6.000", "8.000", "10.000"} <= set(labels)
    assert "Fälle" in labels
    for hi in [0.3, 1, 3, 7, 9.5, 10, 11, 37, 99, 101, 2500, 12345]:
        ticks = nice_ticks(0, hi)
        step = ticks[1] - ticks[0]
        mantissa = step / 10 ** math.floor(math.log10(step))
        assert ticks[0] == 0 and ticks[-1] >= hi and 4 <= len(ticks) <= 6, hi
        assert any(math.isclose(mantissa, m) for m in (1, 2, 2.5, 5)), (hi, step)


def test_x_labels_rotate_only_when_many() -> None:
    def rotated(n: int) -> bool:
        root = parse(make_line(x_labels=[f"Q{i}" for i in range(n)], series=[("A", [1] * n)]))
        return any("rotate(-45" in (t.get("transform") or "") for t in root.iter(f"{SVG}text"))

    assert not rotated(8)
    assert rotated(9)


# -- heat map ----------------------------------------------------------------------------


def test_heat_map_text_contrast_for_every_cell() -> None:
    values: list[list[float | None]] = [[r * 10 + c for c in range(10)] for r in range(10)]
    values[3][4] = None
    root = parse(
        make_heat(
            row_labels=[f"r{i}" for i in range(10)],
            col_labels=[f"c{i}" for i in range(10)],
            values=values,
        )
    )
    fills = []
    for r in range(10):
        for c in range(10):
            cell = by_id(root, f"heat-c{r}-{c}")
            bg, text = cell.find(f"{SVG}rect").get("fill"), cell.find(f"{SVG}text")
            assert contrast_ratio(text.get("fill"), bg) >= 4.5, (r, c, bg)
            if values[r][c] is None:
                assert (bg, "".join(text.itertext())) == ("#f0f0f0", "•")
            else:
                assert "".join(text.itertext()) == format_number(values[r][c])
                fills.append((values[r][c], bg))
    lums = [contrast_ratio(bg, "#000000") for _, bg in sorted(fills)]
    assert lums == sorted(lums, reverse=True)  # darker for larger values
    assert len(set(lums)) == 5


def test_heat_map_marks_are_bold_and_value_format_used() -> None:
    root = parse(
        make_heat(
            values=[[1234, 0.5], [3, None]],
            marks=[["S", ""], ["", "S"]],
            value_format=lambda v: f"{v:g} %",
        )
    )
    text = by_id(root, "heat-c0-0").find(f"{SVG}text")
    assert "".join(text.itertext()) == "1234 % S"
    assert text.find(f"{SVG}tspan").get("font-weight") == "bold"
    assert by_id(root, "heat-c0-1").find(f".//{SVG}tspan") is None
    assert "".join(by_id(root, "heat-c1-1").find(f"{SVG}text").itertext()) == "• S"


def test_heat_map_links_are_escaped_and_checked() -> None:
    url = '/analytics/gaps?need=sprache&group="a"'
    root = parse(make_heat(links=[[url, None], [None, None]]))
    links = list(root.iter(f"{SVG}a"))
    assert len(links) == 1
    assert links[0].get("href") == url and links[0].get(f"{XLINK}href") == url
    assert links[0].find(f"{SVG}g").get("id") == "heat-c0-0"
    with pytest.raises(ValueError, match="scheme"):
        make_heat(links=[["javascript:alert(1)", None], [None, None]])
    with pytest.raises(ValueError):
        make_heat(values=[[1, 2], [3]])


# -- sankey ------------------------------------------------------------------------------


def node_height(root: ET.Element, stage: int, index: int) -> float:
    return float(by_id(root, f"flow-n{stage}-{index}").find(f"{SVG}rect").get("height"))


def test_sankey_node_heights_proportional_to_totals() -> None:
    root = parse(make_sankey())
    # A: out 40; B: out 20; X: in 30; Y: in 30
    a, b, x, y = (node_height(root, s, i) for s, i in [(0, 0), (0, 1), (1, 0), (1, 1)])
    assert b == pytest.approx(a / 2, abs=0.05)
    assert x == pytest.approx(a * 30 / 40, abs=0.05) and y == pytest.approx(x, abs=0.05)
    assert "A: 40" in texts(by_id(root, "flow-n0-0"))
    bands = [p for p in root.iter(f"{SVG}path") if p.get("fill-opacity")]
    assert len(bands) == 3 and all(p.get("d").count("C") == 2 for p in bands)
    assert {p.find(f"{SVG}title").text for p in bands} == {"A → X: 30", "A → Y: 10", "B → Y: 20"}


def test_sankey_suppressed_flow_is_dashed_and_not_counted() -> None:
    flows = [(0, "A", "X", 30), (0, "B", "X", 30), (0, "B", "Y", None)]
    root = parse(make_sankey(flows=flows))
    dashed = [p for p in root.iter(f"{SVG}path") if p.get("stroke-dasharray")]
    assert len(dashed) == 1 and dashed[0].get("fill") == "none"
    assert node_height(root, 0, 0) == pytest.approx(node_height(root, 0, 1), abs=0.05)
    assert "B: 30 + •" in texts(by_id(root, "flow-n0-1"))
    assert "Y: •" in texts(by_id(root, "flow-n1-1"))
    assert "•" in texts(root)


def test_sankey_labels_nodes_with_their_published_sizes() -> None:
    """A node whose links are withheld may have its size published (the flows'
    tables): the label says it instead of "30 + •", and a withheld size says •."""
    flows = [(0, "A", "X", 30), (0, "B", "X", 30), (0, "B", "Y", None)]
    root = parse(make_sankey(flows=flows, node_values=[[30, 36], [60, None]]))
    assert "B: 36" in texts(by_id(root, "flow-n0-1"))
    assert "Y: •" in texts(by_id(root, "flow-n1-1"))
    assert "+ •" not in texts(root)
    assert node_height(root, 0, 1) == pytest.approx(node_height(root, 0, 0) * 36 / 30, abs=0.05)


@pytest.mark.parametrize(
    "kw",
    [
        {"flows": [(0, "A", "Z", 1)]},
        {"flows": [(0, "Q", "X", 1)]},
        {"flows": [(1, "X", "A", 1)]},
        {"flows": [(-1, "A", "X", 1)]},
        {"flows": [(0, "A", "X", -5)]},
        {"stages": [["A", "A"], ["X"]], "flows": []},
    ],
)
def test_sankey_validation(kw: dict) -> None:
    with pytest.raises(ValueError):
        make_sankey(**kw)
