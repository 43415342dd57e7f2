"""The page's hand-written HTML, CSS, JavaScript and Vega-Lite, in one place.

Each template takes plain values (strings, numbers, rows) and returns text or a spec; the views
decide what goes in. Everything put into HTML is escaped here.
"""

from __future__ import annotations

import functools
import json
from datetime import datetime
from html import escape

# Less empty space above the title: the canvas and the prediction fit a laptop screen.
# The canvas's undo/redo toolbar waits, invisible, over the canvas's top right strip until
# hovered, and swallows a stroke started there (issue #4): keep it above the canvas. Of its
# buttons only Undo and Redo stay: someone who draws has no use for "Update the app with this
# drawing" (every stroke does), "Edit", "Bring forward / Send backward" or the component's own
# reset (the page's Clear button starts a new canvas). The canvas lives in a shadow root that
# page CSS cannot reach, so the script hands it the rules, also when a new canvas is created
# (Clear); the element holding the script takes no space.
# The canvas is shown at the size in --shapecnn-canvas (set below; custom properties reach into
# the shadow root); its pixels, and so the model's input, keep the size the page asks for.
CANVAS_TOOLBAR_CSS = (
    ".dc-toolbar{top:auto!important;bottom:100%}"
    ".dc-icon-button:not([aria-label=Undo]):not([aria-label=Redo]),"
    ".dc-toolbar-separator,.dc-toolbar-contextual{display:none!important}"
    ".dc-container,.dc-container .canvas-container,.dc-container canvas"
    "{width:var(--shapecnn-canvas)!important;height:var(--shapecnn-canvas)!important}"
)
# From a 360 px phone to a 2560 px screen. The canvas: its own 280 px up to laptop widths, then
# a fifth of the screen, at most 520 px (fabric.js maps the pointer through the CSS scale). The
# Draw view's columns carry their headings (::before, in the page's language: page_style), so a
# heading wraps with its column; the title shrinks on a phone; the prediction's bars stop at a
# readable width.
LAYOUT_CSS = (
    ":root{--shapecnn-canvas:clamp(280px,20vw,520px)}"
    # A column's width is set on the element around it (st.container(width=...)).
    ":has(>.st-key-draw_column){flex:0 0 calc(var(--shapecnn-canvas) + 4px)!important;"
    "width:calc(var(--shapecnn-canvas) + 4px)!important}"
    ":has(>.st-key-prediction_column){max-width:44rem;min-width:min(18rem,100%)!important}"
    ".st-key-draw_column::before,.st-key-prediction_column::before,.st-key-save_column::before"
    "{font-size:1.75rem;font-weight:600;line-height:1.2;overflow-wrap:anywhere}"
    # A phone: less above the canvas, and the prediction close under it.
    "@media (max-width:640px){[data-testid='stMainBlockContainer']{padding-top:1rem!important}"
    ".stHorizontalBlock:has(>div>.st-key-draw_column){row-gap:1rem}"
    ":has(>.st-key-save_column){flex:1 1 100%!important;width:100%!important}"
    ".st-key-draw_column::before,.st-key-prediction_column::before,.st-key-save_column::before"
    "{font-size:1.35rem}}"
)
_SCRIPT = (
    "<script>(()=>{if(window.shapecnnToolbarRule)return;"
    "const rule=window.shapecnnToolbarRule=new CSSStyleSheet();"
    f"rule.replaceSync('{CANVAS_TOOLBAR_CSS}');"
    "const adopt=r=>{if(!r.adoptedStyleSheets.includes(rule))"
    "r.adoptedStyleSheets=[...r.adoptedStyleSheets,rule];};"
    "const attach=Element.prototype.attachShadow;"
    "Element.prototype.attachShadow=function(init){const r=attach.call(this,init);"
    "if(this.dataset.testid==='stBidiComponentIsolated')adopt(r);return r;};"
    "document.querySelectorAll('[data-testid=stBidiComponentIsolated]')"
    ".forEach(h=>h.shadowRoot&&adopt(h.shadowRoot));})()</script>"
)


def css_string(text: str) -> str:
    """Text as a CSS string literal (for `content:`)."""
    escaped = text.replace("\\", "\\\\").replace("'", "\\'").replace("<", "\\3c ")
    return "'" + escaped.replace("\n", " ") + "'"


