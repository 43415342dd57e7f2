"""The page's hand-written HTML, CSS, JavaScript and Vega-Lite, in one place.

Each template takes plain values (strings, numbers, rows) and returns text or a spec; the views
decide what goes in. Everything put into HTML is escaped here.
"""

from __future__ import annotations

from html import escape

# Less empty space above the title: the canvas and the prediction fit a laptop screen.
# The canvas's undo/redo toolbar waits, invisible, over the canvas's top right strip until
# hovered, and swallows a stroke started there (issue #4): keep it above the canvas. Of its
# buttons only Undo and Redo stay: someone who draws has no use for "Update the app with this
# drawing" (every stroke does), "Edit", "Bring forward / Send backward" or the component's own
# reset (the page's Clear button starts a new canvas). The canvas lives in a shadow root that
# page CSS cannot reach, so the script hands it the rules, also when a new canvas is created
# (Clear); the element holding the script takes no space.
CANVAS_TOOLBAR_CSS = (
    ".dc-toolbar{top:auto!important;bottom:100%}"
    ".dc-icon-button:not([aria-label=Undo]):not([aria-label=Redo]),"
    ".dc-toolbar-separator,.dc-toolbar-contextual{display:none!important}"
)
PAGE_STYLE = (
    "<style>[data-testid='stMainBlockContainer']{padding-top:2.5rem}"
    "[data-testid='stElementContainer']:has(>.stHtml>script){display:none}</style>"
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


def draw_header(canvas_width: int, save_panel_width: int) -> str:
    """The Draw view's title and column headings as one piece of HTML: every rerun, a stroke's
    fragment rerun included, makes the browser render every element on the page again, and a
    title, a caption and three subheaders are five markdown elements, each parsed again on every
    render (benchmarks/RESULTS.md, the page). The view's columns use the same widths and gap."""
    return (
        '<h1 style="font-size:2.75rem;font-weight:700;margin:0;padding:1.25rem 0 1rem">'
        "Draw a shape</h1>"
        '<p style="font-size:.875rem;opacity:.6;margin:0 0 .75rem">The model guesses as you draw. '
        "Save drawings under a label, train, and watch it improve.</p>"
        '<div style="display:flex;gap:4rem;font-size:1.75rem;font-weight:600;line-height:1.2">'
        f'<div style="width:{canvas_width}px" title="Hover the canvas for undo and redo.">'
        "Draw</div>"
        '<div style="flex:1">Live prediction</div>'
        f'<div style="width:{save_panel_width}px">Label and save</div></div>'
    )


def prediction_html(rows: list[dict], picture_uri: str, trained: str) -> str:
    """Probability bars (rows of class, probability, top), the model's view of the drawing (a
    data URI) and when the model was trained, as one element: a stroke then sends the browser
    one small piece of HTML, not a chart, an image file and a caption to fetch and lay out one by
    one (benchmarks/RESULTS.md, page)."""
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
        f'<img src="{picture_uri}" width="98" height="98" alt="What the model sees" '
        'style="image-rendering:pixelated">'
        '<figcaption style="font-size:.8rem;color:#808495">What it sees</figcaption></figure>'
        "</div>"
        f'<p style="font-size:.8rem;color:#808495;margin:.5rem 0 0">Model trained {escape(trained)}'
        "</p>"
    )


def curve_spec(title: str, points: bool) -> dict:
    """A line per split of one metric per epoch. Written out by hand: st.line_chart builds an
    Altair chart (about 0.2 s of Python per call), which would hold up the training thread on
    every poll."""
    return {
        "title": {"text": title, "anchor": "start", "fontSize": 13},
        "height": 180,
        "mark": {"type": "line", "point": points},
        "encoding": {
            "x": {"field": "epoch", "type": "quantitative", "axis": {"tickMinStep": 1}},
            "y": {"field": "value", "type": "quantitative", "title": None},
            "color": {"field": "split", "type": "nominal", "title": None},
        },
    }


def refusal_line(message: str) -> str:
    """One line, always the same height, empty or with a refusal (the whole text on hover when
    it is cut short)."""
    return (
        f'<p data-refusal="{escape(message)}" role="status" title="{escape(message)}" '
        'style="margin:0;height:1.4rem;line-height:1.4rem;font-size:.85rem;color:#d33;'
        'white-space:nowrap;overflow:hidden;text-overflow:ellipsis">'
        f"{escape(message)}</p>"
    )
