"""YAML parsed into nodes that remember where they came from, and a cursor to validate them.

PyYAML's composer gives every node a start mark; we keep it (1-based) so each error can
name file, line, column and the field path. Scalars are resolved with PyYAML's safe
constructor (YAML 1.1, as kubectl does), so ``port: "80"`` stays a string.

When PyYAML has libyaml, libyaml scans and parses (about 4x faster) while PyYAML's Python
composer builds the nodes. We do not use ``yaml.CSafeLoader`` whole: its Cython composer
recurses on the C stack and crashes the interpreter (SIGSEGV) on deeply nested input such
as 100,000 ``[``; the Python composer raises RecursionError instead, which we report.
Marks are the same either way (0-based line and column, counted in characters).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Any, NoReturn

import attrs
import yaml
from yaml.composer import Composer
from yaml.resolver import Resolver

from npverify.errors import InputError
from npverify.model import Diagnostic, Severity, SourceLocation

#: Refuse documents with more nodes than this (after alias expansion) before they blow up memory.
MAX_NODES = 2_000_000


@attrs.frozen
class Node:
    """A YAML value with its location: a dict of str -> Node, a list of Node, or a scalar."""

    value: Any
    location: SourceLocation
    #: For mappings: the location of each key, to point at unknown or duplicate keys.
    key_locations: dict[str, SourceLocation] = attrs.field(factory=dict, eq=False)


if getattr(yaml, "__with_libyaml__", False):
    from yaml.cyaml import CParser

    class _Loader(CParser, Composer, Resolver):  # type: ignore[misc]
        """libyaml's event parser under PyYAML's Python composer (see the module docstring)."""

        def __init__(self, stream: str):
            CParser.__init__(self, stream)
            Composer.__init__(self)
            Resolver.__init__(self)

        # CParser has C versions of these; take the Python composer's.
        check_node = Composer.check_node
        get_node = Composer.get_node
        get_single_node = Composer.get_single_node

else:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader  # type: ignore[misc,assignment]


def _mark(filename: str, mark: yaml.Mark | None) -> SourceLocation:
    if mark is None:
        return SourceLocation(filename, 1, 1)
    return SourceLocation(filename, mark.line + 1, mark.column + 1)


class _Builder:
    def __init__(self, filename: str):
        self.filename = filename
        self.constructor = yaml.SafeLoader("")
        self.count = 0

    def build(self, node: yaml.Node, depth: int = 0) -> Node:
        self.count += 1
        loc = _mark(self.filename, node.start_mark)
        if self.count > MAX_NODES:
            raise InputError(Diagnostic(f"document too large (more than {MAX_NODES} YAML nodes, aliases expanded)", loc))
        if depth > 200:
            raise InputError(Diagnostic("document nested too deeply (more than 200 levels)", loc))
        if isinstance(node, yaml.MappingNode):
            self.constructor.flatten_mapping(node)
            values: dict[str, Node] = {}
            keys: dict[str, SourceLocation] = {}
            for key_node, value_node in node.value:
                key_loc = _mark(self.filename, key_node.start_mark)
                if not isinstance(key_node, yaml.ScalarNode):
                    raise InputError(Diagnostic("mapping keys must be strings", key_loc))
                key = self.constructor.construct_object(key_node, deep=True)
                if key is None:
                    key = "null"
                key = str(key) if not isinstance(key, bool) else ("true" if key else "false")
                if key in values:
                    raise InputError(Diagnostic(f"duplicate key {key!r}", key_loc))
                keys[key] = key_loc
                values[key] = self.build(value_node, depth + 1)
            return Node(values, loc, keys)
        if isinstance(node, yaml.SequenceNode):
            return Node([self.build(item, depth + 1) for item in node.value], loc)
        try:
            value = self.constructor.construct_object(node, deep=True)
        except (ValueError, OverflowError) as exc:
            # e.g. ``2024-13-45`` resolves as a timestamp and then fails in datetime.
            raise InputError(Diagnostic(f"invalid YAML value {node.value!r}: {exc}", loc)) from None
        return Node(value, loc)


def _is_empty(node: yaml.Node) -> bool:
    """A document with no content (only ``---``, comments or ``...``): the composer gives an empty null."""
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null" and node.value == ""


def parse_documents(text: str, filename: str) -> Iterator[Node]:
    """Parse every document of a YAML (or JSON) stream, skipping empty documents."""
    builder = _Builder(filename)
    try:
        for document in yaml.compose_all(text, Loader=_Loader):
            if document is None or _is_empty(document):
                continue
            yield builder.build(document)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "malformed YAML"
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
    except RecursionError:
        raise InputError(Diagnostic("document nested too deeply", SourceLocation(filename, 1, 1))) from None


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


@attrs.frozen
class Cursor:
    """A node together with its field path, with typed accessors that raise located errors."""

    node: Node
    path: str = ""

    @property
    def location(self) -> SourceLocation:
        return self.node.location

    @property
    def value(self) -> Any:
        return self.node.value

    def fail(self, message: str) -> NoReturn:
        raise InputError(Diagnostic(message, self.location, self.path))

    def fail_at_key(self, key: str, message: str) -> NoReturn:
        """Raise a located error about the mapping key ``key`` itself (e.g. a misplaced field)."""
        location = self.node.key_locations.get(key, self.location)
        raise InputError(Diagnostic(message, location, self._child_path(key)))

    def warning(self, message: str) -> Diagnostic:
        return Diagnostic(message, self.location, self.path, Severity.WARNING)

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
                raise InputError(Diagnostic(f"unknown field {key!r}{hint}", self.node.key_locations.get(key, self.location), self._child_path(key)))
            result[key] = Cursor(child, self._child_path(key))
        return result

    def sequence(self) -> list[Cursor]:
        if not isinstance(self.value, list):
            self.fail(f"must be a list, got {_got(self.value)}")
        return [Cursor(item, self._child_path(i)) for i, item in enumerate(self.value)]

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
