"""Checks JSON request and response bodies against botocore's service model.

Two directions are covered:

* ``validate_output(service, operation, body)`` checks a raw JSON response
  dict (as the endpoint is about to send it) against the operation's output
  shape: no unknown members, required members present, right JSON types
  (timestamps are numbers), enum values, length and range limits, patterns.
  It returns a list of human readable problems (empty when the body is fine).

* ``validate_input(service, operation, body)`` mimics the request validation
  AWS performs before an operation runs and returns the messages AWS puts in a
  ``ValidationException`` ("1 validation error detected: Value '11' at
  'maxResults' failed to satisfy constraint: ...").  Member paths use AWS's
  lowerCamelCase spelling and ``.N.member`` for list items.

The model is the one installed with botocore, so the endpoint always follows
the SDK the collection is tested with.
"""

from __future__ import annotations

import base64
import functools
import re
import threading
from typing import Any

import botocore.session
from botocore.model import ListShape, MapShape, Shape, StructureShape

try:  # The third-party ``regex`` module understands \p{L}; ``re`` does not.
    import regex as _regex_mod  # type: ignore
except ImportError:  # pragma: no cover - depends on the environment
    _regex_mod = None

# AWS sends empty lists for list members whose model shape says "min": 1 (for
# example GetParameters' InvalidParameters, GetParameterHistory's Labels, see
# the AWS CLI examples); the minimum describes requests.  An empty output list
# is therefore accepted; a non-empty one must still respect the minimum.
EMPTY_OUTPUT_LISTS_OK = True

# Values AWS is known to return although the model's enum does not list them.
# Keep this table short and explain every entry.
KNOWN_ENUM_EXTENSIONS: dict[str, frozenset[str]] = {
    # DescribeDocument reports each document parameter with the type written in
    # the document itself; documents also use StringMap, MapList, Boolean and
    # Integer although the model's enum only names String and StringList.
    "DocumentParameterType": frozenset({"StringMap", "MapList", "Boolean", "Integer"}),
}

# Patterns AWS's own responses do not follow.  GetCommandInvocation's
# ExecutionStartDateTime / ExecutionEndDateTime / ExecutionElapsedTime are
# "StringDateTime" strings whose model pattern allows one fractional digit only,
# while AWS sends milliseconds ("2020-02-19T18:18:03.419Z"), an ISO 8601
# duration for the elapsed time ("PT0.091S"), and "" while the plugin has not
# started (AWS CLI examples and the API reference).  Values matching one of
# these are accepted besides the model's pattern.
KNOWN_PATTERN_EXTENSIONS: dict[str, tuple[str, ...]] = {
    "StringDateTime": (
        r"",
        r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z",
        r"P(\d+D)?(T(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?",
    ),
}

_lock = threading.Lock()
_session = None


def _botocore_session():
    global _session
    with _lock:
        if _session is None:
            _session = botocore.session.get_session()
        return _session


@functools.lru_cache(maxsize=None)
def service_model(service: str):
    return _botocore_session().get_service_model(service)


def operation_model(service: str, operation: str):
    return service_model(service).operation_model(operation)


def has_operation(service: str, operation: str) -> bool:
    return operation in service_model(service).operation_names


def error_message_key(service: str, code: str) -> str | None:
    """Spelling of the message member of an error shape ("Message"/"message").

    Returns None when the model declares the error without any message member
    (for example ``InvalidResourceId``); AWS then sends only ``__type``.
    """
    model = service_model(service)
    try:
        shape = model.shape_for(code)
    except Exception:
        return "message"
    if not isinstance(shape, StructureShape):
        return "message"
    for name in ("Message", "message"):
        if name in shape.members:
            return name
    return None


# --------------------------------------------------------------------------
# patterns


@functools.lru_cache(maxsize=512)
def _compile(pattern: str):
    if _regex_mod is not None:
        try:
            return _regex_mod.compile(pattern)
        except Exception:
            return None
    # Approximations good enough for the tag patterns of the SSM model; they are
    # only used inside [...] character classes there.
    translated = (
        pattern.replace(r"\p{L}", "A-Za-z\u00aa-\uffff")
        .replace(r"\p{N}", "0-9")
        .replace(r"\p{Z}", " \u00a0\u2000-\u200a\u2028\u2029\u202f\u205f\u3000")
    )
    try:
        return re.compile(translated)
    except re.error:
        return None


def pattern_matches(pattern: str, value: str) -> bool:
    compiled = _compile(pattern)
    if compiled is None:
        return True  # a pattern we cannot evaluate is not held against the value
    return compiled.fullmatch(value) is not None


# --------------------------------------------------------------------------
# output validation


def _type_name(value: Any) -> str:
    return type(value).__name__


