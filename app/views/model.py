"""Audit a model (being built)."""

from __future__ import annotations

import streamlit as st

st.header("Audit a model")
st.info("This view is being built.")
