"""The one validating YAML loader for hand-written files: rule sets, fault catalogues, PDF templates.

PyYAML's safe loader (libyaml's parser when installed) with the checks a hand-edited
file needs: the file is bounded in size, must be UTF-8 (a bad byte is named by its
offset), nesting is bounded in depth and aliases in number before anything is built,
a key written twice is an error, and mappings and sequences come back as
:class:`LineDict` / :class:`LineList` carrying the 1-based line of each key and item.
Every failure is a :class:`YamlError` with its line; callers turn it into their own
typed error (RuleError, TemplateError) with the file name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

MAX_BYTES = 1024 * 1024  # a rule file or template is a few kB; beyond this it is not hand-written
MAX_DEPTH = 32  # nesting of mappings and sequences
MAX_ALIASES = 200  # `*alias` uses: enough for reuse, too few for an expansion bomb

_Base: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlError(ValueError):
    """A file that is not acceptable YAML (syntax, encoding, size, depth, duplicate key), with its 1-based line."""

    def __init__(self, message: str, line: int, fix: str = "fix the YAML on that line") -> None:
        self.line, self.fix = line, fix
        super().__init__(message)


class LineDict(dict):
    """A mapping with the line it starts on and the line of each key."""

    line: int = 0
    lines: dict[Any, int]

    def line_of(self, key: Any) -> int:
        return self.lines.get(key, self.line)


class LineList(list):
    """A sequence with the line it starts on and the line of each item."""

    line: int = 0
    lines: list[int]

    def line_of(self, index: int) -> int:
        return self.lines[index] if 0 <= index < len(self.lines) else self.line


class _Loader(_Base):
    pass


def _mapping(loader: Any, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    out = LineDict()
    out.line, out.lines = node.start_mark.line + 1, {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        try:
            hash(key)
        except TypeError:
            raise YamlError("a key must be a plain value, not a list or mapping", line) from None
        if key in out:
            raise YamlError(f"key {key!r} is written twice (first on line {out.lines[key]})", line)
        out[key] = loader.construct_object(value_node, deep=True)
        out.lines[key] = line
    return out


def _sequence(loader: Any, node: yaml.SequenceNode) -> LineList:
    out = LineList(loader.construct_object(child, deep=True) for child in node.value)
    out.line, out.lines = node.start_mark.line + 1, [child.start_mark.line + 1 for child in node.value]
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)


def _line_of_error(exc: yaml.YAMLError, text: str) -> int:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is not None:
        return int(mark.line) + 1
    position = getattr(exc, "position", None)  # a ReaderError (e.g. a NUL or other control character)
    return text.count("\n", 0, position) + 1 if isinstance(position, int) else 1


def _scan(text: str) -> None:
    """Bound nesting depth and alias count on the event stream, before any object is built."""
    depth = aliases = 0
    for event in yaml.parse(text, Loader=_Base):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise YamlError(f"nested more than {MAX_DEPTH} levels deep", event.start_mark.line + 1)
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
        elif isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise YamlError(f"more than {MAX_ALIASES} aliases (*name)", event.start_mark.line + 1)


def load_yaml(text: str) -> Any:
    """Parse YAML text; YamlError with the line on a syntax error, a duplicate key, deep nesting or a control character."""
    try:
        _scan(text)
        return yaml.load(text, Loader=_Loader)  # a SafeLoader subclass: safe
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or getattr(exc, "context", None) or getattr(exc, "reason", None) or str(exc)
        raise YamlError(f"not valid YAML ({problem})", _line_of_error(exc, text)) from None
    except RecursionError:
        raise YamlError(f"nested too deeply (more than {MAX_DEPTH} levels)", 1) from None


def decode_utf8(data: bytes) -> str:
    """The text of a file that must be UTF-8 (a BOM is allowed); YamlError names the first bad byte's offset and line."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise YamlError(f"not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start}", line, "save the file as UTF-8") from None


def load_yaml_file(path: Path, max_bytes: int = MAX_BYTES) -> Any:
    """Read and parse a hand-written YAML file; OSError when it cannot be read, YamlError when it is not acceptable."""
    with Path(path).open("rb") as fh:
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise YamlError(f"larger than {max_bytes // 1024} KiB: not a hand-written file", 1, "split it, or check it is the file you meant")
    return load_yaml(decode_utf8(data))
