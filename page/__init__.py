"""The drawing page's rooms, one module each; app.py is the frame that picks the view.

    state.py      the session state, typed: every value the page keeps between reruns
    templates.py  the hand-written HTML, CSS, JavaScript and Vega-Lite specs
    assets.py     the canvas's code, named to the browser first so a fresh page fetches it early
    common.py     the settings, cached singletons (job registry, classifier) and toasts
    datasets.py   the dataset picker, New dataset, and the starter kept as shipped
    draw.py       the Draw view: canvas, live prediction, label and save, Train
    train.py      the Train view: recipe, progress, the model; starting a run
    results.py    the Train view's results: metrics, curves, heat map, warnings, and fixing
                  the test drawings the model got wrong
    drawings.py   the Drawings view: browse, delete and move drawings; problems; import

Streamlit lives here and in app.py only: the shapecnn package never imports it.
"""
