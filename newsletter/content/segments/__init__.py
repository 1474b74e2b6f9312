"""The segment language, its pure part: grammar → syntax tree → type check → persona evaluation.

`parse.py` reads an expression with lark (`grammar.lark`) into `nodes.py`'s syntax tree; `check.py`
resolves names against the subscriber fields and a publication's declared attributes and types the
tree into `checked.py`'s nodes; `persona.py` evaluates a checked segment on a dict of attribute values
(the render stage's audience blocks). The SQL compiler lives in `newsletter.audience.segments`.
Nothing here touches the database. The language is described in docs/segments.md.
"""
