"""PET search (being built)."""

from __future__ import annotations

import streamlit as st

st.header("PET search")
st.info("This view is being built.")
