"""What the demonstrations in another environment share (bench/lake_demo.py, bench/spark_demo.py): their command
line (notices from a folder or generated, the other environment's interpreter, a work folder kept or temporary)
and the landing folder they build from."""

import argparse
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from bench.generate import ROOT, generate


def run_demo(description: str, environment: str, make_target: str, prefix: str,
             demonstrate: Callable[[Path, Path, str, int | None], int], argv: list[str] | None = None) -> int:
    """Parse the demo's command line and run `demonstrate(source, workdir, python, generated)` in the work folder.
    `environment`: the folder of its interpreter (.venv-lake), offered as --python."""
    parser = argparse.ArgumentParser(description=description)
    notices = parser.add_mutually_exclusive_group()
    notices.add_argument("--source", type=Path, default=ROOT / "seeds", help="folder of notices (default: seeds/)")
    notices.add_argument("--generated", type=int, default=None, help="that many notices of bench/generate.py instead")
    parser.add_argument("--python", default=str(ROOT / environment / "bin" / "python"),
                        help=f"the interpreter of {environment} (`make {make_target}` builds it)")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the work folder here (default: a temporary one)")
    options = parser.parse_args(argv)
    if options.workdir is not None:
        options.workdir.mkdir(parents=True, exist_ok=True)
        return demonstrate(options.source, options.workdir, options.python, options.generated)
    with tempfile.TemporaryDirectory(prefix=prefix) as workdir:
        return demonstrate(options.source, Path(workdir), options.python, options.generated)


def land(source: Path, generated: int | None, landing: Path) -> None:
    """The demo's landing folder: `generated` notices of the bench's generator, else a copy of `source`."""
    if generated is not None:
        generate(generated, landing)
    else:
        shutil.copytree(source, landing)


def finish(console, problems: list[str], failed: str, succeeded: str) -> int:
    """The demo's last line and exit code: its problems (1), or what it showed (0)."""
    if problems:
        console.print(f"[red]{failed}[/]:\n  " + "\n  ".join(problems))
        return 1
    console.print(succeeded)
    return 0