def _check_scalar_limits(shape: Shape, value: Any, path: str, problems: list[str], size: int) -> None:
    meta = shape.metadata
    if "min" in meta and size < meta["min"]:
        problems.append(f"{path}: length {size} is below the model minimum {meta['min']}")
    if "max" in meta and size > meta["max"]:
        problems.append(f"{path}: length {size} is above the model maximum {meta['max']}")


def _validate_value(shape: Shape, value: Any, path: str, problems: list[str]) -> None:
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        if not isinstance(value, dict):
            problems.append(f"{path}: expected an object, got {_type_name(value)}")
            return
        for name in value:
            if name not in shape.members:
                problems.append(f"{path}: unknown member {name!r} (shape {shape.name})")
        for name in shape.required_members:
            if name not in value:
                problems.append(f"{path}: required member {name!r} is missing (shape {shape.name})")
        for name, member_value in value.items():
            if name in shape.members:
                if member_value is None:
                    problems.append(f"{path}.{name}: null is never sent by AWS; omit the member")
                    continue
                _validate_value(shape.members[name], member_value, f"{path}.{name}", problems)
    elif kind == "list":
        assert isinstance(shape, ListShape)
        if not isinstance(value, list):
            problems.append(f"{path}: expected a list, got {_type_name(value)}")
            return
        if value or not EMPTY_OUTPUT_LISTS_OK:
            _check_scalar_limits(shape, value, path, problems, len(value))
        for index, item in enumerate(value):
            _validate_value(shape.member, item, f"{path}[{index}]", problems)
    elif kind == "map":
        assert isinstance(shape, MapShape)
        if not isinstance(value, dict):
            problems.append(f"{path}: expected a map, got {_type_name(value)}")
            return
        _check_scalar_limits(shape, value, path, problems, len(value))
        for key, item in value.items():
            _validate_value(shape.key, key, f"{path}<key>", problems)
            _validate_value(shape.value, item, f"{path}[{key!r}]", problems)
    elif kind == "string":
        if not isinstance(value, str):
            problems.append(f"{path}: expected a string, got {_type_name(value)}")
            return
        _check_scalar_limits(shape, value, path, problems, len(value))
        enum = shape.enum
        if enum and value not in enum and value not in KNOWN_ENUM_EXTENSIONS.get(shape.name, ()):
            problems.append(f"{path}: {value!r} is not one of the enum values {list(enum)} (shape {shape.name})")
        pattern = shape.metadata.get("pattern")
        if pattern and not pattern_matches(pattern, value) and not any(
            re.fullmatch(extra, value) for extra in KNOWN_PATTERN_EXTENSIONS.get(shape.name, ())
        ):
            problems.append(f"{path}: {value!r} does not match the model pattern {pattern!r}")
    elif kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(f"{path}: expected an integer, got {_type_name(value)}")
            return
        meta = shape.metadata
        if "min" in meta and value < meta["min"]:
            problems.append(f"{path}: {value} is below the model minimum {meta['min']}")
        if "max" in meta and value > meta["max"]:
            problems.append(f"{path}: {value} is above the model maximum {meta['max']}")
    elif kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            problems.append(f"{path}: expected a number, got {_type_name(value)}")
    elif kind == "boolean":
        if not isinstance(value, bool):
            problems.append(f"{path}: expected a boolean, got {_type_name(value)}")
    elif kind == "timestamp":
        # JSON protocols send epoch seconds as a number.
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            problems.append(f"{path}: expected a timestamp as epoch seconds (number), got {_type_name(value)}")
    elif kind == "blob":
        if not isinstance(value, str):
            problems.append(f"{path}: expected a base64 string, got {_type_name(value)}")
            return
        try:
            base64.b64decode(value, validate=True)
        except Exception:
            problems.append(f"{path}: not valid base64")
    else:  # pragma: no cover - future model types
        problems.append(f"{path}: unsupported model type {kind}")


def validate_output(service: str, operation: str, body: dict[str, Any]) -> list[str]:
    """Problems found when checking ``body`` against the operation's output shape."""
    op = operation_model(service, operation)
    problems: list[str] = []
    if op.output_shape is None:
        if body:
            problems.append(f"{operation}: the model has no output shape but the body is not empty")
        return problems
    _validate_value(op.output_shape, body, operation, problems)
    return problems


def validate_error(service: str, body: dict[str, Any]) -> list[str]:
    """Problems found when checking an error body against the error's shape."""
    problems: list[str] = []
    code = body.get("__type")
    if not isinstance(code, str) or not code:
        return ["error body has no __type"]
    try:
        shape = service_model(service).shape_for(code)
    except Exception:
        return problems  # errors outside the model (throttling from the front end, ...)
    rest = {k: v for k, v in body.items() if k != "__type"}
    _validate_value(shape, rest, code, problems)
    return problems


