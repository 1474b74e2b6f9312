"""What comparing the migrated schema with the models should look at (alembic's include_object)."""

from __future__ import annotations

from collections.abc import Callable

from newsletter.schedule.wakeups import JOB_TABLE

IncludeObject = Callable[[object, str | None, str, bool, object], bool]


def ours_on(dialect: str) -> IncludeObject:
    """Our tables and indexes on `dialect`: not APScheduler's job table (it creates and owns it), nor an
    index the models make only on another dialect (`Index(...).ddl_if(dialect="postgresql")`)."""

    def include(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
        if type_ == "table" and name == JOB_TABLE:
            return False
        only = getattr(obj, "_ddl_if", None)  # where SQLAlchemy keeps ddl_if()'s condition
        return only is None or only.dialect in (None, dialect)

    return include
