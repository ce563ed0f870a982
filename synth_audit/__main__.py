"""``python -m synth_audit``: the same as the ``synth-audit`` command."""

from synth_audit.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
