"""The two YAML loaders behind yaml_loader.py: one composer that refuses tags, anchors and aliases,
over libyaml's C parser (`FAST`, when PyYAML has it) or PyYAML's pure-Python parser (`PureLoader`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.error import Mark
from yaml.events import AliasEvent, CollectionStartEvent, Event, NodeEvent, ScalarEvent
from yaml.nodes import Node, ScalarNode
from yaml.resolver import Resolver

_YAML_TAG_PREFIX = "tag:yaml.org,2002:"


def short_tag(tag: str) -> str:
    return "!!" + tag[len(_YAML_TAG_PREFIX) :] if tag.startswith(_YAML_TAG_PREFIX) else tag


class Refusing(Composer):
    """A composer that notes tags, anchors and aliases instead of honouring them (over any parser)."""

    refusals: dict[Node, list[str]]

    def next_event(self, *, consume: bool = False) -> Event:
        """The next parser event (typed wrapper over the untyped stubs)."""
        event: Event = self.get_event() if consume else self.peek_event()  # type: ignore[attr-defined]
        return event

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        event = self.next_event()
        if isinstance(event, AliasEvent):
            self.next_event(consume=True)
            mark = cast(Mark, event.start_mark)
            placeholder = ScalarNode("tag:yaml.org,2002:null", "", mark, mark)
            self.refusals[placeholder] = [
                f"YAML aliases (*{event.anchor}) are not allowed; write the value out"
            ]
            return placeholder
        messages = []
        if isinstance(event, ScalarEvent | CollectionStartEvent) and event.tag is not None:
            messages.append(f"YAML tags ({short_tag(event.tag)}) are not allowed; write a plain value")
        if isinstance(event, NodeEvent) and event.anchor is not None:
            messages.append(f"YAML anchors (&{event.anchor}) are not allowed; write the value out")
            event.anchor = None  # never registered, so nothing can refer to it
        node = super().compose_node(parent, index)
        if messages and node is not None:
            self.refusals[node] = messages
        return node

    if TYPE_CHECKING:  # supplied by the parser and SafeConstructor each loader mixes in

        def check_event(self, *choices: Any) -> bool: ...
        def construct_object(self, node: Any, deep: bool = False) -> Any: ...
        def dispose(self) -> None: ...


class PureLoader(Refusing, yaml.SafeLoader):
    """Our composer over PyYAML's pure-Python reader, scanner and parser."""

    def __init__(self, text: str) -> None:
        yaml.SafeLoader.__init__(self, text)
        self.refusals = {}


FAST: type[Refusing] | None = None
if yaml.__with_libyaml__:  # pragma: no branch - PyYAML wheels ship libyaml
    from yaml._yaml import CParser

    class _CLoader(Refusing, CParser, SafeConstructor, Resolver):
        """Our composer over libyaml's C parser (events only; composing stays in Python)."""

        def __init__(self, text: str) -> None:
            CParser.__init__(self, text)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            Composer.__init__(self)
            self.refusals = {}

    FAST = _CLoader


def libyaml_available() -> bool:
    """Whether files are parsed by libyaml's C parser (else by PyYAML's pure-Python one)."""
    return FAST is not None
