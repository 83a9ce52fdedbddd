"""The text of a ``.cnnproj`` file: strict JSON in, stable readable JSON out.

Python's ``json`` reads more than JSON: NaN and Infinity, numbers no float can
hold (``1e400``, an integer of 400 digits), integers longer than Python's
4,300-digit conversion limit (a ``ValueError`` deep inside the parser), unpaired
surrogates in strings (``"\\ud800"``, which no file can be written with), and
any depth of nesting.  ``parse_json`` reads numbers through hooks that turn the
unholdable ones into markers instead of failing mid-parse, then one walk over
the result finds the first thing a project cannot hold and names its place.
``first_unstorable`` is that walk; saving uses it too.
"""

from __future__ import annotations

import json
import math
from typing import Any

from .layers.params import shown
from .project_format import MAX_DEPTH, ProjectError

#: longer integer literals are refused before Python converts them (its limit is 4,300 digits)
MAX_INT_DIGITS = 400
#: the largest float, for messages
FLOAT_MAX_TEXT = "about 1.8e308"


class _Unholdable:
    """Stands in for a number literal that no float holds, until the walk reports it."""

    def __init__(self, literal: str, problem: str) -> None:
        self.literal = literal
        self.problem = problem


def _literal(text: str) -> str:
    if len(text) <= 24:
        return text
    return f"{text[:10]}...{text[-6:]} ({len(text)} characters)"


def _read_int(text: str) -> int | _Unholdable:
    too_large = f"the number {_literal(text)} is too large: no number in a project may go beyond {FLOAT_MAX_TEXT}"
    if len(text) > MAX_INT_DIGITS:
        return _Unholdable(text, too_large)
    value = int(text)
    return value if _holdable_int(value) else _Unholdable(text, too_large)


def _read_float(text: str) -> float | _Unholdable:
    value = float(text)
    if math.isfinite(value):
        return value
    return _Unholdable(text, f"the value {_literal(text)} is not a finite number: it is beyond the largest "
                             f"float ({FLOAT_MAX_TEXT})")


def _read_constant(name: str) -> _Unholdable:
    return _Unholdable(name, f"the value {name} is not a finite number (JSON has no NaN or infinity)")


#: integers from here on round beyond the largest float
_FLOAT_OVERFLOW = 2 ** 1024 - 2 ** 970


def _holdable_int(value: int) -> bool:
    return -_FLOAT_OVERFLOW < value < _FLOAT_OVERFLOW


def _is_unicode(text: str) -> bool:
    """False for text with unpaired surrogates, which UTF-8 (and so no file) can hold."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# ---------------------------------------------------------------------- the walk

def json_path(parts: list[str | int]) -> str:
    """``["network", "nodes", 1, "position", 0]`` -> ``network.nodes[1].position[0]``."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def first_unstorable(data: Any, prefix: str = "") -> tuple[str, str, str] | None:
    """``(where, problem, fix)`` for the first value (in document order) a project
    cannot hold, or None: a number beyond a float (NaN, infinity, 1e400, 10**400),
    text with unpaired surrogates, or nesting deeper than ``MAX_DEPTH``."""
    # each entry: value, (parent path entry, key), depth; paths are built only for the culprit
    stack: list[tuple[Any, Any, int]] = [(data, None, 0)]
    while stack:
        value, path, depth = stack.pop()
        problem = _problem(value)
        if problem is None and isinstance(value, (dict, list)):
            if depth >= MAX_DEPTH:
                problem = (f"the JSON is nested more than {MAX_DEPTH} levels deep here; a project never is",
                           "Check that this is a .cnnproj file, or flatten these settings.")
            else:
                keys = list(value) if isinstance(value, dict) else range(len(value))
                for key in reversed(keys):
                    if isinstance(value, dict) and not (isinstance(key, str) and _is_unicode(key)):
                        return _where(prefix, (path, key)), f"the key {shown(key)} is not storable text", \
                            "Use plain text keys."
                    item = value[key]
                    if not _plainly_fine(item):
                        stack.append((item, (path, key), depth + 1))
        if problem is not None:
            return (_where(prefix, path), *problem)
    return None


def _plainly_fine(value: Any) -> bool:
    """A quick pass for the values nearly every document is made of (a file has
    hundreds of thousands); anything else goes through ``_problem``."""
    kind = type(value)
    return ((kind is str and value.isascii()) or (kind is int and -_FLOAT_OVERFLOW < value < _FLOAT_OVERFLOW)
            or (kind is float and math.isfinite(value)) or value is None or kind is bool)


