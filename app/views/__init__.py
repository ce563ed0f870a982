"""The app's views, one Streamlit page script each (run by ``st.navigation``, not imported)."""
