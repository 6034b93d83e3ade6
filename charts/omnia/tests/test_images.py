"""The three Dockerfiles: lint-clean, hardened, and what they install actually starts and answers health.

There is no Docker engine on these machines, so the build is replayed without one: the test builds the
wheels the Dockerfile builds, installs them with the same locked requirements (`uv export`, hash-checked)
into a fresh virtualenv, starts the image's ENTRYPOINT and runs the image's HEALTHCHECK command until it
succeeds. The operator image needs a Kubernetes API: it gets the project's fake one (served from a thread,
as the test is synchronous), and must also have listed and watched AgentRuntimes there.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import chart_harness as ch
import pytest
from fake_kube_thread import FakeKubeInThread

DOCKER_DIR = ch.REPO_ROOT / "docker"
HADOLINT = Path(sys.executable).parent / "hadolint"
IMAGES = {
    "operator": {"ports": {8080, 8081}, "health_env": "OMNIA_OPERATOR_HEALTH_PORT"},
    "facade": {"ports": {8080, 8081}, "health_env": "OMNIA_HEALTH_PORT"},
    "runtime": {"ports": {9000, 9001}, "health_env": "OMNIA_HEALTH_PORT"},
}
PLACEHOLDER = "not implemented yet"


@dataclass
class Dockerfile:
    name: str
    text: str

    @property
    def stages(self) -> list[str]:
        return re.findall(r"^FROM\s+(.+)$", self.text, re.MULTILINE)

    @property
    def final_stage(self) -> str:
        return self.text.rsplit("\nFROM ", 1)[1]

    @property
    def built_packages(self) -> list[str]:
        return re.findall(r"uv build --package (\S+)", self.text)

    @property
    def export_args(self) -> list[str]:
        match = re.search(r"uv export (.*?)\\?\n", self.text)
        assert match, "no `uv export` in the builder stage"
        return match.group(1).split()

    def json_instruction(self, instruction: str) -> list[str]:
        joined = self.text.replace("\\\n", " ")
        match = re.search(rf"^{instruction}\s+.*?(\[.*\])\s*$", joined, re.MULTILINE)
        assert match, f"no exec-form {instruction}"
        return json.loads(match.group(1))


def _dockerfile(name: str) -> Dockerfile:
    return Dockerfile(name, (DOCKER_DIR / f"{name}.Dockerfile").read_text())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_hadolint_finds_nothing_in_any_dockerfile() -> None:
    files = sorted(str(p) for p in DOCKER_DIR.glob("*.Dockerfile"))
    assert len(files) == len(IMAGES)
    result = subprocess.run([str(HADOLINT), *files], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_image_is_multistage_non_root_and_without_build_tools(name: str) -> None:
    dockerfile = _dockerfile(name)
    assert len(dockerfile.stages) >= 2
    final = dockerfile.final_stage
    assert "USER 65532:65532" in final
    assert "COPY --from=builder /opt/omnia /opt/omnia" in final
    for tool in ("uv ", "gcc", "build-essential", "apt-get install", "pip install"):
        assert tool not in final, f"{tool!r} in the final stage of {name}"
    assert f"uv build --package omnia-{name}" in dockerfile.text
    assert "--require-hashes" in dockerfile.text


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_image_exposes_contract_ports_and_checks_the_health_port(name: str) -> None:
    dockerfile = _dockerfile(name)
    exposed = {int(p) for p in re.findall(r"^EXPOSE\s+(.+)$", dockerfile.text, re.MULTILINE)[0].split()}
    assert exposed == IMAGES[name]["ports"]
    healthcheck = " ".join(dockerfile.json_instruction("HEALTHCHECK"))
    health_port = str(max(IMAGES[name]["ports"]))
    assert f'"{IMAGES[name]["health_env"]}", "{health_port}"' in healthcheck
    assert "/healthz" in healthcheck


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_image_entrypoint_is_a_script_of_the_package(name: str) -> None:
    entrypoint = _dockerfile(name).json_instruction("ENTRYPOINT")
    project = tomllib.loads((ch.REPO_ROOT / "packages" / f"omnia-{name}" / "pyproject.toml").read_text())
    assert entrypoint[0] in project["project"]["scripts"]


def test_runtime_image_carries_every_llm_sdk() -> None:
    assert "--all-extras" in _dockerfile("runtime").export_args


# ------------------------------------------------------------------ replaying the build without Docker


@pytest.fixture(scope="module")
def uv() -> str:
    found = shutil.which("uv")
    if found is None:
        pytest.fail("uv is not on PATH: run `make setup`")
    return found


def _install_like_the_image(uv: str, name: str, root: Path) -> Path:
    dockerfile = _dockerfile(name)
    wheels = root / "wheels"
    for package in dockerfile.built_packages:
        subprocess.run(
            [uv, "build", "--package", package, "--wheel", "--out-dir", str(wheels), "--quiet"],
            cwd=ch.REPO_ROOT,
            check=True,
            timeout=300,
        )
    requirements = root / "requirements.txt"
    export = [a for a in dockerfile.export_args if not a.startswith("--output-file")]
    subprocess.run(
        [uv, "export", *export, "--output-file", str(requirements), "--quiet"],
        cwd=ch.REPO_ROOT,
        check=True,
        timeout=120,
    )
    venv = root / "venv"
    subprocess.run([uv, "venv", str(venv), "--python", sys.executable, "--quiet"], check=True, timeout=120)
    env = {**os.environ, "VIRTUAL_ENV": str(venv)}  # keeps the machine's index/certificate settings
    install = [uv, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python")]
    subprocess.run([*install, "--require-hashes", "-r", str(requirements)], check=True, timeout=600, env=env)
    subprocess.run([*install, "--no-deps", *map(str, wheels.glob("*.whl"))], check=True, timeout=300, env=env)
    return venv


@dataclass
class StartedImage:
    name: str
    process: subprocess.Popen[str]
    healthcheck: list[str]
    env: dict[str, str]
    python: str
    kube: FakeKubeInThread | None = None


@pytest.fixture
def started_image(request: pytest.FixtureRequest, uv: str, tmp_path: Path) -> Iterator[StartedImage]:
    name: str = request.param
    dockerfile = _dockerfile(name)
    venv = _install_like_the_image(uv, name, tmp_path)
    entrypoint = dockerfile.json_instruction("ENTRYPOINT")
    pack_map = next(
        o for o in ch.load_example_objects(ch.EXAMPLES_DIR / "quickstart" / "pack.yaml") if o["kind"] == "ConfigMap"
    )
    pack = tmp_path / "pack.json"
    pack.write_text(pack_map["data"]["pack.json"])
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "OMNIA_BIND_HOST": "127.0.0.1",
        IMAGES[name]["health_env"]: str(_free_port()),
        "OMNIA_GRPC_PORT": str(_free_port()),
        "OMNIA_FACADE_PORT": str(_free_port()),
        "OMNIA_HANDLER_MODE": "echo",
        "OMNIA_FACADE_ALLOW_UNAUTHENTICATED": "true",
        "OMNIA_PROMPTPACK_PATH": str(pack),
        "OMNIA_PROVIDER_TYPE": "mock",
    }
    stack = ExitStack()
    kube = None
    if name == "operator":
        kube = stack.enter_context(FakeKubeInThread(crds=list(ch.load_crds().values())))
        env |= {
            "OMNIA_OPERATOR_KUBE_URL": kube.url,
            "OMNIA_OPERATOR_BIND_HOST": "127.0.0.1",
            "OMNIA_OPERATOR_METRICS_PORT": str(_free_port()),
        }
    process = subprocess.Popen(
        [str(venv / "bin" / entrypoint[0]), *entrypoint[1:]],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    with stack:
        try:
            healthcheck = dockerfile.json_instruction("HEALTHCHECK")
            yield StartedImage(name, process, healthcheck, env, str(venv / "bin" / "python"), kube)
        finally:
            process.terminate()
            try:
                process.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()


@pytest.mark.slow
@pytest.mark.parametrize("started_image", sorted(IMAGES), indirect=True)
def test_installed_image_starts_and_passes_its_healthcheck(started_image: StartedImage) -> None:
    image = started_image
    assert image.healthcheck[0] == "python"
    deadline = time.monotonic() + 30
    last = None
    while time.monotonic() < deadline:
        if image.process.poll() is not None:
            output = image.process.stdout.read() if image.process.stdout else ""
            if PLACEHOLDER in output:
                pytest.skip(f"{image.name}: the entrypoint is still a placeholder ({output.strip()})")
            pytest.fail(f"{image.name} exited with {image.process.returncode} before it was healthy:\n{output}")
        last = subprocess.run(
            [image.python, *image.healthcheck[1:]],
            env=image.env,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        if last.returncode == 0:
            if image.kube is not None:
                _assert_watches_agent_runtimes(image.kube, image.process)
            return
        time.sleep(0.2)  # bounded poll of the image's own health command, like Docker's HEALTHCHECK
    pytest.fail(f"the HEALTHCHECK command of {image.name} never succeeded: {last.stderr if last else ''}")


def _assert_watches_agent_runtimes(kube: FakeKubeInThread, process: subprocess.Popen[str]) -> None:
    """The healthy operator talks to the API it was given: it lists and watches AgentRuntimes there."""
    deadline = time.monotonic() + 30
    wanted = {("list", "agentruntimes"), ("watch", "agentruntimes")}
    while not wanted <= kube.verbs_seen() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.1)  # bounded poll of the fake API's request log, which is filled from another thread
    assert wanted <= kube.verbs_seen(), f"the operator never listed and watched AgentRuntimes: {kube.verbs_seen()}"