# --------------------------------------------------------------------------
# input validation (AWS's "N validation errors detected" messages)


def _lower_camel(name: str) -> str:
    return name[:1].lower() + name[1:] if name else name


def _render(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_render(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_render(v)}" for k, v in value.items()) + "}"
    return str(value)


def _value_part(shape: Shape, value: Any) -> str:
    if shape.metadata.get("sensitive"):
        return "Value"
    return f"Value '{_render(value)}'"


def _input_value(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    kind = shape.type_name
    meta = shape.metadata
    prefix = f"{_value_part(shape, value)} at '{path}' failed to satisfy constraint: "
    if kind == "structure":
        if not isinstance(value, dict):
            return
        assert isinstance(shape, StructureShape)
        for name in shape.required_members:
            if value.get(name) is None:
                errors.append(
                    f"Value null at '{_join(path, _lower_camel(name))}' failed to satisfy constraint: "
                    "Member must not be null"
                )
        for name, member in shape.members.items():
            if value.get(name) is not None:
                _input_value(member, value[name], _join(path, _lower_camel(name)), errors)
    elif kind == "list":
        if not isinstance(value, list):
            return
        if "min" in meta and len(value) < meta["min"]:
            errors.append(prefix + f"Member must have length greater than or equal to {meta['min']}")
        if "max" in meta and len(value) > meta["max"]:
            errors.append(prefix + f"Member must have length less than or equal to {meta['max']}")
        assert isinstance(shape, ListShape)
        for index, item in enumerate(value, start=1):
            if item is not None:
                _input_value(shape.member, item, f"{path}.{index}.member", errors)
    elif kind == "map":
        if not isinstance(value, dict):
            return
        if "max" in meta and len(value) > meta["max"]:
            errors.append(prefix + f"Member must have length less than or equal to {meta['max']}")
    elif kind == "string":
        if not isinstance(value, str):
            return
        if "min" in meta and len(value) < meta["min"]:
            errors.append(prefix + f"Member must have length greater than or equal to {meta['min']}")
        if "max" in meta and len(value) > meta["max"]:
            errors.append(prefix + f"Member must have length less than or equal to {meta['max']}")
        if shape.enum and value not in shape.enum:
            errors.append(prefix + "Member must satisfy enum value set: [" + ", ".join(shape.enum) + "]")
        pattern = meta.get("pattern")
        if pattern and not pattern_matches(pattern, value):
            errors.append(prefix + f"Member must satisfy regular expression pattern: {pattern}")
    elif kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            return
        if "min" in meta and value < meta["min"]:
            errors.append(prefix + f"Member must have value greater than or equal to {meta['min']}")
        if "max" in meta and value > meta["max"]:
            errors.append(prefix + f"Member must have value less than or equal to {meta['max']}")


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _type_errors(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    """JSON type mismatches, which AWS reports as SerializationException."""
    kind = shape.type_name
    ok = True
    if kind == "structure":
        ok = isinstance(value, dict)
        if ok:
            assert isinstance(shape, StructureShape)
            for name, member in shape.members.items():
                if value.get(name) is not None:
                    _type_errors(member, value[name], _join(path, name), errors)
    elif kind == "list":
        ok = isinstance(value, list)
        if ok:
            assert isinstance(shape, ListShape)
            for index, item in enumerate(value):
                if item is not None:
                    _type_errors(shape.member, item, f"{path}[{index}]", errors)
    elif kind == "map":
        ok = isinstance(value, dict)
    elif kind == "string":
        ok = isinstance(value, str)
    elif kind in ("integer", "long"):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind in ("float", "double"):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif kind == "boolean":
        ok = isinstance(value, bool)
    elif kind == "timestamp":
        ok = isinstance(value, (int, float, str)) and not isinstance(value, bool)
    elif kind == "blob":
        ok = isinstance(value, str)
    if not ok:
        errors.append(f"{path or 'body'}: expected {kind}, got {_type_name(value)}")


def input_type_errors(service: str, operation: str, body: Any) -> list[str]:
    op = operation_model(service, operation)
    errors: list[str] = []
    if op.input_shape is not None:
        _type_errors(op.input_shape, body, "", errors)
    return errors


def validate_input(service: str, operation: str, body: dict[str, Any]) -> list[str]:
    """AWS-style constraint messages for a request body (empty when valid)."""
    op = operation_model(service, operation)
    errors: list[str] = []
    if op.input_shape is not None:
        _input_value(op.input_shape, body, "", errors)
    return errors


def validation_message(errors: list[str]) -> str:
    count = len(errors)
    noun = "error" if count == 1 else "errors"
    return f"{count} validation {noun} detected: " + "; ".join(errors)
