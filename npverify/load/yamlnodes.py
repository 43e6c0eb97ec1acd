"""YAML parsed into nodes that remember where they came from, and a cursor to validate them.

PyYAML's parser gives every event a start mark; we keep it (1-based) so each error can
name file, line, column and the field path. Scalars are resolved with PyYAML's safe
constructor (YAML 1.1, as kubectl does), so ``port: "80"`` stays a string.

When PyYAML has libyaml, libyaml scans and parses (about 4x faster); otherwise PyYAML's
Python parser does. libyaml caps nesting at 1,000 levels of its own; where it stops there,
the file is read again with the Python parser, which has no cap, so npverify's depth limit
decides at any value (docs/limits.md). Either way we compose the events into nodes ourselves, with loops
instead of recursion: PyYAML's composers recurse once per nesting level (its Cython one on
the C stack, which crashes the interpreter on 100,000 ``[``), and a limit on depth must not
depend on how deep the caller's stack already is. Marks are the same under both parsers
(0-based line and column, counted in characters).

Hostile input is bounded by :class:`InputLimits` (docs/limits.md): the text's size is
checked first, the nesting depth and node count while composing, and the node count again
with aliases and merge keys expanded *before* anything is expanded: the composed document
is a graph in which an alias is a second edge to the same node, so its expanded size is a
sum over the graph, and a "billion laughs" document is refused in time and memory
proportional to its text. Expanded nodes are shared, not copied, for the same reason.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterator
from typing import Any, NoReturn

import attrs
import yaml
from yaml.resolver import Resolver

from npverify.errors import InputError
from npverify.load.limits import DEFAULT_LIMITS, MAX_INTEGER_CHARS, InputLimits
from npverify.model import Diagnostic, Severity, SourceLocation


@attrs.frozen
class Node:
    """A YAML value with its location: a dict of str -> Node, a list of Node, or a scalar.

    A node an alias repeats is one shared Node object; nodes are never changed after parsing.
    """

    value: Any
    location: SourceLocation
    #: For mappings: the location of each key, to point at unknown or duplicate keys.
    key_locations: dict[str, SourceLocation] = attrs.field(factory=dict, eq=False)


class _PythonLoader(yaml.SafeLoader):
    """PyYAML's pure-Python loader (no cap on nesting depth), with its simple-key bookkeeping
    linear instead of quadratic in the number of open flow collections.

    PyYAML keeps one possible simple key per open ``[`` or ``{`` and scans them all for every
    token, so the 1,024 characters of ``[[[[...`` it reads ahead cost a million steps (a
    second) just to refuse a hostile file. Keys are added in the order of their token
    number, index and line, which only grow, and a dict keeps that order: so the stale keys
    are a prefix of it and the first key has the smallest token number. Both methods below
    give exactly what PyYAML's give, raising the same error for the same key.
    """

    def stale_possible_simple_keys(self) -> None:
        keys = self.possible_simple_keys
        stale = []
        for level, key in keys.items():
            if key.line == self.line and self.index - key.index <= 1024:
                break  # this key is fresh, and so is every later one
            if key.required:
                raise yaml.scanner.ScannerError("while scanning a simple key", key.mark, "could not find expected ':'", self.get_mark())
            stale.append(level)
        for level in stale:
            del keys[level]

    def next_possible_simple_key(self) -> int | None:
        for key in self.possible_simple_keys.values():
            return key.token_number
        return None


if getattr(yaml, "__with_libyaml__", False):
    from yaml.cyaml import CParser

    class _Loader(CParser, Resolver):  # type: ignore[misc]
        """libyaml's event parser with PyYAML's tag resolver (see the module docstring)."""

        def __init__(self, stream: str):
            CParser.__init__(self, stream)
            Resolver.__init__(self)

else:  # pragma: no cover - depends on how PyYAML was built
    _Loader = _PythonLoader  # type: ignore[misc,assignment]

_MERGE_TAG = "tag:yaml.org,2002:merge"
_VALUE_TAG = "tag:yaml.org,2002:value"
_INT_TAG = "tag:yaml.org,2002:int"
#: The tags a mapping or list may have: other tags (``!!set``, ``!!omap``, ``!!python/...``,
#: ``!Ref``) ask for a meaning npverify does not give them, so they are errors, as they
#: are on scalars.
_COLLECTION_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")

_STR_TAG = "tag:yaml.org,2002:str"
_NULL_TAG = "tag:yaml.org,2002:null"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_MAP_TAG, _SEQ_TAG = _COLLECTION_TAGS
_PLAIN_RESOLVER = Resolver()
_SIMPLE_CONSTRUCTOR = yaml.SafeLoader("")


@functools.lru_cache(maxsize=1 << 16)
def _plain_tag(value: str) -> str:
    """The tag PyYAML's resolver gives a plain (unquoted, untagged) scalar. Pure, so cached:
    manifests repeat the same keys and values thousands of times."""
    return _PLAIN_RESOLVER.resolve(yaml.ScalarNode, value, (True, False))


@functools.lru_cache(maxsize=1 << 16)
def _simple_value(tag: str, value: str) -> Any:
    """The value of an implicitly resolved int or bool scalar (the resolver's patterns
    guarantee the conversion succeeds); immutable, so cached."""
    node = yaml.ScalarNode(tag, value)
    if tag == _INT_TAG:
        return _SIMPLE_CONSTRUCTOR.construct_yaml_int(node)
    return _SIMPLE_CONSTRUCTOR.construct_yaml_bool(node)


#: Values longer than this are shortened in messages.
_SHOWN_CHARS = 60


def shorten(text: str, limit: int = _SHOWN_CHARS) -> str:
    """``text``, cut to about ``limit`` characters with the number of characters left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit:,} more characters)"


def _mark(filename: str, mark: yaml.Mark | None) -> SourceLocation:
    if mark is None:
        return SourceLocation(filename, 1, 1)
    return SourceLocation(filename, mark.line + 1, mark.column + 1)


def _utf8_size(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def check_size(size: int, filename: str, limits: InputLimits, *, at_least: bool = False) -> None:
    """Refuse an input of ``size`` bytes (or, with ``at_least``, of more than that) over ``limits.max_bytes``."""
    if size > limits.max_bytes:
        amount = f"more than {limits.max_bytes:,}" if at_least else f"{size:,}"
        raise InputError(
            Diagnostic(f"input too large: {amount} bytes; {limits.explain('max_bytes', 'bytes')}", SourceLocation(filename, 1, 1))
        )


class _Parse:
    """One file being parsed: its limits, the nodes counted so far, the scalar constructor."""

    def __init__(self, filename: str, limits: InputLimits):
        self.filename = filename
        self.limits = limits
        self.constructor = yaml.SafeLoader("")
        #: Nodes composed so far in this file, each once (bounds the composer's memory).
        self.composed = 0
        #: Nodes so far in this file with aliases expanded, over the documents already built.
        self.expanded = 0

    def location(self, mark: yaml.Mark | None) -> SourceLocation:
        return _mark(self.filename, mark)

    def too_many_nodes(self, mark: yaml.Mark | None) -> NoReturn:
        raise InputError(
            Diagnostic(
                f"too many YAML nodes: more than {self.limits.max_nodes:,} in this file, counting each "
                f"node an alias or merge key (<<) repeats; {self.limits.explain('max_nodes', 'nodes')}",
                self.location(mark),
            )
        )

    def too_deep_at(self, root_mark: Any, event: yaml.Event) -> NoReturn:
        """``too_deep`` for the fast composer, which keeps the root's start mark, not its node."""
        self.too_deep(yaml.Node(None, None, root_mark, None), event)

    def too_deep(self, root: yaml.Node, node: yaml.Node | yaml.Event, height: int | None = None) -> NoReturn:
        """Refuse the document ``root``: ``node`` starts level max_depth + 1 or, with
        ``height``, is that many levels tall through aliases."""
        where = self.location(node.start_mark)
        if height is None:
            detail = f"level {self.limits.max_depth + 1:,} starts at line {where.line}, column {where.column}"
        else:
            what = "mapping" if isinstance(node, yaml.MappingNode) else "list"
            detail = f"with aliases expanded, the {what} at line {where.line}, column {where.column} is {height:,} levels deep"
        raise InputError(
            Diagnostic(
                f"document nested too deeply: more than {self.limits.max_depth:,} levels of mappings and lists "
                f"({detail}); {self.limits.explain('max_depth', 'levels')}",
                self.location(root.start_mark),
            )
        )

    # --- events -> graph of yaml nodes -----------------------------------------------

    def compose(self, loader: Any) -> yaml.Node:
        """The next document's root node, composed as PyYAML's Composer does but without recursion.

        Aliases become shared nodes (so the result is a graph, possibly with cycles); the
        nesting depth of the text and the number of nodes are checked as events arrive.
        """
        loader.get_event()  # DocumentStartEvent
        anchors: dict[str, yaml.Node] = {}
        #: The open collections, outermost first, each with the key waiting for its value.
        stack: list[list[Any]] = []
        while True:
            event = loader.get_event()
            node: yaml.Node
            if isinstance(event, yaml.AliasEvent):
                if event.anchor not in anchors:
                    raise yaml.composer.ComposerError(None, None, f"found undefined alias {event.anchor!r}", event.start_mark)
                node = anchors[event.anchor]
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                node = stack.pop()[0]
                node.end_mark = event.end_mark
            elif isinstance(event, (yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                anchor = event.anchor
                if anchor is not None and anchor in anchors:
                    first = self.location(anchors[anchor].start_mark)
                    raise InputError(
                        Diagnostic(
                            f"invalid YAML: duplicate anchor {shorten(anchor)!r} (first defined at line {first.line}, column {first.column})",
                            self.location(event.start_mark),
                        )
                    )
                self.composed += 1
                if self.composed > self.limits.max_nodes:
                    self.too_many_nodes(event.start_mark)
                tag = event.tag
                if isinstance(event, yaml.ScalarEvent):
                    if tag is None or tag == "!":
                        tag = loader.resolve(yaml.ScalarNode, event.value, event.implicit)
                    node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, style=event.style)
                    if anchor is not None:
                        anchors[anchor] = node
                else:
                    kind = yaml.SequenceNode if isinstance(event, yaml.SequenceStartEvent) else yaml.MappingNode
                    if tag is None or tag == "!":
                        tag = loader.resolve(kind, None, event.implicit)
                    node = kind(tag, [], event.start_mark, None, flow_style=event.flow_style)
                    if len(stack) >= self.limits.max_depth:
                        self.too_deep(stack[0][0], event)
                    if anchor is not None:
                        anchors[anchor] = node
                    stack.append([node, None])
                    continue
            else:  # pragma: no cover - the parser checks the event order
                raise yaml.YAMLError(f"unexpected {type(event).__name__}")
            if not stack:
                loader.get_event()  # DocumentEndEvent
                return node
            top = stack[-1]
            if isinstance(top[0], yaml.SequenceNode):
                top[0].value.append(node)
            elif top[1] is None:
                top[1] = node
            else:
                top[0].value.append((top[1], node))
                top[1] = None

    # --- events -> Nodes, for text without anchors, aliases or merge keys -------------

    def compose_tree(self, loader: Any) -> Node | None:
        """The next document as Nodes, built straight from the events; None for an empty one.

        Only for text with no anchors (so no aliases) and no merge keys: then the document
        is a tree, and composing it into yaml nodes first and building Nodes from them (the
        general path, about three times slower) gives the same Nodes. Every check happens
        at the same event and in the same order as on the general path, so the same
        document gets the same first error.
        """
        loader.get_event()  # DocumentStartEvent
        filename = self.filename
        limits = self.limits
        #: Open collections, outermost first: [is_mapping, items, start_mark, tag, key],
        #: where a mapping's items are (key, value Node) pairs and key is the pending key:
        #: a ScalarEvent, or the start mark of a collection used as a key.
        stack: list[list[Any]] = []
        #: The first error in a value. The general path finds these only once the whole
        #: document is composed, so a later syntax or limit error comes first: keep
        #: reading the document and raise this at its end.
        failed: InputError | yaml.YAMLError | None = None
        while True:
            event = loader.get_event()
            kind = type(event)
            node: Any
            if kind is yaml.ScalarEvent:
                self.composed += 1
                if self.composed > limits.max_nodes:
                    self.too_many_nodes(event.start_mark)
                if stack and stack[-1][0] and stack[-1][4] is None:
                    stack[-1][4] = event  # a key: converted when its mapping ends, as on the general path
                    continue
                if failed is None:
                    try:
                        node = self._scalar_node(event)
                    except (InputError, yaml.YAMLError) as exc:  # YAMLError: a constructor's
                        failed = exc
            elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                self.composed += 1
                if self.composed > limits.max_nodes:
                    self.too_many_nodes(event.start_mark)
                if len(stack) >= limits.max_depth:
                    self.too_deep_at(stack[0][2], event)
                if stack and stack[-1][0] and stack[-1][4] is None:
                    stack[-1][4] = event.start_mark
                    self._skip_collection(loader, stack)
                    continue
                is_mapping = kind is yaml.MappingStartEvent
                tag = event.tag
                if tag is None or tag == "!":
                    tag = _MAP_TAG if is_mapping else _SEQ_TAG
                stack.append([is_mapping, [], event.start_mark, tag, None])
                continue
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                is_mapping, items, start_mark, tag, _ = stack.pop()
                if failed is None:
                    try:
                        node = self._collection_node(is_mapping, items, start_mark, tag)
                    except (InputError, yaml.YAMLError) as exc:  # YAMLError: a constructor's
                        failed = exc
            elif kind is yaml.AliasEvent:
                raise yaml.composer.ComposerError(None, None, f"found undefined alias {event.anchor!r}", event.start_mark)
            else:  # pragma: no cover - the parser checks the event order
                raise yaml.YAMLError(f"unexpected {kind.__name__}")
            if failed is not None:
                node = None
            if not stack:
                loader.get_event()  # DocumentEndEvent
                if failed is not None:
                    raise failed
                if kind is yaml.ScalarEvent and event.value == "" and node.value is None and event.implicit[0]:
                    return None  # an empty document
                return node
            top = stack[-1]
            if top[0]:
                top[1].append((top[4], node))
                top[4] = None
            else:
                top[1].append(node)

    def _skip_collection(self, loader: Any, stack: list[list[Any]]) -> None:
        """Consume a collection used as a mapping key (an error when its mapping ends),
        counting its nodes and depth as the general composer does."""
        depth = 1
        while depth:
            event = loader.get_event()
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent, yaml.ScalarEvent)):
                self.composed += 1
                if self.composed > self.limits.max_nodes:
                    self.too_many_nodes(event.start_mark)
                if not isinstance(event, yaml.ScalarEvent):
                    if len(stack) + depth >= self.limits.max_depth:
                        self.too_deep_at(stack[0][2], event)
                    depth += 1
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
            elif isinstance(event, yaml.AliasEvent):
                raise yaml.composer.ComposerError(None, None, f"found undefined alias {event.anchor!r}", event.start_mark)

    def _scalar_node(self, event: yaml.ScalarEvent) -> Node:
        mark = event.start_mark
        location = SourceLocation(self.filename, mark.line + 1, mark.column + 1)
        tag = event.tag
        if tag is None or tag == "!":
            value = event.value
            tag = _plain_tag(value) if event.implicit[0] else _STR_TAG
            if tag == _STR_TAG:
                return Node(value, location)
            if tag == _NULL_TAG:
                return Node(None, location)
            if tag == _BOOL_TAG or (tag == _INT_TAG and len(value) <= MAX_INTEGER_CHARS):
                return Node(_simple_value(tag, value), location)
        return Node(self._scalar(yaml.ScalarNode(tag, event.value, mark, event.end_mark, style=event.style)), location)

    def _collection_node(self, is_mapping: bool, items: list, start_mark: Any, tag: str) -> Node:
        location = SourceLocation(self.filename, start_mark.line + 1, start_mark.column + 1)
        if tag not in _COLLECTION_TAGS:
            what = "mapping" if is_mapping else "list"
            shown = tag.replace("tag:yaml.org,2002:", "!!")
            raise InputError(Diagnostic(f"invalid YAML: unsupported tag {shorten(shown)!r} on a {what}", location))
        if not is_mapping:
            return Node(items, location)
        values: dict[str, Node] = {}
        keys: dict[str, SourceLocation] = {}
        for key_event, value in items:
            if not isinstance(key_event, yaml.ScalarEvent):
                raise InputError(Diagnostic("mapping keys must be strings", self.location(key_event)))
            mark = key_event.start_mark
            key_location = SourceLocation(self.filename, mark.line + 1, mark.column + 1)
            if key_event.tag is None and (not key_event.implicit[0] or _plain_tag(key_event.value) == _STR_TAG):
                key = key_event.value
            else:
                tag = key_event.tag
                if tag is None or tag == "!":
                    tag = _plain_tag(key_event.value) if key_event.implicit[0] else _STR_TAG
                key = self._key(yaml.ScalarNode(tag, key_event.value, mark, key_event.end_mark, style=key_event.style))
            if key in values:
                raise InputError(Diagnostic(f"duplicate key {shorten(key)!r}", key_location))
            values[key] = value
            keys[key] = key_location
        return Node(values, location, keys)

    # --- graph of yaml nodes -> Nodes --------------------------------------------------

    def build(self, root: yaml.Node) -> Node:
        """The Node of ``root``, with merge keys applied and aliases shared, after checking limits.

        A depth-first walk without recursion that finishes every child before its parent:
        each graph node is built once, with its expanded size and height, and the limits
        are checked as each node is finished, so nothing is expanded before it is known to fit.
        """
        budget = self.limits.max_nodes - self.expanded
        built: dict[int, Node] = {}
        #: (expanded size, height) by id of the built Node; sizes saturate above the budget.
        measure: dict[int, tuple[int, int]] = {}
        on_path: set[int] = set()
        #: Work done so far: each graph node with its keys, counted once. A lower bound of
        #: the expanded size (each graph node appears at least once), so it bounds the walk.
        work = 0
        stack: list[tuple[yaml.Node, Iterator[yaml.Node]]] = [(root, iter(self._children(root)))]
        on_path.add(id(root))
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is not None:
                if id(child) in built:
                    continue
                if id(child) in on_path:
                    what = "mapping" if isinstance(child, yaml.MappingNode) else "list"
                    raise InputError(Diagnostic(f"invalid YAML: recursive alias: this {what} contains an alias to itself", self.location(child.start_mark)))
                on_path.add(id(child))
                stack.append((child, iter(self._children(child))))
                continue
            stack.pop()
            on_path.discard(id(node))
            result, parts = self._finish(node, built)
            size = 1
            height = 0
            for part in parts:
                part_size, part_height = measure[id(part)]
                size = min(size + part_size + (1 if isinstance(result.value, dict) else 0), budget + 1)
                height = max(height, part_height)
            if isinstance(node, yaml.CollectionNode):
                height += 1
            work += 1 + (len(parts) if isinstance(result.value, dict) else 0)
            if size > budget or work > budget:
                self.too_many_nodes(node.start_mark)
            if height > self.limits.max_depth:
                self.too_deep(root, node, height)
            built[id(node)] = result
            measure[id(result)] = (size, height)
        # Nodes of this document are not needed by the next one.
        self.constructor.constructed_objects.clear()
        self.constructor.recursive_objects.clear()
        self.expanded += measure[id(built[id(root)])][0]
        return built[id(root)]

    def _children(self, node: yaml.Node) -> list[yaml.Node]:
        """The nodes ``node`` is built from: items, values and merge sources (not keys)."""
        if isinstance(node, yaml.SequenceNode):
            return list(node.value)
        if not isinstance(node, yaml.MappingNode):
            return []
        children = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                children += self._merge_sources(value_node)
            else:
                children.append(value_node)
        return children

    def _merge_sources(self, value_node: yaml.Node) -> list[yaml.Node]:
        """The mappings a merge key (``<<``) merges, in their order of precedence (first wins)."""
        sources = [value_node] if isinstance(value_node, yaml.MappingNode) else value_node.value if isinstance(value_node, yaml.SequenceNode) else None
        if sources is None or not all(isinstance(source, yaml.MappingNode) for source in sources):
            bad = value_node if sources is None else next(s for s in sources if not isinstance(s, yaml.MappingNode))
            raise InputError(
                Diagnostic(f"invalid YAML: a merge key (<<) takes a mapping or a list of mappings, got {bad.id}", self.location(bad.start_mark))
            )
        return list(sources)

    def _finish(self, node: yaml.Node, built: dict[int, Node]) -> tuple[Node, list[Node]]:
        """The Node of ``node`` (whose children are built) and the Nodes it contains."""
        location = self.location(node.start_mark)
        if isinstance(node, yaml.CollectionNode) and node.tag not in _COLLECTION_TAGS:
            what = "mapping" if isinstance(node, yaml.MappingNode) else "list"
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            raise InputError(Diagnostic(f"invalid YAML: unsupported tag {shorten(tag)!r} on a {what}", location))
        if isinstance(node, yaml.SequenceNode):
            items = [built[id(item)] for item in node.value]
            return Node(items, location), items
        if not isinstance(node, yaml.MappingNode):
            return Node(self._scalar(node), location), []
        # Merge keys as PyYAML applies them: the mapping's own keys override merged ones,
        # and of several merged mappings the first wins. A key written twice is an error.
        values: dict[str, Node] = {}
        keys: dict[str, SourceLocation] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                for source in reversed(self._merge_sources(value_node)):
                    merged = built[id(source)]
                    values.update(merged.value)
                    keys.update(merged.key_locations)
        own: set[str] = set()
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key_location = self.location(key_node.start_mark)
            key = self._key(key_node)
            if key in own:
                raise InputError(Diagnostic(f"duplicate key {shorten(key)!r}", key_location))
            own.add(key)
            values[key] = built[id(value_node)]
            keys[key] = key_location
        return Node(values, location, keys), list(values.values())

    def _key(self, node: yaml.Node) -> str:
        if not isinstance(node, yaml.ScalarNode):
            raise InputError(Diagnostic("mapping keys must be strings", self.location(node.start_mark)))
        if node.tag == _VALUE_TAG:
            return str(node.value)  # ``=``, which PyYAML reads as a string key
        key = self._scalar(node)
        if key is None:
            return "null"
        if isinstance(key, bool):
            return "true" if key else "false"
        return str(key)

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        if node.tag == _INT_TAG and len(node.value) > MAX_INTEGER_CHARS:
            raise InputError(
                Diagnostic(
                    f"integer too long: {len(node.value):,} characters, more than {MAX_INTEGER_CHARS:,}; quote it if it is a string",
                    self.location(node.start_mark),
                )
            )
        try:
            return self.constructor.construct_object(node, deep=True)
        except yaml.YAMLError:
            raise
        # PyYAML's constructors raise what the conversion raises: ValueError for ``2024-13-45``
        # (a timestamp datetime rejects), KeyError for ``!!bool maybe``, AttributeError for
        # ``!!timestamp x``, binascii.Error (a ValueError) for bad ``!!binary``.
        except (ValueError, OverflowError, KeyError, AttributeError, TypeError, IndexError) as exc:
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            detail = f": {shorten(str(exc), 200)}" if isinstance(exc, (ValueError, OverflowError)) and str(exc) else ""
            raise InputError(
                Diagnostic(f"invalid YAML value {shorten(node.value)!r}: not a valid {tag}{detail}", self.location(node.start_mark))
            ) from None


def _is_empty(node: yaml.Node) -> bool:
    """A document with no content (only ``---``, comments or ``...``): the composer gives an empty null."""
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null" and node.value == ""


def parse_documents(
    text: str, filename: str, limits: InputLimits = DEFAULT_LIMITS, *, fast: bool = True
) -> Iterator[Node]:
    """Parse every document of a YAML (or JSON) stream, skipping empty documents.

    Raises InputError, located, for malformed YAML and for input over ``limits``.
    ``fast=False`` forces the general composer (for tests comparing the two).
    """
    if len(text) > limits.max_bytes and not text.isascii():
        check_size(len(text), filename, limits, at_least=True)  # without encoding a huge text
    check_size(_utf8_size(text), filename, limits)
    yielded = 0
    try:
        for node in _parse_with(_Loader, text, filename, limits, fast):
            yield node
            yielded += 1
    except _ParserDepthCap:
        # libyaml stops at its own depth (1,000 levels), and its scanner reads up to 1,024
        # characters ahead, so it can stop before npverify's check at max_depth + 1 even
        # when max_depth is lower. PyYAML's Python parser has no such cap: read the text
        # again with it, so npverify's limit, and its message, decide. The parsers give the
        # same documents, so the ones already given are skipped.
        for index, node in enumerate(_parse_with(_PYTHON_LOADER, text, filename, limits, fast)):
            if index >= yielded:
                yield node


#: PyYAML's pure-Python parser: slower than libyaml, but with no cap on nesting depth.
_PYTHON_LOADER: Any = _PythonLoader

#: What libyaml (0.2.6, as PyYAML 6.0.4 bundles it) says when a document is nested deeper
#: than its MAX_NESTING_LEVEL.
_PARSER_DEPTH_CAP = "exceeded maximum nesting depth"


class _ParserDepthCap(Exception):
    """libyaml refused the text for its own nesting cap, before npverify's limit could decide."""


def _parse_with(loader_class: Any, text: str, filename: str, limits: InputLimits, fast: bool) -> Iterator[Node]:
    """:func:`parse_documents` with one parser; raises _ParserDepthCap where the parser's own depth cap stops it."""
    parse = _Parse(filename, limits)
    loader = None
    try:
        loader = loader_class(text)
        loader.get_event()  # StreamStartEvent
        # Anchors (&) come before any alias, and merge keys are spelt << or !!merge: text
        # without these characters is a tree of plain values, which the fast composer builds.
        tree = fast and "&" not in text and "<<" not in text and "merge" not in text
        while not loader.check_event(yaml.StreamEndEvent):
            if tree:
                node = parse.compose_tree(loader)
                if node is not None:
                    yield node
                continue
            document = parse.compose(loader)
            if _is_empty(document):
                continue
            yield parse.build(document)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "malformed YAML"
        if problem == _PARSER_DEPTH_CAP:
            if loader_class is not _PYTHON_LOADER:
                raise _ParserDepthCap from None
            # Not so in PyYAML 6.0.4; should a later Python parser have a cap of its own,
            # the user still learns which limit is whose.
            raise InputError(
                Diagnostic(
                    f"document nested deeper than the YAML parser reads ({problem}), though within npverify's "
                    f"limit of {limits.max_depth:,} levels (--max-nesting-depth, InputLimits.max_depth)",
                    _mark(filename, mark),
                )
            ) from None
        raise InputError(Diagnostic(f"invalid YAML: {problem}", _mark(filename, mark))) from None
    except yaml.reader.ReaderError as exc:
        # Its position counts bytes under libyaml and characters otherwise; the reader stops
        # at the first unacceptable character, so that character's first occurrence is where.
        char = chr(exc.character) if isinstance(exc.character, int) else str(exc.character or "")[:1]
        offset = text.find(char) if char else -1
        where = _offset_location(text, offset, filename) if offset >= 0 else SourceLocation(filename, 1, 1)
        code = f" #x{ord(char):04x}" if char else ""
        raise InputError(Diagnostic(f"invalid YAML: unacceptable character{code}: {exc.reason}", where)) from None
    except yaml.YAMLError as exc:
        raise InputError(Diagnostic(f"invalid YAML: {exc}", SourceLocation(filename, 1, 1))) from None
    except UnicodeError as exc:
        # libyaml encodes the text to UTF-8 first; lone surrogates cannot be encoded.
        raise InputError(Diagnostic(f"invalid text: {exc.reason}", SourceLocation(filename, 1, 1))) from None
    except RecursionError:  # pragma: no cover - nothing here recurses per nesting level
        raise InputError(Diagnostic("document nested too deeply", SourceLocation(filename, 1, 1))) from None
    finally:
        if loader is not None:
            loader.dispose()


def _offset_location(text: str, offset: int, filename: str) -> SourceLocation:
    """The 1-based line and column of character ``offset`` in ``text``."""
    line_start = text.rfind("\n", 0, offset) + 1
    return SourceLocation(filename, text.count("\n", 0, offset) + 1, offset - line_start + 1)


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "mapping"
    if isinstance(value, list):
        return "list"
    return type(value).__name__


def _show(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return _type_name(value)
    return repr(value) if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)


def _got(value: Any) -> str:
    """What a wrong value is, for "must be X, got ...": ``list``, ``null``, ``integer 3``, ``string 'x'``."""
    if value is None or isinstance(value, (dict, list)):
        return _type_name(value)
    return f"{_type_name(value)} {_show(value)}"


#: Messages and field paths longer than this are cut in the middle (they quote the input,
#: which may be a 60 MB string), keeping the end, which says what is wrong.
_MESSAGE_CHARS = 1000


def _clip(text: str) -> str:
    if len(text) <= _MESSAGE_CHARS:
        return text
    keep = _MESSAGE_CHARS // 2
    return f"{text[:keep]}... ({len(text) - 2 * keep:,} characters left out) ...{text[-keep:]}"


def located(message: str, location: SourceLocation, path: str, severity: Severity = Severity.ERROR) -> Diagnostic:
    """A diagnostic at ``location`` and field ``path``, as a cursor's ``fail`` raises it."""
    return Diagnostic(_clip(message), location, _clip(path), severity)




class Cursor:
    """A node together with its field path, with typed accessors that raise located errors.

    The path is spelt out only when asked for (in an error), from the parent's path and
    the key: loading visits a million fields and most are never named.
    """

    __slots__ = ("node", "_path", "_parent", "_key")

    def __init__(self, node: Node, path: str = "", *, parent: Cursor | None = None, key: str | int | None = None):
        self.node = node
        self._path: str | None = None if parent is not None else path
        self._parent = parent
        self._key = key

    @property
    def path(self) -> str:
        if self._path is None:
            assert self._parent is not None and self._key is not None
            self._path = self._parent._child_path(self._key)
        return self._path

    def __repr__(self) -> str:
        return f"Cursor({self.path or '<root>'} at {self.location})"

    @property
    def location(self) -> SourceLocation:
        return self.node.location

    @property
    def value(self) -> Any:
        return self.node.value

    def fail(self, message: str) -> NoReturn:
        raise InputError(located(message, self.location, self.path))

    def fail_at_key(self, key: str, message: str) -> NoReturn:
        """Raise a located error about the mapping key ``key`` itself (e.g. a misplaced field)."""
        location = self.node.key_locations.get(key, self.location)
        raise InputError(located(message, location, self._child_path(key)))

    def warning(self, message: str) -> Diagnostic:
        return located(message, self.location, self.path, Severity.WARNING)

    def _child_path(self, key: str | int) -> str:
        if isinstance(key, int):
            return f"{self.path}[{key}]"
        return f"{self.path}.{key}" if self.path else key

    def mapping(self, allowed: tuple[str, ...] | None = None, what: str = "") -> dict[str, Cursor]:
        """The node as a mapping of cursors; unknown keys are errors with a did-you-mean."""
        if not isinstance(self.value, dict):
            self.fail(f"must be a mapping{what}, got {_got(self.value)}")
        result = {}
        for key, child in self.value.items():
            if allowed is not None and key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
                hint = f"; did you mean {close[0]!r}?" if close else f"; known fields: {', '.join(allowed)}"
                location = self.node.key_locations.get(key, self.location)
                raise InputError(located(f"unknown field {shorten(key)!r}{hint}", location, self._child_path(key)))
            result[key] = Cursor(child, parent=self, key=key)
        return result

    def sequence(self) -> list[Cursor]:
        if not isinstance(self.value, list):
            self.fail(f"must be a list, got {_got(self.value)}")
        return [Cursor(item, parent=self, key=i) for i, item in enumerate(self.value)]

    def optional_sequence(self) -> list[Cursor]:
        """A list, where null counts as an empty list (as the API server reads it)."""
        return [] if self.value is None else self.sequence()

    def string(self, allow_empty: bool = False) -> str:
        if not isinstance(self.value, str):
            self.fail(f"must be a string, got {_got(self.value)}")
        if not allow_empty and not self.value:
            self.fail("must not be empty")
        return self.value

    def integer(self) -> int:
        if isinstance(self.value, bool) or not isinstance(self.value, int):
            self.fail(f"must be an integer, got {_got(self.value)}")
        return self.value

    def boolean(self) -> bool:
        if not isinstance(self.value, bool):
            self.fail(f"must be true or false, got {_got(self.value)}")
        return self.value

    def string_map(self) -> dict[str, str]:
        """A mapping of strings to strings (labels); null counts as empty."""
        if self.value is None:
            return {}
        return {key: child.string(allow_empty=True) for key, child in self.mapping().items()}
