"""HTML building blocks of the report: escaping, tables, figures and the page itself.

Everything taken from files is escaped: cells and text are escaped unless they are
:class:`Html`, a string marked as already-safe markup built here. The page is one
self-contained file (styles inline, figures as base64 PNG, no scripts, nothing fetched),
readable on a phone (wide tables scroll sideways) and printable (print styles).
"""

from __future__ import annotations

import base64
import html
import math
import struct
from collections.abc import Iterable, Sequence

from rjsim.core.codes import Verdict
from rjsim.report.columns import fmt


class Html(str):
    """A string of trusted markup: inserted as it is, never escaped again."""

    __slots__ = ()


def esc(value: object) -> Html:
    """``value`` as escaped HTML text (``Html`` is passed through unchanged)."""
    if isinstance(value, Html):
        return value
    return Html(html.escape(str(value), quote=True))


def join(parts: Iterable[object]) -> Html:
    """Escaped parts joined together."""
    return Html("".join(esc(p) for p in parts))


def tag(name: str, *content: object, cls: str | None = None, id_: str | None = None,
        style: str | None = None) -> Html:
    """``<name class=cls id=id_ style=style>content</name>`` with the content escaped."""
    attrs = "".join(f' {k}="{esc(v)}"' for k, v in (("class", cls), ("id", id_),
                                                      ("style", style)) if v)
    return Html(f"<{name}{attrs}>{join(content)}</{name}>")


def para(*content: object, cls: str | None = None) -> Html:
    """A paragraph."""
    return tag("p", *content, cls=cls)


def bullets(items: Iterable[object]) -> Html:
    """An unordered list."""
    return tag("ul", *(tag("li", i) for i in items))


def table(header: Sequence[object], rows: Iterable[Sequence[object]], *,
          numeric_from: int = 1, long: bool = False, caption: str | None = None,
          min_width: int = 0) -> Html:
    """A table in a sideways-scrolling box; columns from ``numeric_from`` are right-aligned.

    ``long`` tables also scroll vertically on screen (never in print); ``min_width`` (in rem)
    keeps text-heavy tables legible on a phone by scrolling rather than squeezing them.
    """
    head = tag("tr", *(tag("th", h, cls="num" if i >= numeric_from else None)
                       for i, h in enumerate(header)))
    body = [tag("tr", *(tag("td", c, cls="num" if i >= numeric_from else None)
                        for i, c in enumerate(r))) for r in rows]
    cap = tag("caption", caption) if caption else ""
    inner = tag("table", cap, tag("thead", head), tag("tbody", *body),
                style=f"min-width:{int(min_width)}rem" if min_width else None)
    return tag("div", inner, cls="scroll long" if long else "scroll")


def section(id_: str, title: str, *content: object) -> Html:
    """A titled section of the page."""
    return tag("section", tag("h2", title), *content, id_=id_)


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height in pixels from a PNG's header."""
    width, height = struct.unpack(">II", png[16:24])
    return int(width), int(height)


#: Figures are drawn at 150 dots per inch; on a narrow screen each is shown at least this many
#: CSS pixels per point of the figure (so 7-point text is about 8 pixels high), scrolling
#: sideways inside its own box rather than shrinking further.
FIGURE_DPI = 150
PX_PER_POINT = 1.1


def legible_width(png_width: int) -> int:
    """The narrowest a figure ``png_width`` pixels wide (at :data:`FIGURE_DPI`) is shown."""
    return round(png_width / FIGURE_DPI * 72 * PX_PER_POINT)


def figure(png: bytes, alt: str, caption: str) -> Html:
    """A figure embedded as a base64 PNG, scaled to the page width; on a narrow screen no
    narrower than :func:`legible_width`, in a box of its own that scrolls sideways."""
    width, height = png_size(png)
    data = base64.b64encode(png).decode("ascii")
    img = Html(f'<img src="data:image/png;base64,{data}" alt="{esc(alt)}" width="{width}" '
               f'height="{height}">')
    box = tag("div", img, cls="fig", style=f"--legible:{legible_width(width)}px")
    return tag("figure", box, tag("figcaption", caption))


def badge(verdict: str) -> Html:
    """A capacity-test verdict as a coloured word (the word itself carries the meaning)."""
    word = str(verdict).strip().lower()
    cls = ("na" if word == Verdict.NOT_APPLICABLE else word if word in tuple(Verdict)
           else "other")
    return tag("span", word or "n/a", cls=f"badge {cls}")


