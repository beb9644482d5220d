"""Server versions as comparable tuples, and the version assumed when none is known."""

from __future__ import annotations

import re
from typing import Final

from dbspecialist.knowledge.migrations.model import MigrationInputError

Version = tuple[int, int, int]

# Assumed when neither `version` nor a connection says: recent enough for the common online features, and
# older than the newest releases so that version-gated advice (NOT NULL NOT VALID on 18, ...) is not assumed.
DEFAULT_VERSIONS: Final[dict[str, Version]] = {
    "postgres": (15, 0, 0),
    "mysql": (8, 0, 36),
    "mariadb": (10, 11, 0),
    "sqlite": (3, 45, 0),
    "mongodb": (7, 0, 0),
}


# Majors a server of each dialect has had (or is about to have): outside them the text is a mistake, not a version
# to plan for. Newer than the rules know (PostgreSQL 19, say) plans with the newest rules known.
PLAUSIBLE_MAJORS: Final[dict[str, tuple[int, int]]] = {
    "postgres": (9, 19),
    "mysql": (5, 9),
    "mariadb": (10, 12),
    "sqlite": (3, 3),
    "mongodb": (3, 9),
}


def parse_version(text: str | None, dialect: str) -> tuple[Version, bool]:
    """(version, given): the parsed version, or the dialect's default and False when `text` is None."""
    if text is None or not str(text).strip():
        return DEFAULT_VERSIONS[dialect], False
    match = re.search(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?", str(text))
    if match is None:
        raise MigrationInputError(f"cannot read a version number from {text!r}; give e.g. '16', '14.2' or '8.0.36'")
    major, minor, patch = (int(g) if g is not None else 0 for g in match.groups())
    low, high = PLAUSIBLE_MAJORS[dialect]
    if not low <= major <= high:
        raise MigrationInputError(
            f"{text!r} is not a {dialect} server version (majors {low} to {high}); give the server's version, "
            f"e.g. {version_text(DEFAULT_VERSIONS[dialect], dialect)}"
        )
    return (major, minor, patch), True


def version_text(version: Version, dialect: str) -> str:
    if dialect == "postgres":
        return f"{version[0]}.{version[1]}" if version[1] else str(version[0])
    return ".".join(str(part) for part in version)