def preload_script(links: tuple[tuple[str, str, str], ...]) -> str:
    """A script adding <link rel=... href=... as=...> to the document's head, once per address
    (page/assets.py)."""
    if not links:
        return ""
    return (
        "<script>(()=>{for(const[rel,href,as]of "
        + json.dumps([list(link) for link in links]).replace("</", "<\\/")
        + '){if(document.head.querySelector(`link[href="${href}"]`))continue;'
        "const l=document.createElement('link');l.rel=rel;l.href=href;if(as)l.as=as;"
        "document.head.appendChild(l);}})()</script>"
    )


@functools.lru_cache(maxsize=8)
def page_style(canvas_heading: str, prediction_heading: str, save_heading: str) -> str:
    """The page's style and script, with the Draw view's three column headings: made once per
    language."""
    headings = (
        f".st-key-draw_column::before{{content:{css_string(canvas_heading)}}}"
        f".st-key-prediction_column::before{{content:{css_string(prediction_heading)}}}"
        f".st-key-save_column::before{{content:{css_string(save_heading)}}}"
    )
    return (
        "<style>[data-testid='stMainBlockContainer']{padding-top:2.5rem}"
        "[data-testid='stElementContainer']:has(>.stHtml>script){display:none}"
        f"{LAYOUT_CSS}{headings}</style>{_SCRIPT}"
    )


# The Draw view's title and caption as one piece of HTML, and its column headings in LAYOUT_CSS:
# every rerun, a stroke's fragment rerun included, makes the browser render every element on the
# page again, and a title, a caption and three subheaders are five markdown elements, each parsed
# again on every render (benchmarks/RESULTS.md, the page).
@functools.lru_cache(maxsize=8)
def draw_header(title: str, caption: str) -> str:
    return (
        '<h1 style="font-size:clamp(1.75rem,7vw,2.75rem);font-weight:700;margin:0;'
        'padding:clamp(.25rem,2vw,1.25rem) 0 clamp(.25rem,2vw,1rem);line-height:1.2">'
        f"{escape(title)}</h1>"
        f'<p style="font-size:.875rem;opacity:.6;margin:0">{escape(caption)}</p>'
    )


def prediction_html(
    rows: list[dict], picture_uri: str, answered_by: str, seen_alt: str, seen_caption: str
) -> str:
    """Probability bars (rows of class, probability, top), the model's view of the drawing (a
    data URI) and when the model was trained, as one element: a stroke then sends the browser
    one small piece of HTML, not a chart, an image file and a caption to fetch and lay out one by
    one (benchmarks/RESULTS.md, page). `answered_by` says which model answered; `seen_alt` and
    `seen_caption` name the picture."""
    bars = "".join(
        f'<div data-class="{escape(row["class"])}" data-probability="{row["probability"]}" '
        'style="display:flex;align-items:center;gap:.5rem;margin:.15rem 0">'
        f'<span style="width:6.5rem;overflow:hidden;text-overflow:ellipsis;white-space:nowrap">'
        f"{escape(row['class'])}</span>"
        '<span style="flex:1;height:1.1rem;background:#f0f2f6;border-radius:3px">'
        f'<span style="display:block;height:100%;width:{row["probability"]:.1%};'
        f'background:{"#ff4b4b" if row["top"] else "#b9bdc9"};border-radius:3px"></span></span>'
        f'<span style="width:2.8rem;text-align:right">{row["probability"]:.0%}</span></div>'
        for row in rows
    )
    return (
        '<div style="display:flex;gap:1.25rem;align-items:flex-start;flex-wrap:wrap">'
        f'<div style="flex:1;min-width:12rem">{bars}</div>'
        '<figure style="margin:0;text-align:center">'
        f'<img src="{picture_uri}" alt="{escape(seen_alt)}" '
        'style="image-rendering:pixelated">'
        f'<figcaption style="font-size:.8rem;color:#808495">{escape(seen_caption)}</figcaption>'
        "</figure>"
        "</div>"
        f'<p style="font-size:.8rem;color:#808495;margin:.5rem 0 0">{escape(answered_by)}</p>'
    )


