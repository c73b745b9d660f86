"""Server-side SVG charts, identical in the page and in the WeasyPrint PDF.

Accessibility decisions: every chart is one ``<svg role="img">`` named by its ``<title>``
and described by its ``<desc>`` (``aria-labelledby``); the caller renders the same numbers
as an HTML data table beside it, so the SVG never is the only carrier of information.
Values are always printed as text, never conveyed by colour alone; line series differ in
colour *and* marker shape. Graphical objects have at least 3:1 contrast on white, text on
heat-map cells at least 4.5:1 (black or white chosen per cell). Withheld values
(disclosure control) show "•". Drill-down links in a heat map are not tab stops
(``tabindex="-1"``): inside ``role="img"`` they are a pointer shortcut; the table carries them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from html import escape
from urllib.parse import urlsplit

from django.utils.safestring import SafeString, mark_safe

TEXT = "#1b1b1b"
WHITE = "#ffffff"
BAR = "#1d4f91"
AXIS = "#595959"
GRID = "#d0d0d0"
SUPPRESSED_FILL = "#f0f0f0"
SUPPRESSED_LINK = "#767676"
BULLET = "•"
# Each at least 3:1 against white (see tests); paired with distinct marker shapes.
SERIES_COLOURS = ("#1d4f91", "#b3261e", "#2e7d32", "#6a3d9a", "#a15c00", "#00727a")
# Sequential scale, white-ish to dark blue.
HEAT_SCALE = ("#eef3fa", "#bcd0ea", "#7fa5d5", "#3d72b8", "#1d4f91")
FONT = 'font-family="sans-serif"'

_CHART_ID = re.compile(r"[a-z][a-z0-9-]*")
_XML_INVALID = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Marker shapes drawn around (0, 0) and placed with transform="translate(x y)".
_MARKERS = (
    '<circle r="4.5"',
    '<rect x="-4" y="-4" width="8" height="8"',
    '<path d="M0 -5.5 L5 4 L-5 4 Z"',
    '<path d="M0 -5.5 L5.5 0 L0 5.5 L-5.5 0 Z"',
    '<path d="M0 5.5 L5 -4 L-5 -4 Z"',
    '<path d="M-1.8 -5 H1.8 V-1.8 H5 V1.8 H1.8 V5 H-1.8 V1.8 H-5 V-1.8 H-1.8 Z"',
)


# -- helpers -----------------------------------------------------------------------------


def format_count(n: int) -> str:
    """German thousands separator: 12345 → "12.345"."""
    return f"{n:,}".replace(",", ".")


def format_number(x: int | float) -> str:
    """German number: thousands ".", decimal "," and at most two decimals."""
    if isinstance(x, int) or float(x).is_integer():
        return format_count(int(x))
    s = f"{x:,.2f}".rstrip("0").rstrip(".")
    return s.replace(",", "\0").replace(".", ",").replace("\0", ".")


def _luminance(hex_colour: str) -> float:
    h = hex_colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    if len(h) != 6:
        raise ValueError(f"not a hex colour: {hex_colour!r}")
    channels = [int(h[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(fg_hex: str, bg_hex: str) -> float:
    """WCAG 2.x contrast ratio between two "#rrggbb" colours (1.0 … 21.0)."""
    a, b = sorted((_luminance(fg_hex), _luminance(bg_hex)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def text_colour_on(bg_hex: str) -> str:
    """The text colour (near-black or white) with the higher contrast on ``bg_hex``."""
    return max((TEXT, WHITE), key=lambda fg: contrast_ratio(fg, bg_hex))


def _e(s: str) -> str:
    """Escape for XML text and attribute values; drop characters XML 1.0 forbids."""
    return escape(_XML_INVALID.sub("", str(s)), quote=True)


def _n(x: float) -> str:
    """A compact SVG coordinate."""
    s = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if s == "-0" else s


def _truncate(s: str, limit: int) -> str:
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _text(
    x: float,
    y: float,
    content: str,
    *,
    anchor: str = "start",
    size: int = 13,
    fill: str = TEXT,
    extra: str = "",
) -> str:
    return (
        f'<text x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}" font-size="{size}" {FONT} '
        f'fill="{fill}"{extra}>{_e(content)}</text>'
    )


def _svg(
    chart_id: str, title: str, description: str, width: float, height: float, body: list[str]
) -> SafeString:
    """Wrap ``body`` (already escaped markup) in the accessible root element."""
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'id="{chart_id}" role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'viewBox="0 0 {_n(width)} {_n(height)}" width="100%" '
        f'preserveAspectRatio="xMinYMin meet" focusable="false" {FONT}>'
        f'<title id="{chart_id}-title">{_e(title)}</title>'
        f'<desc id="{chart_id}-desc">{_e(description)}</desc>'
    )
    return mark_safe(head + "".join(body) + "</svg>")  # everything inside is escaped


def _check_id(chart_id: str) -> None:
    if not isinstance(chart_id, str) or not _CHART_ID.fullmatch(chart_id):
        raise ValueError(f"chart_id must match [a-z][a-z0-9-]*: {chart_id!r}")


def nice_ticks(lo: float, hi: float) -> list[float]:
    """4–6 ticks at steps of 1, 2, 2.5 or 5 × 10^n covering [min(lo, 0), max(hi, 0)]."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    if hi - lo <= 0:
        hi = 1.0
    raw = (hi - lo) / 5
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw * (1 - 1e-9))
    start, stop = math.floor(lo / step + 1e-9), math.ceil(hi / step - 1e-9)
    return [round(i * step, 10) for i in range(start, stop + 1)]


