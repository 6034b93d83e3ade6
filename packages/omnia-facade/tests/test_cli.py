import asyncio
import json
import subprocess
import sys

from omnia_facade_testkit import facade_settings, recv_json, recv_until, running_facade, ws_connect


def test_help_lists_the_commands_and_serve_options() -> None:
    top = subprocess.run([sys.executable, "-m", "omnia_facade", "--help"], capture_output=True, text=True, timeout=60)
    serve = subprocess.run(
        [sys.executable, "-m", "omnia_facade", "serve", "--help"], capture_output=True, text=True, timeout=60
    )
    assert top.returncode == 0
    assert "serve" in top.stdout
    assert "chat" in top.stdout
    assert serve.returncode == 0
    assert "OMNIA_FACADE_PORT" in serve.stdout
    assert "--health-port" in serve.stdout


def test_serve_with_an_invalid_setting_exits_with_a_clear_message() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "omnia_facade", "serve"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"OMNIA_SESSION_TTL": "forever", "PATH": ""},
    )
    assert result.returncode == 2
    assert "session_ttl" in result.stderr
    assert "invalid duration" in result.stderr


async def test_echo_handler_returns_the_input() -> None:
    async with running_facade(facade_settings(handler_mode="echo")) as running, ws_connect(running.ws_url) as ws:
        await recv_json(ws)
        await ws.send(json.dumps({"type": "message", "content": "repeat after me"}))
        frames = await recv_until(ws, "done")
    assert frames[-1]["content"] == "repeat after me"


async def test_chat_cli_streams_replies_and_answers_a_client_tool_call_from_stdin() -> None:
    settings = facade_settings(handler_mode="demo", facade_demo_delay=0)
    async with running_facade(settings) as running:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "omnia_facade",
            "chat",
            running.ws_url,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdin = b'hello\nwhat is the weather?\n{"temp": 21}\n/quit\n'
        async with asyncio.timeout(60):
            out, err = await process.communicate(stdin)
    text = out.decode()
    assert process.returncode == 0, err.decode()
    assert "[connected, session " in text
    assert "This is the Omnia demo handler" in text
    assert '[tool call get_weather {"location": "here"}]' in text
    assert "The weather tool says: {'temp': 21}" in text


async def test_chat_cli_resumes_a_session_by_id() -> None:
    settings = facade_settings(handler_mode="echo")
    async with running_facade(settings) as running:
        async with ws_connect(running.ws_url) as ws:
            hello = await recv_json(ws)
            await ws.send(json.dumps({"type": "message", "content": "first"}))
            await recv_until(ws, "done")
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "omnia_facade",
            "chat",
            running.ws_url,
            "--session",
            hello["session_id"],
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        async with asyncio.timeout(60):
            out, _ = await process.communicate(b"second\n")
        async with asyncio.timeout(10):
            await running.server.app.state.facade.wait_idle()  # the reply is saved after `done`
        log = await running.server.app.state.facade.store.messages(hello["session_id"])
    assert f"[connected, session {hello['session_id']}]" in out.decode()
    assert [m.content for m in log] == ["first", "first", "second", "second"]


async def test_chat_cli_reports_an_unreachable_facade() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "omnia_facade",
        "chat",
        "ws://127.0.0.1:9/ws?agent=x",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(60):
        _, err = await process.communicate(b"")
    assert process.returncode == 1
    assert "connection failed" in err.decode()


def test_serve_with_a_missing_api_key_path_exits_with_a_message_naming_the_setting() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "omnia_facade", "serve"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"OMNIA_FACADE_API_KEYS_PATH": "/nonexistent/keys", "OMNIA_FACADE_PORT": "0", "OMNIA_HEALTH_PORT": "0"},
    )
    assert result.returncode == 2
    assert "OMNIA_FACADE_API_KEYS_PATH=/nonexistent/keys" in result.stderr
