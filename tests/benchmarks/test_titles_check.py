"""The benchmarks' own title detector: it flags invented titles, passes catalog titles, and
stays independent of the product's grounding code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.checks.titles import Reference, normalise, unknown_titles

REPO = Path(__file__).resolve().parents[2]
REF = Reference.from_titles(
    [
        "Heat (1995)",
        "Matrix, The (1999)",
        "Toy Story 2 (1999)",
        "Amores Perros (Love's a Bitch) (2000)",
        "Kill Bill: Vol. 1 (2003)",
        "This Is Spinal Tap (1984)",
    ],
    names=["Al Pacino", "Jan de Bont", "Adventure", "Animation"],
)


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ('Loves "Heat". Try "Fake Movie 3000" next.', ["Fake Movie 3000"]),
        ("Like Heat and Fake Movie 3000 and The Matrix.", ["Fake Movie 3000"]),
        ("Watch The Last Crimson Harbor tonight.", ["Last Crimson Harbor"]),
        ("추천: Galactic Tacos를 보세요.", ["Galactic Tacos"]),
        ("《기생충》 같은 영화를 좋아해요.", ["기생충"]),
        ("'Amores Perros' and Toy Story 2를 좋아하셨다면", []),
        ("Al Pacino in Heat; The Matrix (1999) too.", []),
        ("This Is Spinal Tap rocks, and so does Kill Bill: Vol", []),
        ("A slow burn with Adventure, Animation and a 'quiet' mood.", []),
        ("Hong Kong at night.", []),  # two-word proper nouns are not flagged (documented)
    ],
)
def test_flags_invented_titles_and_passes_catalog_ones(text: str, flagged: list[str]) -> None:
    assert unknown_titles(text, REF) == flagged


def test_allowed_phrases_pass() -> None:
    assert unknown_titles('"Minji Kim Special" is on', REF) == ["Minji Kim Special"]
    assert unknown_titles('"Minji Kim Special" is on', REF, allowed=["Minji Kim Special"]) == []


def test_normalisation_is_its_own() -> None:
    assert normalise("Matrix, The (1999)") == normalise("the matrix") == "matrix"
    assert normalise("Schindler’s List") == "schindler list"


@pytest.mark.parametrize("module", ["benchmarks.checks.titles", "benchmarks.checks.keywords"])
def test_it_does_not_import_the_products_title_checks(module: str) -> None:
    code = (
        f"import sys, {module}; "
        "bad = [m for m in sys.modules if m.startswith('cinerec')]; "
        "assert not bad, bad"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def test_reference_reads_the_data_files(real_data_dir: Path) -> None:
    ref = Reference.from_data_dir(real_data_dir)
    assert unknown_titles("The Matrix and Toy Story 2 by John Lasseter.", ref) == []
    assert unknown_titles('She would love "Galactic Tacos 2".', ref) == ["Galactic Tacos 2"]