# -- bar chart ---------------------------------------------------------------------------


def bar_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    labels: Sequence[str],
    values: Sequence[int | None],
    unit: str = "",
) -> SafeString:
    """Horizontal bars, one row per label; the value is printed right of each bar."""
    _check_id(chart_id)
    if len(labels) != len(values):
        raise ValueError("labels and values differ in length")
    known = [v for v in values if v is not None]
    if any(v < 0 for v in known):
        raise ValueError("bar_chart values must not be negative")
    width, bar_x, max_w, row_h, bar_h, top = 640, 210.0, 340.0, 28, 18, 8
    vmax = max(known, default=0)
    body = [
        f'<line x1="{_n(bar_x)}" y1="{top}" x2="{_n(bar_x)}" '
        f'y2="{top + row_h * len(labels)}" stroke="{AXIS}" stroke-width="1"/>'
    ]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = top + i * row_h
        mid = y + row_h / 2 + 4.5
        row = [
            f'<g id="{chart_id}-r{i}"><title>{_e(label)}</title>',
            _text(bar_x - 8, mid, _truncate(label, 28), anchor="end"),
        ]
        if value is None:
            row.append(_text(bar_x + 6, mid, BULLET))
        else:
            w = max_w * value / vmax if vmax > 0 else 0.0
            if w > 0:
                row.append(
                    f'<rect x="{_n(bar_x)}" y="{_n(y + (row_h - bar_h) / 2)}" '
                    f'width="{_n(w)}" height="{bar_h}" fill="{BAR}"/>'
                )
            text = format_number(value) + (f" {unit}" if unit else "")
            row.append(_text(bar_x + w + 6, mid, text))
        body.append("".join(row) + "</g>")
    return _svg(chart_id, title, description, width, top * 2 + row_h * len(labels), body)


# -- line chart --------------------------------------------------------------------------


