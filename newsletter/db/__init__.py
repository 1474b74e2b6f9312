"""Kernel persistence: engine and sessions (`session.py`), mapped tables (`tables.py`), Alembic (`migrate`).

Nothing is re-exported here, so importing the tables does not load Alembic: import the submodule you need.
"""
