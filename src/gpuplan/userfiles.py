"""The one safe way to touch a file a user named: check the path, read YAML/JSON with bounds.

Every scenario, config.json and CSV a user names goes through here, so that a hostile or
mistaken input gives one :class:`~gpuplan.errors.InputError` naming the field and the limit,
never a Python traceback:

* a path must be text without NUL bytes, at most :data:`MAX_PATH_CHARS` characters, with no
  component over :data:`MAX_NAME_BYTES` bytes (POSIX ``NAME_MAX``), checked before the file
  system is asked anything;
* YAML and JSON documents may nest at most :data:`MAX_NESTING` levels (scenario files use
  about six), and YAML aliases may not expand a document beyond :data:`MAX_YAML_NODES` nodes
  (the "billion laughs" bomb), both checked before anything is built from the text.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import yaml

from gpuplan.errors import InputError

MAX_PATH_CHARS = 4096
"""Longest path accepted (Linux ``PATH_MAX``)."""
MAX_NAME_BYTES = 255
"""Longest file or folder name accepted, in UTF-8 bytes (POSIX ``NAME_MAX``)."""
MAX_NESTING = 64
"""Deepest nesting of mappings and lists in a YAML or JSON file."""
MAX_YAML_NODES = 200_000
"""Most nodes a YAML document may hold once its aliases are expanded."""


def user_path(value: object, field: str) -> Path:
    """``value`` as a :class:`Path` once it is known to be a usable path (type, NUL, length)."""
    if not isinstance(value, str | os.PathLike):
        raise InputError(
            field, f"must be a file path or a name (text), not {type(value).__name__} {value!r}."
        )
    text = os.fspath(value)
    if not isinstance(text, str) or not text.strip():
        raise InputError(field, "is empty; give a file path or a name.")
    if "\x00" in text:
        raise InputError(field, "contains a NUL byte, which no file name can hold.")
    if len(text) > MAX_PATH_CHARS:
        raise InputError(
            field, f"is {len(text):,} characters long; paths are limited to {MAX_PATH_CHARS:,}."
        )
    for part in Path(text).parts:
        size = len(part.encode("utf-8", "surrogateescape"))
        if size > MAX_NAME_BYTES:
            raise InputError(
                field,
                f"has a name of {size:,} bytes ('{part[:40]}...'); file and folder names are "
                f"limited to {MAX_NAME_BYTES} bytes.",
            )
    return Path(text)


def is_user_file(value: object) -> bool:
    """Whether ``value`` is a usable path of an existing file (never raises)."""
    try:
        return user_path(value, "path").is_file()
    except (InputError, OSError):
        return False


def read_user_text(path: Path, field: str) -> str:
    """The UTF-8 text of a user's file; unreadable or non-UTF-8 files name the field."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(field, f"'{path}' is not UTF-8 text; save it as UTF-8.") from None
    except IsADirectoryError:
        raise InputError(field, f"'{path}' is a folder; give a file.") from None
    except FileNotFoundError:
        raise InputError(field, f"'{path}' does not exist.") from None
    except OSError as error:
        raise InputError(field, f"'{path}' cannot be read ({error.strerror}).") from None


def write_user_text(path: object, text: str, field: str, inputs: tuple[Path, ...] = ()) -> Path:
    """Write ``text`` to a user's file; a failed write (no folder, read-only, disk full) or a
    target that is one of the command's ``inputs`` names the field and the path."""
    target = user_path(path, field)
    for source in inputs:
        try:
            same = target.exists() and target.samefile(source)
        except OSError:
            same = False
        if same:
            raise InputError(
                field, f"'{target}' is also the input file; write the output somewhere else."
            )
    try:
        with target.open("w", newline="", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as error:
        raise InputError(
            field,
            f"cannot write '{target}' ({error.strerror}); give a writable file in an existing "
            "folder with free space.",
        ) from None
    return target


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader with a nesting-depth bound while composing."""

    depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self.depth += 1
        if self.depth > MAX_NESTING:
            mark = self.peek_event().start_mark
            raise _TooDeep(f"nests deeper than {MAX_NESTING} levels (line {mark.line + 1})")
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


class _TooDeep(Exception):
    pass


def _expanded_size(node: yaml.Node, sizes: dict[int, int]) -> int:
    """Nodes in ``node`` once every alias is expanded (memoised by node identity)."""
    key = id(node)
    if key not in sizes:
        children: list[yaml.Node] = []
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        sizes[key] = 1 + sum(_expanded_size(child, sizes) for child in children)
    return sizes[key]


def load_yaml_text(text: str, field: str) -> Any:
    """Parse YAML with bounded nesting and bounded alias expansion."""
    loader = _BoundedLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        size = _expanded_size(node, {})
        if size > MAX_YAML_NODES:
            raise _TooDeep(
                f"expands to {size:,} values through its aliases (&/*), more than the "
                f"{MAX_YAML_NODES:,} allowed"
            )
        return loader.construct_document(node)
    except _TooDeep as error:
        raise InputError(field, f"{error}; write the values out plainly.") from None
    except yaml.YAMLError as error:
        raise InputError(field, f"is not valid YAML: {error}") from None
    except ValueError:  # a number longer than Python reads (sys.get_int_max_str_digits)
        raise _number_too_long(field) from None
    finally:
        loader.dispose()


def _number_too_long(field: str) -> InputError:
    digits = sys.get_int_max_str_digits()
    return InputError(field, f"holds a number of more than {digits:,} digits.")


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)


def json_depth(text: str) -> int:
    """Deepest nesting of ``[``/``{`` in JSON text (brackets inside strings ignored)."""
    depth = deepest = 0
    for char in re.sub(r"[^\[\]{}]", "", _JSON_STRING.sub("", text)):
        depth += 1 if char in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def load_json_text(text: str, field: str) -> Any:
    """Parse JSON with bounded nesting."""
    if json_depth(text) > MAX_NESTING:
        raise InputError(
            field, f"nests deeper than {MAX_NESTING} levels; write the values out plainly."
        )
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(field, f"is not valid JSON ({error.msg}, line {error.lineno}).") from None
    except ValueError:  # a number longer than Python reads (sys.get_int_max_str_digits)
        raise _number_too_long(field) from None
