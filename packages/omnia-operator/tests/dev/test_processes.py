import io
import socket
import sys

import pytest

from omnia_operator.dev.processes import Child, StartError, check_port_free, run_children


def test_a_listening_port_is_reported_with_what_it_was_for() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(StartError, match=rf"port {port} on 127.0.0.1 \(runtime gRPC\) is already in use"):
            check_port_free("127.0.0.1", port, "runtime gRPC")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_a_child_that_dies_while_starting_fails_the_run_with_its_output(
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = io.StringIO()
    child = Child(
        "runtime",
        [sys.executable, "-c", "print('cannot read the pack'); raise SystemExit(3)"],
        {},
        f"http://127.0.0.1:{_closed_port()}/readyz",
    )
    ready: list[bool] = []
    code = await run_children([child], lambda: ready.append(True), out=out)
    assert code == 1
    assert ready == []
    err = capsys.readouterr().err
    assert "runtime exited with status 3 while starting" in err
    assert "cannot read the pack" in err
    assert "[runtime] cannot read the pack" in out.getvalue()


async def test_a_program_that_cannot_be_started_is_reported(capsys: pytest.CaptureFixture[str]) -> None:
    child = Child("facade", ["/nonexistent/omnia-facade"], {}, f"http://127.0.0.1:{_closed_port()}/readyz")
    assert await run_children([child], out=io.StringIO()) == 1
    assert "cannot start facade (/nonexistent/omnia-facade)" in capsys.readouterr().err
