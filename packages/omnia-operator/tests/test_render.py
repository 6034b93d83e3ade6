"""`omnia-operator render`: manifests in, children out, clear errors for bad input."""

from pathlib import Path

import pytest
import yaml
from manifests import full_set  # pyright: ignore[reportMissingImports]

from omnia_operator.__main__ import main

REPO_ROOT = Path(__file__).resolve().parents[3]


def _write(path: Path, docs: list[dict]) -> Path:
    path.write_text(yaml.safe_dump_all(docs))
    return path


def test_render_prints_deployment_and_service_for_a_complete_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = _write(tmp_path / "all.yaml", full_set())
    assert main(["render", "-f", str(manifest), "--runtime-image", "rt:1"]) == 0
    docs = list(yaml.safe_load_all(capsys.readouterr().out))
    assert [d["kind"] for d in docs] == ["Deployment", "Service"]
    images = [c["image"] for c in docs[0]["spec"]["template"]["spec"]["containers"]]
    assert "rt:1" in images


def test_render_reads_directories_recursively(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a").mkdir()
    for index, doc in enumerate(full_set()):
        _write(tmp_path / "a" / f"{index}.yaml", [doc])
    assert main(["render", "-f", str(tmp_path)]) == 0
    assert "kind: Deployment" in capsys.readouterr().out


def test_render_fails_with_the_schema_message_for_an_invalid_resource(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    docs = full_set()
    docs[3]["spec"]["type"] = "anthropic"
    assert main(["render", "-f", str(_write(tmp_path / "x.yaml", docs))]) == 1
    err = capsys.readouterr().err
    assert "Provider default/openai" in err
    assert 'Unsupported value: "anthropic"' in err


def test_render_fails_clearly_on_non_kubernetes_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("just: a mapping\n")
    assert main(["render", "-f", str(bad)]) == 1
    assert "not a Kubernetes object" in capsys.readouterr().err
    broken = tmp_path / "broken.yaml"
    broken.write_text("kind: [unclosed\n")
    assert main(["render", "-f", str(broken)]) == 1
    assert "not valid YAML" in capsys.readouterr().err


def test_render_reports_a_missing_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", "-f", "/nonexistent/omnia.yaml"]) == 1
    assert "no such file" in capsys.readouterr().err


def test_render_explains_an_unresolvable_reference(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    docs = [d for d in full_set() if d["kind"] != "Secret"]
    assert main(["render", "-f", str(_write(tmp_path / "x.yaml", docs))]) == 1
    assert "ProviderReady=False (SecretNotFound)" in capsys.readouterr().err


def test_render_upstream_install_docs_sample(conformance_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", "-f", str(conformance_dir / "upstream-head/samples/hack/testdata/install-docs")]) == 0
    assert "kind: Service" in capsys.readouterr().out


@pytest.mark.parametrize(
    "example",
    [
        ["quickstart"],
        ["tools"],
        ["quickstart", "providers"],
        ["quickstart/provider.yaml", "quickstart/agentruntime.yaml", "canary"],
    ],
)
def test_render_repository_examples(example: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    paths = [REPO_ROOT / "examples" / part for part in example]
    assert all(path.exists() for path in paths), f"missing example files: {paths}"
    assert main(["render", *(arg for path in paths for arg in ("-f", str(path)))]) == 0, capsys.readouterr().err
    assert "kind: Deployment" in capsys.readouterr().out


def test_help_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--help"], ["render", "--help"], ["run", "--help"]):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 0
    assert "--namespaces" in capsys.readouterr().out
