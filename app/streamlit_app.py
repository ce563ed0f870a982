"""Entry script of the synth-audit app: page set-up, the store, navigation between the views.

Run with ``synth-audit app`` (or ``streamlit run app/streamlit_app.py -- --store URL``; the store
may also come from ``$SYNTH_AUDIT_STORE``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

try:
    from app import common
except ImportError:  # run from a checkout without the package installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from app import common

# The favicon is an emoji, which the browser draws itself (an inline SVG): a ``:material/...:`` page
# icon would make the browser fetch an SVG from fonts.gstatic.com, and nothing may touch the network.
# The Material icons of the navigation come from the font bundled with Streamlit: local.
PAGE_ICON = "🛡️"
st.set_page_config(page_title="synth-audit", page_icon=PAGE_ICON, layout="wide")

VIEWS = Path(__file__).resolve().parent / "views"
# Every view has its own URL path, so a direct link to any of them works. The default view is served
# at the root ("/"), where Streamlit gives it the path "" whatever its url_path says; the path
# "evaluate" is therefore a hidden page that sends the browser to the root, instead of Streamlit's
# "Page not found" pop-up. (The default page's own url_path only names it internally.)
evaluate_page = st.Page(
    VIEWS / "evaluate.py",
    title="Evaluate a release",
    icon=":material/fact_check:",
    url_path="evaluate-release",
    default=True,
)


def _to_evaluate() -> None:
    st.switch_page(evaluate_page)


URL_PATHS = ("evaluate", "tune", "frontier", "runs", "model", "lm", "search")
pages = [
    evaluate_page,
    st.Page(_to_evaluate, title="Evaluate a release", url_path="evaluate", visibility="hidden"),
    st.Page(VIEWS / "tune.py", title="Tune a generator", icon=":material/tune:", url_path="tune"),
    st.Page(
        VIEWS / "frontier.py", title="Frontier", icon=":material/scatter_plot:", url_path="frontier"
    ),
    st.Page(VIEWS / "runs.py", title="Runs", icon=":material/history:", url_path="runs"),
    st.Page(
        VIEWS / "model.py",
        title="Audit a model",
        icon=":material/model_training:",
        url_path="model",
    ),
    st.Page(
        VIEWS / "lm.py", title="Audit a language model", icon=":material/notes:", url_path="lm"
    ),
    st.Page(
        VIEWS / "search.py", title="PET search", icon=":material/travel_explore:", url_path="search"
    ),
]
# Streamlit forgets a widget's value when a page without that widget runs; these choices should
# survive a visit to another view, so they are written back (which keeps them) on every run.
KEEP = (
    "eval.source",
    "eval.sample",
    "tune.dataset",
    "tune.generator",
    "frontier.study",
    "frontier.risk",
    "frontier.conservative",
    "runs.study",
    "runs.status",
    "runs.generator",
    "runs.size",
)
for key in KEEP:
    if key in st.session_state:
        st.session_state[key] = st.session_state[key]

page = st.navigation(pages)
store_ok = False
with common.guard("The app"):
    common.get_store()  # a store that cannot be opened is reported here, once, in plain words
    store_ok = True
if not store_ok:
    st.stop()
common.sidebar()
page.run()