def estimate(mean: float, low: float, high: float, how: str, n: int = 2) -> str:
    """``mean (95% CI low to high)``, with up to two more places where that tells the ends
    apart; the interval is left out when it is undefined or its ends are the same even then."""
    if n < 2 or math.isnan(low) or math.isnan(high) or low == high:
        return fmt(mean, how)
    extra = next((k for k in range(3) if fmt(low, how, extra=k) != fmt(high, how, extra=k)), None)
    if extra is None:  # the same to two more places: a single value, not '43.0 (43.0 to 43.0)'
        return fmt(mean, how)
    return (f"{fmt(mean, how, extra=extra)} (95% CI {fmt(low, how, extra=extra)} to "
            f"{fmt(high, how, extra=extra)})")


CSS = """
:root{--ink:#1a1a1a;--muted:#555;--line:#d0d0d0;--band:#f4f6f8;--accent:#0072B2}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;
 color:var(--ink);background:#fff}
main{max-width:62rem;margin:0 auto;padding:1rem}
h1{font-size:1.6rem;line-height:1.25;margin:.5rem 0}
h2{font-size:1.25rem;margin:2rem 0 .5rem;padding-top:.5rem;border-top:2px solid var(--accent)}
h3{font-size:1.05rem;margin:1.2rem 0 .4rem}
p,li{max-width:48rem}
.lede{font-size:1.1rem}
.headline{background:var(--band);border-left:6px solid var(--accent);padding:.75rem 1rem;
 font-size:1.1rem}
.muted,figcaption,caption{color:var(--muted);font-size:.9rem}
caption{text-align:left;caption-side:bottom;padding-top:.3rem}
nav ul{display:flex;flex-wrap:wrap;gap:.25rem 1rem;padding:0;list-style:none}
a{color:var(--accent)}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;margin:.5rem 0 1rem;
 border:1px solid var(--line)}
.long{max-height:32rem;overflow-y:auto}
table{border-collapse:collapse;width:100%;font-size:.88rem}
th,td{padding:.3rem .5rem;border-bottom:1px solid var(--line);text-align:left;
 vertical-align:top}
th{background:var(--band);position:sticky;top:0}
td.num,th.num{text-align:right;white-space:nowrap}
figure{margin:1rem 0}
img{max-width:100%;height:auto;display:block}
.badge{display:inline-block;padding:0 .4rem;border-radius:.3rem;font-weight:600;color:#fff}
.badge.pass{background:#009E73}.badge.fail{background:#D55E00}
.badge.inconclusive{background:#E69F00;color:#000}.badge.other{background:#777}
.badge.na{background:#eee;color:#333}
code{font-size:.85rem;word-break:break-all}
h1,h2,h3,p,li,dd,dt,figcaption,caption,.headline{overflow-wrap:break-word}
th{overflow-wrap:anywhere}td{overflow-wrap:break-word}
.key{display:grid;grid-template-columns:repeat(auto-fill,minmax(14rem,1fr));gap:.1rem 1rem;
 margin:.3rem 0 1rem;font-size:.85rem}
.key div{display:flex;gap:.5rem}.key dt{font-weight:600;min-width:3.2rem}.key dd{margin:0}
footer{margin-top:2rem;border-top:1px solid var(--line);font-size:.85rem;color:var(--muted)}
@media (max-width:40rem){body{font-size:15px}main{padding:.6rem}h1{font-size:1.3rem}
 table{font-size:.8rem}
 .fig{overflow-x:auto;-webkit-overflow-scrolling:touch}
 .fig img{width:var(--legible);max-width:none}}
@page{size:A4;margin:15mm 14mm 18mm;
 @bottom-center{content:"Page " counter(page) " of " counter(pages);font-size:9pt;color:#555}}
@media print{body{font-size:10pt;-webkit-print-color-adjust:exact;print-color-adjust:exact}
 main{max-width:none;padding:0}nav{display:none}.fig img{width:auto;max-width:100%}
 table{min-width:0!important}
 .scroll,.long{overflow:visible;max-height:none;border:none}th{position:static}
 h2{break-after:avoid}figure,tr{break-inside:avoid}a{color:inherit;text-decoration:none}
 .headline{border:1px solid #000}}
"""


def page(title: str, subtitle: str, sections: Sequence[tuple[str, str, Html]],
         footer: str = "") -> str:
    """The whole HTML document: title, a contents list, the sections (id, title, body) and
    the footer."""
    nav = tag("nav", tag("ul", *(tag("li", Html(f'<a href="#{esc(i)}">{esc(t)}</a>'))
                                 for i, t, _ in sections)))
    body = join(section(i, t, b) for i, t, b in sections)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{esc(title)}</title><style>{CSS}</style></head><body><main>"
            f"{tag('h1', title)}{para(subtitle, cls='lede')}{nav}{body}{esc(footer)}</main></body>"
            "</html>\n")
