"""A project baked with the Proprietary licence needs no strong-copyleft package at run time.

The runtime closure is what ``pip install <project>`` brings in: the ``[project] dependencies``
of the baked pyproject.toml and, transitively, the ``Requires-Dist`` of each installed
distribution (extras only where a requirement asks for them, environment markers evaluated
for this interpreter). Dev extras (pytest, ruff, the reference implementations the tests
compare against) are not part of it. The licences read are those of the distributions
installed in the test interpreter, which ``.ci/run`` fills with the project's dependencies
(``scripts/project_requirements.py``).

Incompatible licences: GPL (any version) and AGPL, and SSPL. Their copyleft reaches the
program that uses the package: shipping the project with a GPL package makes the combined
work GPL, and AGPL/SSPL add the same obligation for software used over a network (a served
model). A proprietary project cannot accept either. Allowed: LGPL, MPL, EPL and other weak
copylefts, whose obligations stop at modifications of the package itself; a GPL licence WITH
an exception that permits linking (Classpath, GCC runtime, LLVM, linking exceptions); and a
GPL offered as one alternative of a choice (``Apache-2.0 OR GPL-2.0-or-later``), since the
user may take the other.
"""

from __future__ import annotations

import email.parser
import re
import tomllib
from importlib import metadata

import pytest
from packaging.licenses import InvalidLicenseExpression, canonicalize_license_expression
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

# GPL, AGPL or SSPL by name, but not LGPL ("Lesser"/"Library" GPL): e.g. "GPLv3", "AGPLv3+",
# "GNU General Public License v2 (GPLv2)", "GNU Affero General Public License v3".
STRONG_COPYLEFT = re.compile(
    r"(?<![a-z])a?gpl|(?<!lesser )(?<!library )general public licen[cs]e|sspl"
    r"|server side public licen[cs]e",
    re.IGNORECASE,
)
# Exceptions to the GPL that let other code link with (or run on) the package on its own terms.
LINKING_EXCEPTION = re.compile(r"classpath|link|gcc|runtime|llvm", re.IGNORECASE)
# The core-metadata value of a License field that says nothing.
NO_LICENCE = {"", "unknown", "none"}


# ------------------------------------------------------------------- licence rules


def _name_allows_proprietary(name: str) -> bool:
    """One licence, by SPDX id or by name: False for GPL/AGPL/SSPL without a linking exception."""
    if not STRONG_COPYLEFT.search(name):
        return True
    # deprecated SPDX ids carry their exception in the id: GPL-2.0-with-classpath-exception
    return "exception" in name.lower() and bool(LINKING_EXCEPTION.search(name))


def _spdx_allows_proprietary(expression: str) -> bool:
    """Whether a valid SPDX expression can be complied with by a proprietary project.

    ``OR`` is a choice (any operand will do), ``AND`` is cumulative (every operand must be
    acceptable), ``X WITH e`` is acceptable when X is, or when e is a linking exception.
    """
    tokens = re.findall(r"\(|\)|[^\s()]+", expression)
    position = 0

    def peek() -> str | None:
        return tokens[position] if position < len(tokens) else None

    def take() -> str:
        nonlocal position
        position += 1
        return tokens[position - 1]

    def either() -> bool:
        allowed = both()
        while peek() == "OR":
            take()
            allowed = both() or allowed
        return allowed

    def both() -> bool:
        allowed = single()
        while peek() == "AND":
            take()
            allowed = single() and allowed
        return allowed

    def single() -> bool:
        if peek() == "(":
            take()
            allowed = either()
            take()  # ")"
            return allowed
        allowed = _name_allows_proprietary(take())
        if peek() == "WITH":
            take()
            allowed = allowed or bool(LINKING_EXCEPTION.search(take()))
        return allowed

    return either()


