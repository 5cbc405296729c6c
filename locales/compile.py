"""The package build compiles the catalogs: ``pip install .`` answers in Spanish without ``make``.

Named in ``pyproject.toml`` as setuptools' ``build_py``; an editable install compiles them in place.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


def compile_catalogs(source: Path, target: Path) -> list[Path]:
    """Write ``target/<lang>/LC_MESSAGES/<domain>.mo`` for every ``.po`` under ``source``."""
    written: list[Path] = []
    for po in sorted(source.glob("*/LC_MESSAGES/*.po")):
        relative = po.relative_to(source)
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=relative.parts[0])
        mo = target / relative.with_suffix(".mo")
        mo.parent.mkdir(parents=True, exist_ok=True)
        with mo.open("wb") as handle:
            write_mo(handle, catalog)
        written.append(mo)
    return written


class BuildWithCatalogs(build_py):
    """``build_py`` that also compiles the gettext catalogs into the build (or, editable, in place)."""

    def run(self) -> None:
        super().run()
        target = HERE if self.editable_mode else Path(self.build_lib) / "locales"
        compile_catalogs(HERE, target)
