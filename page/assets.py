"""The canvas's code, named to the browser at the top of the page so it fetches it early.

Streamlit's frontend loads an element's code when the element first arrives: the canvas
component's module (BidiComponent), then the component's own bundle and style, each asked for
only once the one before is in. On a fresh page those requests queue behind the code of every
other element drawn first (the view control, the dataset box, the save panel's toggles ...), and
the canvas showed 0.2-0.6 s after the first run had finished (benchmarks/RESULTS.md, the page:
cold start). `<link rel="modulepreload">` / `<link rel="preload">` for them, added by the
page's first HTML element, starts those fetches while the first run is still computing; the
requests the canvas makes later are then answered from the browser's cache.

The names come from the installed packages (Streamlit's build and the canvas component's
registration), never typed in here: a name not found is left out, and the page loads as before.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

CANVAS_COMPONENT = "streamlit-drawable-canvas.streamlit_drawable_canvas"
# Streamlit's frontend module for components v2, and the modules it imports (Vite chunks).
COMPONENT_MODULE = "BidiComponent.*.js"
_IMPORTED = re.compile(r'from"\./([\w.-]+\.js)"')


@functools.cache
def canvas_preloads() -> tuple[tuple[str, str, str], ...]:
    """(rel, address relative to the page, as) for each file the canvas will ask for."""
    import streamlit
    import streamlit_drawable_canvas  # noqa: F401 - registers the component's files

    links: list[tuple[str, str, str]] = []
    scripts = Path(streamlit.__file__).parent / "static" / "static" / "js"
    for module in sorted(scripts.glob(COMPONENT_MODULE))[:1]:
        names = [module.name, *_imported(scripts, module.name, depth=2)]
        links += [("modulepreload", f"./static/js/{name}", "") for name in dict.fromkeys(names)]
    try:  # Streamlit's registry of components v2 (requirements.txt pins the versions)
        from streamlit.components.v2.get_bidi_component_manager import get_bidi_component_manager

        definition = get_bidi_component_manager().get(CANVAS_COMPONENT)
        files = [(definition.js_url, "modulepreload", ""), (definition.css_url, "preload", "style")]
    except (ImportError, AttributeError):
        files = []
    folder = f"./_stcore/bidi-components/{CANVAS_COMPONENT}"
    links += [(rel, f"{folder}/{name}", kind) for name, rel, kind in files if name]
    return tuple(links)


def _imported(folder: Path, name: str, depth: int) -> list[str]:
    """The modules a built module imports, and theirs, `depth` levels down."""
    if depth == 0 or not (folder / name).is_file():
        return []
    found = _IMPORTED.findall((folder / name).read_text(errors="replace"))
    return found + [deeper for child in found for deeper in _imported(folder, child, depth - 1)]