# A metric's axis: accuracy from 0 to 1 as a percentage, loss from 0 up.
CURVE_AXES = {
    "loss": {"scale": {"zero": True}, "axis": {}},
    "accuracy": {"scale": {"domain": [0, 1]}, "axis": {"format": "%"}},
}
CURVE_HEIGHT = 300


def curve_spec(
    metric: str, points: bool, *, title: str, epoch: str, value: str, legend: str, splits: dict
) -> dict:
    """A line per split (train, test) of one metric per epoch, with axis titles and a legend;
    the texts as the page words them (`splits`: each split's name in the legend). Written out by
    hand: st.line_chart builds an Altair chart (about 0.2 s of Python per call), which would
    hold up the training thread on every poll."""
    axis = CURVE_AXES[metric]
    # The rows name the splits train and test (views.history_rows); the legend says them in the
    # page's language.
    names = " : ".join(
        f"datum.label === {json.dumps(split)} ? {json.dumps(name)}"
        for split, name in splits.items()
    )
    return {
        "title": {"text": title, "anchor": "start", "fontSize": 13},
        "height": CURVE_HEIGHT,
        "mark": {"type": "line", "point": points},
        "encoding": {
            "x": {
                "field": "epoch",
                "type": "quantitative",
                "title": epoch,
                "axis": {"tickMinStep": 1},
            },
            "y": {
                "field": "value",
                "type": "quantitative",
                "title": value,
                "scale": axis["scale"],
                "axis": axis["axis"],
            },
            "color": {
                "field": "split",
                "type": "nominal",
                "title": legend,
                "scale": {"domain": ["train", "test"], "range": ["#0068c9", "#ff4b4b"]},
                "legend": {
                    "orient": "top",
                    "direction": "horizontal",
                    "labelExpr": f"{names} : datum.label",
                },
            },
        },
    }


def confusion_spec(classes: list[str], *, true_class: str, predicted: str, drawings: str) -> dict:
    """The confusion matrix as a heat map: true class on rows, predicted on columns, in the
    model's class order, the count written in every cell (light text on the dark cells); the
    axis, legend and tooltip titles as the page words them."""
    cell_size = 44 if len(classes) <= 8 else 28
    # Names wider than a cell (about 6 px a character) are slanted, not dropped.
    slanted = max((len(name) for name in classes), default=0) * 6 > cell_size
    order = {"sort": list(classes)}
    return {
        # The cells keep their size; axes and legend come on top ("pad", not Streamlit's "fit").
        "autosize": {"type": "pad", "contains": "padding"},
        "width": cell_size * len(classes),
        "height": cell_size * len(classes),
        "encoding": {
            "x": {
                "field": "predicted",
                "type": "nominal",
                "title": predicted,
                **order,
                "axis": {
                    "orient": "top",
                    "labelAngle": -45 if slanted else 0,
                    "labelOverlap": False,
                },
            },
            "y": {"field": "true", "type": "nominal", "title": true_class, **order},
        },
        "layer": [
            {
                "mark": {"type": "rect", "stroke": "#fff", "strokeWidth": 1},
                "encoding": {
                    "color": {
                        "field": "count",
                        "type": "quantitative",
                        "title": drawings,
                        "scale": {"scheme": "blues", "domainMin": 0},
                    },
                    "tooltip": [
                        {"field": "true", "title": true_class},
                        {"field": "predicted", "title": predicted},
                        {"field": "count", "title": drawings},
                    ],
                },
            },
            {
                "transform": [{"joinaggregate": [{"op": "max", "field": "count", "as": "most"}]}],
                "mark": {"type": "text", "fontSize": 13},
                "encoding": {
                    "text": {"field": "count", "type": "quantitative"},
                    "color": {
                        "condition": {"test": "datum.count > datum.most / 2", "value": "white"},
                        "value": "#262730",
                    },
                },
            },
        ],
    }


def time_html(then: datetime, said: str) -> str:
    """`said` ('2 min ago') with the full local time of `then` on hover (a title attribute)."""
    full = then.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    return (
        f'<span title="{escape(full)}" data-time="{escape(then.isoformat())}" '
        f'style="text-decoration:underline dotted">{escape(said)}</span>'
    )