def _text_allows_proprietary(text: str) -> bool:
    """The free-text License field: an SPDX expression, a name, or a whole licence text.

    A whole text (several lines) is judged by its title, its first line: texts often append
    the notices of bundled components further down (SciPy's mentions libgfortran's GPL with
    the GCC runtime exception), which are not the package's licence. A name with
    alternatives ("GPLv2 | EPLv1", "EPL-2.0 OR GPL-2.0") is acceptable if one alternative is.
    """
    text = text.strip()
    if "\n" in text:
        text = text.splitlines()[0].strip()
    try:
        return _spdx_allows_proprietary(canonicalize_license_expression(text))
    except InvalidLicenseExpression:
        pass
    alternatives = re.split(r"\s*\|\s*|\s+OR\s+", text)
    return any(
        _name_allows_proprietary(a) or bool(LINKING_EXCEPTION.search(a)) for a in alternatives
    )


def copyleft_reason(meta: metadata.PackageMetadata | email.message.Message) -> str | None:
    """Why a distribution's licence is incompatible with a proprietary project, or None.

    ``License-Expression`` (PEP 639), when present, is the licence. Otherwise the free-text
    ``License`` and the ``License ::`` classifiers are read together as the licences on offer
    (several classifiers conventionally mean a choice, as for dual-licensed packages): the
    package is incompatible only when something is declared and every offer is strong
    copyleft. A package declaring nothing is not flagged (nothing to judge).
    """
    expression = (meta.get("License-Expression") or "").strip()
    if expression:
        # an invalid expression (it should not be published) is read like the free text
        if _text_allows_proprietary(expression):
            return None
        return f"License-Expression {expression!r}"
    offers: dict[str, bool] = {}
    text = (meta.get("License") or "").strip()
    if text.lower() not in NO_LICENCE:
        offers[f"License {text.splitlines()[0][:80]!r}"] = _text_allows_proprietary(text)
    for classifier in meta.get_all("Classifier") or []:
        parts = [p.strip() for p in classifier.split("::")]
        if parts[0] != "License" or parts[1:] == ["OSI Approved"]:
            continue  # not a licence, or "some OSI licence" (says nothing)
        offers[f"classifier {parts[-1]!r}"] = _name_allows_proprietary(parts[-1])
    if not offers or any(offers.values()):
        return None
    return ", ".join(offers)


# -------------------------------------------------------------- dependency closure


def runtime_closure(
    requirements: list[str],
) -> tuple[dict[str, metadata.Distribution], list[str]]:
    """Installed distributions needed by ``requirements``, transitively.

    Returns:
        ``(found, problems)``: distributions by canonical name, and requirements that could
        not be checked (not installed, or installed at a version the requirement excludes).
    """
    found: dict[str, metadata.Distribution] = {}
    extras_walked: dict[str, set[str]] = {}
    problems: list[str] = []
    todo: list[tuple[Requirement, frozenset[str], str]] = [
        (Requirement(r), frozenset({""}), "the project") for r in requirements
    ]
    while todo:
        requirement, parent_extras, parent = todo.pop()
        marker = requirement.marker
        if marker is not None and not any(marker.evaluate({"extra": e}) for e in parent_extras):
            continue  # another platform/Python, or an extra nobody asked for
        name = canonicalize_name(requirement.name)
        try:
            dist = found.get(name) or metadata.distribution(name)
        except metadata.PackageNotFoundError:
            problems.append(f"{requirement} (needed by {parent}) is not installed")
            continue
        if not requirement.specifier.contains(dist.version, prereleases=True):
            problems.append(
                f"{requirement} (needed by {parent}) but {dist.version} is installed"
            )
        extras = {canonicalize_name(e) for e in requirement.extras} | {""}
        if name in found and extras <= extras_walked[name]:
            continue
        found[name] = dist
        extras_walked[name] = extras_walked.get(name, set()) | extras
        walked = frozenset(extras_walked[name])
        for line in dist.requires or []:
            todo.append((Requirement(line), walked, name))
    return found, problems


# --------------------------------------------------------------------------- tests


