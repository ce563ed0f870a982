"""``synth-audit app``: start the Streamlit app on a store, with workers that execute what it queues.

The app is served by ``streamlit run`` in a child process, bound to 127.0.0.1 unless ``--host`` says
otherwise. The store URL reaches the app and the workers through ``$SYNTH_AUDIT_STORE`` in their
environment, never on their command lines, where a PostgreSQL password would show in ``ps`` (the
same holds for this command: give a URL with a password as ``$SYNTH_AUDIT_STORE``, not as
``--store``). Unless ``--workers 0``, this command also starts that many ``synth-audit worker``
processes on the same store, so evaluations and tuning runs queued from the app are executed; more
workers may run anywhere else that sees the store. Ctrl-C or SIGTERM stops the app and its workers (a
run in progress is marked failed and can be re-queued).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from synth_audit.cli._common import EXIT_INTERRUPTED, EXIT_OK, add_command, make_console
from synth_audit.cli.study import add_store_argument, open_cli_store
from synth_audit.errors import SynthAuditError

__all__ = [
    "app_entry",
    "handle",
    "register",
    "start_workers",
    "streamlit_command",
    "worker_command",
]

DESCRIPTION = """\
Start the synth-audit app (Streamlit) on a result store: evaluate a release, tune a generator, see the
privacy-utility frontier and browse runs. The app queues work in the store; the workers started here
(--workers, default 1) execute it.

examples:
  synth-audit app                                   # the workspace store, http://localhost:8501
  synth-audit app --store results.sqlite --port 8600
  SYNTH_AUDIT_STORE=postgresql+psycopg://user:pw@db/audit synth-audit app --workers 0
                                                    # a password stays out of `ps`; workers elsewhere
"""


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a port number; got {text!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be between 1 and 65535; got {value}")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0; got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0; got {value}")
    return value


def _megabytes(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number of MB; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (MB); got {value}")
    return value


def register(subparsers: Any) -> None:
    p = add_command(subparsers, "app", help="start the app (Streamlit)", description=DESCRIPTION)
    add_store_argument(p)
    p.add_argument("--port", type=_port, default=8501, metavar="N", help="port (default 8501)")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        metavar="ADDR",
        help="address to bind (default 127.0.0.1: this machine only; 0.0.0.0 exposes the app, "
        "which has no login, to the network)",
    )
    p.add_argument(
        "--workers",
        type=_count,
        default=1,
        metavar="N",
        help="worker processes to start beside the app (default 1; 0 if workers run elsewhere)",
    )
    p.add_argument(
        "--max-upload-mb",
        type=_megabytes,
        default=200,
        metavar="MB",
        help="largest file a user may upload, in MB (default 200)",
    )
    p.add_argument(
        "--poll",
        type=float,
        default=1.0,
        metavar="S",
        help="seconds between the workers' looks at an empty queue (default 1)",
    )
    p.set_defaults(handler=handle)


def app_entry() -> Path:
    """The app's entry script, from the installed ``app`` package."""
    try:
        import app
    except ImportError:
        raise SynthAuditError(
            "The synth-audit app package ('app') is not installed. Reinstall synth-audit "
            '(pip install -e ".") from its source checkout.'
        ) from None
    entry = Path(app.__file__).resolve().with_name("streamlit_app.py")
    if not entry.is_file():
        raise SynthAuditError(f"The app's entry script {entry} is missing; reinstall synth-audit.")
    return entry


def streamlit_command(
    entry: Path, *, host: str, port: int, max_upload_mb: int, production: bool = True
) -> list[str]:
    """The ``streamlit run`` command line (the store URL goes through the environment)."""
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(entry),
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.maxUploadSize",
        str(max_upload_mb),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--client.showErrorDetails",
        "none",
        "--client.toolbarMode",
        "minimal",
        "--theme.base",
        "light",
    ]
    if production:
        cmd += ["--server.fileWatcherType", "none", "--server.runOnSave", "false"]
    return cmd


def worker_command(poll_s: float) -> list[str]:
    """The command line of one worker: no store URL in it (the worker reads ``$SYNTH_AUDIT_STORE``)."""
    return [sys.executable, "-m", "synth_audit", "worker", "--poll", str(poll_s)]


def start_workers(
    n: int, *, store_url: str, env: dict[str, str] | None = None, poll_s: float = 1.0, **popen: Any
) -> list[subprocess.Popen[bytes]]:
    """Start ``n`` ``synth-audit worker`` processes on the store ``store_url`` (password included),
    which they inherit in ``$SYNTH_AUDIT_STORE`` rather than on their command lines."""
    from synth_audit.store import STORE_ENV

    child_env = {**(os.environ if env is None else env), STORE_ENV: store_url}
    popen.setdefault("stdout", subprocess.DEVNULL)
    return [subprocess.Popen(worker_command(poll_s), env=child_env, **popen) for _ in range(n)]


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def _stop(procs: list[subprocess.Popen[bytes]], timeout: float = 10.0) -> None:
    for p in procs:
        if p.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                p.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                p.kill()
            p.wait()


def handle(args: argparse.Namespace) -> int:
    from rich.text import Text

    from synth_audit.service import MAX_UPLOAD_ENV, STORE_ENV
    from synth_audit.store import WORKSPACE_ENV, default_workspace

    console = make_console()
    store = open_cli_store(args.store)  # a store that cannot be used fails here, with its message
    url = store.sqlalchemy_url.render_as_string(hide_password=False)
    masked = store.url
    store.close()
    entry = app_entry()
    if not _port_free(args.host, args.port):
        raise SynthAuditError(
            f"Port {args.port} on {args.host} is already in use (another app?). Stop it, or choose "
            "another port with --port."
        )
    env = {
        **os.environ,
        STORE_ENV: url,
        MAX_UPLOAD_ENV: str(args.max_upload_mb),
        WORKSPACE_ENV: str(default_workspace().resolve()),
    }
    procs: list[subprocess.Popen[bytes]] = []

    def on_term(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        procs.extend(start_workers(args.workers, store_url=url, env=env, poll_s=args.poll))
        shown = "localhost" if args.host in ("127.0.0.1", "localhost") else args.host
        console.print(
            Text(f"synth-audit app on http://{shown}:{args.port}", style="bold").append(
                f"  (store {masked}; {args.workers} worker(s); Ctrl-C stops)", style=""
            ),
            soft_wrap=True,
        )
        if args.host not in ("127.0.0.1", "localhost", "::1"):
            console.print(
                Text(
                    f"Warning: the app listens on {args.host}, so anyone who can reach this machine "
                    "can use it and read the store; it has no login.",
                    style="bold yellow",
                ),
                soft_wrap=True,
            )
        server = subprocess.Popen(
            streamlit_command(
                entry, host=args.host, port=args.port, max_upload_mb=args.max_upload_mb
            ),
            env=env,
        )
        procs.insert(0, server)
        code = server.wait()
    except KeyboardInterrupt:
        console.print(Text("Stopping the app and its workers.", style="bold yellow"))
        _stop(procs)
        return EXIT_INTERRUPTED
    finally:
        signal.signal(signal.SIGTERM, previous)
        _stop(procs)
    if code not in (0, -signal.SIGTERM, -signal.SIGINT):
        raise SynthAuditError(
            f"The app's server (streamlit) exited with status {code}; its messages are above."
        )
    return EXIT_OK
