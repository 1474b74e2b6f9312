"""`newsletter schema`: write the JSON Schema of issue (or publication) files for editors' tools."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option("--publication", "which", flag_value="publication", help="The publication file's schema.")
@click.option("--issue", "which", flag_value="issue", default=True, help="The issue file's schema (default).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write here instead of stdout.")
def schema(which: str, out: Path | None) -> None:
    """Print or write the JSON Schema of issue files (or publication files), generated from the models."""
    from newsletter.content.json_schema import schema_text

    text = schema_text(which)
    if out is None:
        click.echo(text, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    click.echo(str(out))
