"""Loading an issue and its publication from YAML into validated models, with every problem located."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from newsletter.content.problems import translate
from newsletter.content.schema import Issue, Publication
from newsletter.content.yaml_loader import SourceMap, YamlDocument, read_yaml
from newsletter.errors import ContentError, ContentProblem

DEFAULT_PUBLICATION = "e-alert"
_PUBLICATION_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class LoadedIssue:
    """A validated issue with its publication, file name slug and the source maps of both files."""

    issue: Issue
    publication: Publication
    slug: str
    path: Path
    source: SourceMap
    publication_source: SourceMap


def _validate(model: type[M], doc: YamlDocument) -> tuple[M | None, list[ContentProblem]]:
    if doc.data is None:
        return None, list(doc.problems)
    try:
        value = model.model_validate(doc.data)
    except ValidationError as exc:
        return None, [*doc.problems, *translate(model, exc, doc)]
    return (None if doc.problems else value), list(doc.problems)


def load_publication(path: Path) -> tuple[Publication, SourceMap]:
    """Load and validate a publication file; raises ContentError listing every problem."""
    doc = read_yaml(path)
    publication, problems = _validate(Publication, doc)
    if publication is None:
        raise ContentError(problems)
    return publication, doc.source


def _publication_path(doc: YamlDocument, directory: Path) -> Path | ContentProblem | None:
    """The publication file the issue names, a problem if the name is unusable, None if not text."""
    name = (doc.data or {}).get("publication", DEFAULT_PUBLICATION)
    if not isinstance(name, str):
        return None  # the schema reports the wrong type
    line, col = doc.source.locate(("publication",))
    if not _PUBLICATION_NAME.match(name):
        message = f"must be a publication name like {DEFAULT_PUBLICATION}, got {name!r}"
        return ContentProblem(doc.source.path, line, col, "publication", message)
    path = directory / f"{name}.yaml"
    if not path.is_file():
        message = f"publication file not found: {path}"
        return ContentProblem(doc.source.path, line, col, "publication", message)
    return path


def load_issue(path: Path, publications_dir: Path | None = None) -> LoadedIssue:
    """Load an issue and its publication; raises ContentError listing every problem of both files."""
    doc = read_yaml(path)
    issue, problems = _validate(Issue, doc)
    publication: Publication | None = None
    publication_source = SourceMap("", {})
    if doc.data is not None:
        found = _publication_path(doc, publications_dir or path.parent / ".." / "publications")
        if isinstance(found, ContentProblem):
            problems.append(found)
        elif found is not None:
            pub_doc = read_yaml(found)
            publication, pub_problems = _validate(Publication, pub_doc)
            publication_source = pub_doc.source
            problems += pub_problems
    if problems or issue is None or publication is None:
        raise ContentError(problems)
    return LoadedIssue(issue, publication, path.stem, path, doc.source, publication_source)