def test_proprietary_project_runtime_has_no_gpl_or_agpl_package(bake):
    # given a project baked with the Proprietary licence
    project = bake(project_name="Closed Shop", license="Proprietary", init_git="no")
    declared = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    # when its runtime dependencies are followed through the installed distributions
    closure, problems = runtime_closure(declared["dependencies"])
    offenders = {
        f"{name} {dist.version}": reason
        for name, dist in sorted(closure.items())
        if (reason := copyleft_reason(dist.metadata)) is not None
    }
    # then none of them is GPL, AGPL or SSPL
    assert "mlflow" in closure and "numpy" in closure  # the walk reached the real closure
    assert not offenders, (
        "strong-copyleft packages in the runtime of a Proprietary project (move them to the "
        "dev extra or replace them):\n  "
        + "\n  ".join(f"{k}: {v}" for k, v in offenders.items())
    )
    # and every one of them is installed at an admitted version (else its licence is unread)
    assert not problems, (
        "runtime dependencies whose licence cannot be checked here; install the project's "
        "dependencies first (.ci/run does: scripts/project_requirements.py):\n  "
        + "\n  ".join(problems)
    )


# Metadata headers as published (trimmed), and whether a proprietary project may depend on it.
RECORDED = {
    "cleanlab 2.7.1 (AGPL text and classifier)": (
        "License: \n                            GNU AFFERO GENERAL PUBLIC LICENSE\n"
        "                               Version 3, 19 November 2007\n"
        "Classifier: License :: OSI Approved :: GNU Affero General Public License "
        "v3 or later (AGPLv3+)\n",
        False,
    ),
    "AGPL by classifier only": (
        "Classifier: License :: OSI Approved :: GNU Affero General Public License v3\n",
        False,
    ),
    "cleanlab 2.9.0 (Apache text)": (
        "License: Apache License\n        Version 2.0, January 2004\n"
        "        http://www.apache.org/licenses/\n",
        True,
    ),
    "an AGPL text as License": (
        "License: GNU AFFERO GENERAL PUBLIC LICENSE\n        Version 3, 19 November 2007\n",
        False,
    ),
    "GPL by SPDX expression": ("License-Expression: GPL-3.0-only\n", False),
    "GPL by name": ("License: GPLv3\n", False),
    "GPL required alongside MIT": ("License-Expression: MIT AND GPL-2.0-or-later\n", False),
    "SSPL": ("License: SSPL-1.0\n", False),
    "LGPL expression": ("License-Expression: LGPL-3.0-or-later\n", True),
    "LGPL classifier": (
        "Classifier: License :: OSI Approved :: GNU Lesser General Public License v3 (LGPLv3)\n",
        True,
    ),
    "dulwich (Apache-2.0 OR GPL)": (
        "License-Expression: Apache-2.0 OR GPL-2.0-or-later\n",
        True,
    ),
    "grandalf (GPLv2 | EPLv1, GPL classifier)": (
        "License: GPLv2 | EPLv1\n"
        "Classifier: License :: OSI Approved :: GNU General Public License v2 (GPLv2)\n",
        True,
    ),
    "pygit2 (GPLv2 with linking exception)": ("License: GPLv2 with linking exception\n", True),
    "GPL with the Classpath exception": (
        "License-Expression: GPL-2.0-or-later WITH Classpath-exception-2.0\n",
        True,
    ),
    "scipy (BSD text, bundled GPL notice further down)": (
        "License: Copyright (c) 2001-2002 Enthought, Inc. 2003, SciPy Developers.\n"
        "        All rights reserved.\n"
        "        Name: libgfortran\n"
        "        License: GPL-3.0-or-later WITH GCC-exception-3.1\n"
        "Classifier: License :: OSI Approved :: BSD License\n",
        True,
    ),
    "nothing declared": ("Classifier: License :: OSI Approved\n", True),
}


@pytest.mark.parametrize("case", RECORDED)
def test_licence_rules_on_recorded_metadata(case):
    # given the licence headers of a published distribution
    headers, allowed = RECORDED[case]
    meta = email.parser.HeaderParser().parsestr("Metadata-Version: 2.1\nName: x\n" + headers)
    # when judged / then strong copyleft is flagged, weak copyleft and choices are not
    assert (copyleft_reason(meta) is None) == allowed, copyleft_reason(meta)
