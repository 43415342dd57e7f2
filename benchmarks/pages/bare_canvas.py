"""The reference page for the page benchmarks: the drawing canvas alone, as app.py configures it.

    streamlit run benchmarks/pages/bare_canvas.py

Same component, size, pen and `return_image_data=True` as the real page, and nothing else: the
time from mouse-up to a finished rerun here is what the component itself costs.
"""

import streamlit as st
from streamlit_drawable_canvas import st_canvas

st.title("Draw a shape")
st_canvas(
    stroke_width=8,
    stroke_color="#000000",
    background_color="#FFFFFF",
    height=280,
    width=280,
    drawing_mode="freedraw",
    return_image_data=True,
    key="canvas-0",
)
