"""Audit a language model (being built)."""

from __future__ import annotations

import streamlit as st

st.header("Audit a language model")
st.info("This view is being built.")
