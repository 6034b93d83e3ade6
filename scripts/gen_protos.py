"""Generate the Python stubs of omnia-protos from its .proto sources.

Usage: ``python scripts/gen_protos.py`` regenerates ``packages/omnia-protos/src``;
``python scripts/gen_protos.py --check`` regenerates into a temporary folder and
exits 1 when the committed files differ from a fresh generation.

The generator versions are pinned in the root ``codegen`` dependency group, so the
output is identical on every machine that synced from ``uv.lock``.
"""

import argparse
import filecmp
import shutil
import sys
import tempfile
from pathlib import Path

from grpc_tools import protoc  # pyright: ignore[reportMissingTypeStubs]

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "packages" / "omnia-protos"
PROTO_DIR = PACKAGE / "proto"
SRC_DIR = PACKAGE / "src"
GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py", "_pb2_grpc.pyi")


def _proto_files() -> list[Path]:
    return sorted(PROTO_DIR.rglob("*.proto"))


def _generate(out_dir: Path) -> None:
    protoc_include = Path(protoc.__file__).parent / "_proto"
    for proto in _proto_files():
        args = [
            "grpc_tools.protoc",
            f"-I{PROTO_DIR}",
            f"-I{protoc_include}",
            f"--python_out={out_dir}",
            f"--grpc_python_out={out_dir}",
            f"--mypy_out={out_dir}",
            f"--mypy_grpc_out={out_dir}",
            str(proto.relative_to(PROTO_DIR)),
        ]
        if protoc.main(args) != 0:
            raise SystemExit(f"protoc failed on {proto.relative_to(ROOT)}")


def _generated_files(base: Path) -> dict[str, Path]:
    return {
        str(path.relative_to(base)): path
        for path in base.rglob("*")
        if path.is_file() and path.name.endswith(GENERATED_SUFFIXES)
    }


def main() -> int:
    parser = argparse.ArgumentParser(description="Generate the omnia-protos stubs.")
    parser.add_argument(
        "--check", action="store_true", help="fail if the committed stubs differ from a fresh generation"
    )
    options = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        fresh_dir = Path(tmp)
        _generate(fresh_dir)
        fresh = _generated_files(fresh_dir)
        committed = _generated_files(SRC_DIR)
        if options.check:
            drift = sorted(
                name
                for name in fresh.keys() | committed.keys()
                if name not in fresh
                or name not in committed
                or not filecmp.cmp(fresh[name], committed[name], shallow=False)
            )
            if drift:
                print("generated stubs are out of date; run `make protos`:", *drift, sep="\n  ")
                return 1
            print(f"protos up to date ({len(fresh)} files)")
            return 0
        for name in committed.keys() - fresh.keys():
            committed[name].unlink()
        for name, path in fresh.items():
            target = SRC_DIR / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
        print(f"generated {len(fresh)} files under {SRC_DIR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