def line_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    x_labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[int | float | None]]],
    y_label: str = "",
) -> SafeString:
    """Lines with distinct colours and marker shapes; ``None`` is a gap in the line."""
    _check_id(chart_id)
    if len(series) > len(SERIES_COLOURS):
        raise ValueError(f"at most {len(SERIES_COLOURS)} series")
    for name, vals in series:
        if len(vals) != len(x_labels):
            raise ValueError(f"series {name!r} does not match x_labels in length")
    known = [v for _, vals in series for v in vals if v is not None]
    ticks = nice_ticks(min(known, default=0), max(known, default=0))
    rotate = len(x_labels) > 8
    width, left, right, top, plot_h = 640, 64 + (18 if y_label else 0), 16, 16, 220
    plot_w = width - left - right
    longest = min(max((len(s) for s in x_labels), default=0), 20)
    xlab_h = 18 + longest * 6.5 * 0.71 if rotate else 28
    legend_top = top + plot_h + xlab_h + 8
    height = legend_top + 20 * math.ceil(len(series) / 3) + 8
    band = plot_w / max(len(x_labels), 1)

    def px(i: int) -> float:
        return left + (i + 0.5) * band

    def py(v: float) -> float:
        return top + plot_h * (ticks[-1] - v) / (ticks[-1] - ticks[0])

    body: list[str] = []
    for t in ticks:
        colour = AXIS if t == 0 else GRID
        body.append(
            f'<line x1="{left}" y1="{_n(py(t))}" x2="{width - right}" '
            f'y2="{_n(py(t))}" stroke="{colour}" stroke-width="1"/>'
        )
        body.append(_text(left - 6, py(t) + 4, format_number(t), anchor="end", size=12))
    if y_label:
        cy = top + plot_h / 2
        body.append(
            _text(
                14,
                cy,
                y_label,
                anchor="middle",
                size=12,
                extra=f' transform="rotate(-90 14 {_n(cy)})"',
            )
        )
    base = top + plot_h
    for i, label in enumerate(x_labels):
        if rotate:
            x, y = px(i) + 4, base + 14
            body.append(
                _text(
                    x,
                    y,
                    _truncate(label, 20),
                    anchor="end",
                    size=12,
                    extra=f' transform="rotate(-45 {_n(x)} {_n(y)})"',
                )
            )
        else:
            limit = max(3, int(band / 6.5))
            body.append(_text(px(i), base + 18, _truncate(label, limit), anchor="middle", size=12))
    for s, (name, vals) in enumerate(series):
        colour, marker = SERIES_COLOURS[s], _MARKERS[s]
        group = [f'<g id="{chart_id}-s{s}"><title>{_e(name)}</title>']
        runs: list[list[tuple[float, float]]] = [[]]
        for i, v in enumerate(vals):
            if v is None:
                runs.append([])
            else:
                runs[-1].append((px(i), py(v)))
        for run in runs:
            if len(run) > 1:
                pts = " ".join(f"{_n(x)},{_n(y)}" for x, y in run)
                group.append(
                    f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="2.5"/>'
                )
        for i, v in enumerate(vals):
            if v is not None:
                tip = f"{name}, {x_labels[i]}: {format_number(v)}"
                group.append(
                    f'{marker} transform="translate({_n(px(i))} {_n(py(v))})" '
                    f'fill="{colour}"><title>{_e(tip)}</title>'
                    f"</{marker[1:].split()[0]}>"
                )
        body.append("".join(group) + "</g>")
        lx, ly = 16 + (s % 3) * 205, legend_top + 20 * (s // 3) + 10
        body.append(
            f'<g id="{chart_id}-l{s}"><line x1="{lx}" y1="{ly}" x2="{lx + 24}" y2="{ly}" '
            f'stroke="{colour}" stroke-width="2.5"/>{marker} transform="translate({lx + 12} '
            f'{ly})" fill="{colour}"/>' + _text(lx + 30, ly + 4.5, _truncate(name, 24)) + "</g>"
        )
    return _svg(chart_id, title, description, width, height, body)


# -- heat map ----------------------------------------------------------------------------


def heat_fill(value: float, max_abs: float) -> str:
    """The scale step for ``value`` relative to the largest absolute value."""
    ratio = abs(value) / max_abs if max_abs > 0 else 0.0
    return HEAT_SCALE[min(len(HEAT_SCALE) - 1, int(ratio * len(HEAT_SCALE)))]


def _safe_url(url: str) -> str:
    if urlsplit(url.strip()).scheme.lower() not in ("", "http", "https"):
        raise ValueError(f"link scheme not allowed: {url!r}")
    return _e(url)


def _check_shape(name: str, grid: Sequence[Sequence[object]], rows: int, cols: int) -> None:
    if len(grid) != rows or any(len(r) != cols for r in grid):
        raise ValueError(f"{name} must be a {rows} × {cols} matrix")


def heat_map(
    *,
    chart_id: str,
    title: str,
    description: str,
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    values: Sequence[Sequence[int | float | None]],
    marks: Sequence[Sequence[str]] | None = None,
    value_format: Callable[[int | float], str] | None = None,
    links: Sequence[Sequence[str | None]] | None = None,
) -> SafeString:
    """A matrix of cells shaded by value, each with its value (and bold mark) as text."""
    _check_id(chart_id)
    n_rows, n_cols = len(row_labels), len(col_labels)
    _check_shape("values", values, n_rows, n_cols)
    if marks is not None:
        _check_shape("marks", marks, n_rows, n_cols)
    if links is not None:
        _check_shape("links", links, n_rows, n_cols)
    fmt = value_format or format_number
    max_abs = max((abs(v) for row in values for v in row if v is not None), default=0)
    label_w, cell_w, cell_h = 200, 72, 32
    rotate = any(len(c) * 7 > cell_w - 6 for c in col_labels)
    longest = min(max((len(c) for c in col_labels), default=0), 28)
    header_h = 14 + longest * 7 * 0.71 if rotate else 26
    x0, y0 = 10 + label_w, 6 + header_h
    width = x0 + n_cols * cell_w + (header_h if rotate else 0) + 10
    body: list[str] = []
    for c, label in enumerate(col_labels):
        cx = x0 + (c + 0.5) * cell_w
        if rotate:
            x, y = cx, y0 - 6
            body.append(
                _text(
                    x,
                    y,
                    _truncate(label, 28),
                    size=12,
                    extra=f' transform="rotate(-45 {_n(x)} {_n(y)})"',
                )
            )
        else:
            body.append(_text(cx, y0 - 8, label, anchor="middle", size=12))
    for r, row_label in enumerate(row_labels):
        y = y0 + r * cell_h
        body.append(
            f"<g><title>{_e(row_label)}</title>"
            + _text(x0 - 8, y + cell_h / 2 + 4.5, _truncate(row_label, 28), anchor="end")
            + "</g>"
        )
        for c, value in enumerate(values[r]):
            fill = SUPPRESSED_FILL if value is None else heat_fill(value, max_abs)
            text = BULLET if value is None else fmt(value)
            mark = marks[r][c] if marks is not None else ""
            tip = f"{row_label} / {col_labels[c]}: {text}" + (f" {mark}" if mark else "")
            x = x0 + c * cell_w
            tspan = f' <tspan font-weight="bold">{_e(mark)}</tspan>' if mark else ""
            cell = (
                f'<g id="{chart_id}-c{r}-{c}"><title>{_e(tip)}</title>'
                f'<rect x="{_n(x)}" y="{_n(y)}" width="{cell_w}" height="{cell_h}" '
                f'fill="{fill}" stroke="{WHITE}" stroke-width="1"/>'
                f'<text x="{_n(x + cell_w / 2)}" y="{_n(y + cell_h / 2 + 4.5)}" '
                f'text-anchor="middle" font-size="12" {FONT} fill="{text_colour_on(fill)}">'
                f"{_e(text)}{tspan}</text></g>"
            )
            url = links[r][c] if links is not None else None
            if url:
                safe = _safe_url(url)
                cell = f'<a href="{safe}" xlink:href="{safe}" tabindex="-1">{cell}</a>'
            body.append(cell)
    return _svg(chart_id, title, description, width, y0 + n_rows * cell_h + 10, body)


# -- sankey ------------------------------------------------------------------------------


def sankey(
    *,
    chart_id: str,
    title: str,
    description: str,
    stages: Sequence[Sequence[str]],
    flows: Sequence[tuple[int, str, str, int | None]],
    node_values: Sequence[Sequence[int | None]] | None = None,
) -> SafeString:
    """Flows between adjacent stages; node height ∝ max(inflow, outflow) of known flows,
    or the node's own published size (``node_values``, None: withheld) where given —
    a node whose links are withheld may still have its size published."""
    _check_id(chart_id)
    index: list[dict[str, int]] = []
    for s, labels in enumerate(stages):
        index.append({label: i for i, label in enumerate(labels)})
        if len(index[-1]) != len(labels):
            raise ValueError(f"duplicate node label in stage {s}")
    inflow = [[0] * len(labels) for labels in stages]
    outflow = [[0] * len(labels) for labels in stages]
    withheld = [[False] * len(labels) for labels in stages]
    for s, src, dst, value in flows:
        if not 0 <= s < len(stages) - 1:
            raise ValueError(f"stage index out of range: {s!r}")
        if src not in index[s] or dst not in index[s + 1]:
            raise ValueError(f"unknown node in flow {(s, src, dst)!r}")
        i, j = index[s][src], index[s + 1][dst]
        if value is None:
            withheld[s][i] = withheld[s + 1][j] = True
        elif value < 0:
            raise ValueError("flow values must not be negative")
        else:
            outflow[s][i] += value
            inflow[s + 1][j] += value
    totals = [
        [max(a, b) for a, b in zip(i, o, strict=True)] for i, o in zip(inflow, outflow, strict=True)
    ]
    if node_values is not None:
        for s, values in enumerate(node_values):
            for i, v in enumerate(values):
                if v is not None:
                    totals[s][i] = max(totals[s][i], v)
    node_w, pad, min_h, sup_w = 14.0, 18.0, 4.0, 3.0
    width, left, label_w, top = 720, 10.0, 190.0, 10.0
    plot_h = max(200.0, 40.0 * max((len(col) for col in stages), default=1))
    scales = [
        (plot_h - (len(col) - 1) * pad - col.count(0) * min_h) / sum(col)
        for col in totals
        if sum(col) > 0
    ]
    k = min(scales, default=0.0)
    span = width - left - label_w - node_w
    xs = [
        left + (s * span / (len(stages) - 1) if len(stages) > 1 else 0) for s in range(len(stages))
    ]
    heights = [[v * k if v > 0 else min_h for v in col] for col in totals]
    ys: list[list[float]] = []
    for col in heights:
        y = top + (plot_h - sum(col) - pad * (len(col) - 1)) / 2
        ys.append([])
        for h in col:
            ys[-1].append(y)
            y += h + pad
    body: list[str] = []
    out_off = [[0.0] * len(c) for c in stages]
    in_off = [[0.0] * len(c) for c in stages]
    out_sup = [[0] * len(c) for c in stages]
    ordered = sorted(flows, key=lambda f: (f[0], index[f[0]][f[1]], index[f[0] + 1][f[2]]))
    for s, src, dst, value in ordered:
        i, j = index[s][src], index[s + 1][dst]
        xa, xb = xs[s] + node_w, xs[s + 1]
        xm = (xa + xb) / 2
        if value is None:
            n = out_sup[s][i] = out_sup[s][i] + 1
            ya = ys[s][i] + heights[s][i] * n / (n + 1)
            yb = ys[s + 1][j] + heights[s + 1][j] / 2
            d = f"M{_n(xa)} {_n(ya)} C{_n(xm)} {_n(ya)} {_n(xm)} {_n(yb)} {_n(xb)} {_n(yb)}"
            body.append(
                f'<g><title>{_e(f"{src} → {dst}: {BULLET}")}</title><path d="{d}" '
                f'fill="none" stroke="{SUPPRESSED_LINK}" stroke-width="{_n(sup_w)}" '
                f'stroke-dasharray="4 3"/>'
                + _text(xm, (ya + yb) / 2 - 4, BULLET, anchor="middle")
                + "</g>"
            )
            continue
        w = value * k
        if w <= 0:
            continue
        ya, yb = ys[s][i] + out_off[s][i], ys[s + 1][j] + in_off[s + 1][j]
        out_off[s][i] += w
        in_off[s + 1][j] += w
        d = (
            f"M{_n(xa)} {_n(ya)} C{_n(xm)} {_n(ya)} {_n(xm)} {_n(yb)} {_n(xb)} {_n(yb)} "
            f"L{_n(xb)} {_n(yb + w)} C{_n(xm)} {_n(yb + w)} {_n(xm)} {_n(ya + w)} "
            f"{_n(xa)} {_n(ya + w)} Z"
        )
        tip = f"{src} → {dst}: {format_count(value)}"
        body.append(
            f'<path d="{d}" fill="{BAR}" fill-opacity="0.35" stroke="none">'
            f"<title>{_e(tip)}</title></path>"
        )
    for s, labels in enumerate(stages):
        for i, label in enumerate(labels):
            total = totals[s][i]
            if node_values is not None:
                size = node_values[s][i]
                shown = BULLET if size is None else format_count(size)
            else:
                shown = format_count(total) if total or not withheld[s][i] else ""
                if withheld[s][i]:
                    shown = f"{shown} + {BULLET}" if shown else BULLET
            y, h = ys[s][i], heights[s][i]
            text = f"{_truncate(label, 24)}: {shown}"
            body.append(
                f'<g id="{chart_id}-n{s}-{i}"><title>{_e(f"{label}: {shown}")}</title>'
                f'<rect x="{_n(xs[s])}" y="{_n(y)}" width="{_n(node_w)}" height="{_n(h)}" '
                f'fill="{BAR}"/>'
                # A white backing keeps the label legible over the link bands.
                f'<rect x="{_n(xs[s] + node_w + 2)}" y="{_n(y + h / 2 - 8)}" '
                f'width="{_n(len(text) * 6.8 + 6)}" height="16" fill="{WHITE}" '
                f'fill-opacity="0.85"/>'
                + _text(xs[s] + node_w + 5, y + h / 2 + 4.5, text, size=12)
                + "</g>"
            )
    return _svg(chart_id, title, description, width, plot_h + 2 * top, body)