def _problem(value: Any) -> tuple[str, str] | None:
    fix = "Replace it with an ordinary number."
    if isinstance(value, _Unholdable):
        return value.problem, fix
    if isinstance(value, float) and not math.isfinite(value):
        return f"the value {value} is not a finite number (NaN or infinity)", fix
    if isinstance(value, int) and not isinstance(value, bool) and not _holdable_int(value):
        return f"the number {shown(value)} is too large: no number in a project may go beyond {FLOAT_MAX_TEXT}", fix
    if isinstance(value, str) and not _is_unicode(value):
        return ("the text holds an unpaired surrogate code point (such as \\ud800), which is not Unicode text",
                "Remove the escape sequence or replace it with the character meant.")
    return None


def _where(prefix: str, path: Any) -> str:
    parts: list[str | int] = [prefix] if prefix else []
    keys: list[str | int] = []
    while path is not None:
        path, key = path
        keys.append(key)
    parts += keys[::-1]
    if len(parts) > 12:  # a path down a deep nest: its start finds the place, the count says how deep
        return f"{json_path(parts[:6])}[...] ({len(keys)} levels down)"
    return json_path(parts) or "top level"


# ---------------------------------------------------------------------- reading

class _Duplicate(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _Duplicate(key)
        result[key] = value
    return result


def parse_json(raw: bytes, source: str) -> Any:
    """The document in ``raw``; anything that is not strict JSON a project can hold is a
    ``ProjectError`` naming ``source`` and the place (line and column, or JSON path)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line, column = _line_column(raw, error.start)
        raise ProjectError(source, f"line {line}, column {column}",
                           f"the file is not UTF-8 text (byte 0x{raw[error.start]:02x})",
                           "Open a .cnnproj file, or re-save this one as UTF-8.") from None
    if not text.strip():
        raise ProjectError(source, "", "the file is empty",
                           "Restore the project from a backup; an empty file holds no network.")
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys, parse_int=_read_int, parse_float=_read_float,
                          parse_constant=_read_constant)
    except json.JSONDecodeError as error:
        truncated = not text[error.pos:].strip()
        problem = ("the file ends in the middle of the JSON (it looks truncated)" if truncated
                   else f"the file is not valid JSON ({error.msg})")
        raise ProjectError(source, f"line {error.lineno}, column {error.colno}", problem,
                           "Restore the project from a backup, or repair the JSON at that place.") from None
    except _Duplicate as error:
        key = shown(error.key)
        raise ProjectError(source, f"key {key}", f"the key {key} appears twice in one object",
                           "Keep one of them; JSON readers would silently drop the other.") from None
    except RecursionError:
        raise ProjectError(source, "", "the JSON is nested too deeply to be a project",
                           "Check that this is a .cnnproj file.") from None
    found = first_unstorable(data)
    if found is not None:
        raise ProjectError(source, *found)
    return data


def _line_column(raw: bytes, offset: int) -> tuple[int, int]:
    before = raw[:offset]
    return before.count(b"\n") + 1, offset - (before.rfind(b"\n") + 1) + 1


# ---------------------------------------------------------------------- writing

def format_json(value: Any, depth: int, width: int = 100) -> str:
    """Indented JSON; short lists and small objects on one line (readable diffs)."""
    if isinstance(value, (dict, list)) and value:
        if _is_flat(value):
            one_line = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(", ", ": "))
            if 2 * depth + len(one_line) <= width:
                return one_line
        pad, inner = "  " * depth, "  " * (depth + 1)
        if isinstance(value, dict):
            items = [f"{inner}{json.dumps(k, ensure_ascii=False)}: {format_json(v, depth + 1)}"
                     for k, v in value.items()]
            return "{\n" + ",\n".join(items) + "\n" + pad + "}"
        return "[\n" + ",\n".join(inner + format_json(v, depth + 1) for v in value) + "\n" + pad + "]"
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def _is_flat(value: dict | list) -> bool:
    """Nothing nested deeper than a list of plain values."""
    items = value.values() if isinstance(value, dict) else value
    return all(not isinstance(v, (dict, list)) or (isinstance(v, list) and not any(
        isinstance(x, (dict, list)) for x in v)) for v in items)