# The misclassified drawings under the Train view's results: the button under each thumbnail
# also covers the picture (its ::after stretched over the card), so a click on the drawing
# picks it. The card is the positioned ancestor (not the button's own element container).
WRONG_CARD_STYLE = (
    "<style>[class*='st-key-wrong-']{position:relative}"
    "[class*='st-key-wrong-'] .stElementContainer:has(.stButton){position:static}"
    "[class*='st-key-wrong-'] .stButton button::after"
    "{content:'';position:absolute;inset:0;cursor:pointer}"
    "[class*='st-key-wrong-'] .stButton button{font-size:.8rem;line-height:1.2;padding:0}"
    "</style>"
)


def refusal_line(message: str) -> str:
    """One line, always the same height, empty or with a refusal (the whole text on hover when
    it is cut short)."""
    return (
        f'<p data-refusal="{escape(message)}" role="status" title="{escape(message)}" '
        'style="margin:0;height:1.4rem;line-height:1.4rem;font-size:.85rem;color:#d33;'
        'white-space:nowrap;overflow:hidden;text-overflow:ellipsis">'
        f"{escape(message)}</p>"
    )


# The Drawings view's thumbnails: a click anywhere on one ticks its checkbox (the checkbox's
# label, the element Streamlit makes clickable, is stretched over the whole thumbnail by a
# pseudo-element placed against the thumbnail's box), and a ticked one has a red frame.
_THUMB = ".st-key-thumbnails [class*='st-key-thumb-']"
_PICK = f"{_THUMB} [data-testid=stCheckbox]"
THUMBNAIL_STYLE = (
    "<style>"
    f"{_THUMB}{{position:relative;border-radius:.4rem;outline:2px solid transparent;"
    "outline-offset:1px;cursor:pointer}"
    f"{_THUMB}:hover{{outline-color:#d5d8de}}"
    f"{_THUMB}:has(input:checked){{outline:3px solid #ff4b4b}}"
    f"{_THUMB} [data-testid=stElementContainer]:has([data-testid=stCheckbox]),{_PICK},"
    f"{_PICK} label{{position:static!important}}"
    f"{_PICK} label::after{{content:'';position:absolute;inset:0;z-index:1}}"
    "</style>"
)


def thumbnail_verdict(
    drawing: str, label: str, confidence: float, unsure: bool, wrong: bool, title: str
) -> str:
    """The model's class and confidence for one thumbnail, in red when it is not the class the
    drawing is saved under; `unsure`: the drawing looks like none of the classes (a question
    mark after the class). `title`: the sentence shown on hover."""
    said = f"{label}?" if unsure else label
    return (
        f'<p data-drawing="{escape(drawing)}" data-predicted="{escape(label)}" '
        f'data-confidence="{confidence:.4f}" data-wrong="{int(wrong)}" title="{escape(title)}" '
        'style="margin:0;font-size:.75rem;line-height:1.1rem;text-align:center;'
        f"color:{'#d33' if wrong else '#808495'};font-weight:{600 if wrong else 400};"
        'white-space:nowrap;overflow:hidden;text-overflow:ellipsis">'
        f"{escape(said)} {confidence:.0%}</p>"
    )


def inside_html(figures: list[dict], legend: str) -> str:
    """The look inside as one element: per figure (key, title, sentence, picture data URI and
    the width to show it at) a heading, the picture and its sentence, side by side as the width
    allows."""
    parts = "".join(
        f'<figure data-inside="{escape(f["key"])}" style="margin:0;flex:1 1 20rem;max-width:26rem">'
        f'<figcaption style="font-weight:600;font-size:.9rem;margin-bottom:.25rem">'
        f"{escape(f['title'])}</figcaption>"
        f'<img src="{f["picture_uri"]}" alt="{escape(f["title"])}" width="{int(f["width"])}" '
        'style="image-rendering:pixelated;max-width:100%;height:auto;display:block;'
        'outline:1px solid #c8c8c8">'
        f'<p style="font-size:.8rem;color:#555;margin:.25rem 0 0">{escape(f["sentence"])}</p>'
        "</figure>"
        for f in figures
    )
    return (
        '<div data-inside-panel style="display:flex;flex-wrap:wrap;gap:1rem 1.5rem;'
        f'margin-top:.5rem">{parts}</div>'
        f'<p style="font-size:.75rem;color:#808495;margin:.5rem 0 0">{escape(legend)}</p>'
    )
