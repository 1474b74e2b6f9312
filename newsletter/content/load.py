"""Loading an issue and its publication from YAML into validated models, with every problem located.

`load_issue` reads files; `load_issue_text` takes the issue as text (an editor's draft in a browser) and
gives the same answers. Both refuse oversized files, report YAML and schema problems, and check every
Markdown field (links and constructs, markdown_rules.py), all at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from newsletter.content.fields import markdown_fields
from newsletter.content.markdown_rules import check_markdown
from newsletter.content.problems import translate
from newsletter.content.schema import Issue, Publication
from newsletter.content.yaml_loader import SourceMap, YamlDocument, format_loc, parse_yaml, read_yaml
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


def markdown_problems(model: BaseModel, source: SourceMap) -> list[ContentProblem]:
    """Refused links and unsupported constructs in every Markdown field, located in the file."""
    problems = []
    for loc, text in markdown_fields(model):
        for finding in check_markdown(text):
            line, col = source.locate_text(loc, finding.needle, finding.occurrence)
            field = format_loc(loc)
            problems.append(ContentProblem(source.path, line, col, field, finding.message, finding.check))
    return problems


def _validate(model: type[M], doc: YamlDocument) -> tuple[M | None, list[ContentProblem]]:
    if doc.data is None:
        return None, list(doc.problems)
    try:
        value = model.model_validate(doc.data)
    except ValidationError as exc:
        return None, [*doc.problems, *translate(model, exc, doc)]
    problems = [*doc.problems, *markdown_problems(value, doc.source)]
    return (None if problems else value), problems


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


def _load(doc: YamlDocument, path: Path, publications_dir: Path) -> LoadedIssue:
    issue, problems = _validate(Issue, doc)
    publication: Publication | None = None
    publication_source = SourceMap("", {})
    if doc.data is not None:
        found = _publication_path(doc, publications_dir)
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


def load_issue(path: Path, publications_dir: Path | None = None) -> LoadedIssue:
    """Load an issue and its publication; raises ContentError listing every problem of both files."""
    return _load(read_yaml(path), path, publications_dir or path.parent / ".." / "publications")


def load_issue_text(source: str | bytes, *, name: str, publications_dir: Path) -> LoadedIssue:
    """Load an issue given as text (no file on disk); `name` is shown in messages and gives the slug."""
    return _load(parse_yaml(name, source), Path(name), publications_dir)
