"""The synth-audit Streamlit app: evaluate a release, tune a generator, see the frontier, browse runs.

Start it with ``synth-audit app [--store URL] [--port N]`` (entry script :file:`streamlit_app.py`,
one script per view in :mod:`app.views`). The app only calls :mod:`synth_audit.service`; long work is
queued in the store and executed by ``synth-audit worker`` processes.
"""

from pathlib import Path

__all__ = ["ENTRY"]

#: The entry script ``streamlit run`` is given.
ENTRY = Path(__file__).resolve().with_name("streamlit_app.py")
