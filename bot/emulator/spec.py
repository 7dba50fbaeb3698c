"""The Bot API specification as the emulator's contract checker.

This module owns loading ``bot-api-*.json`` (the machine-readable Bot API reference in
../shared/telegram beside the checkout) and checking every incoming request against it *before* any
behaviour runs:

* the method exists (method names are case-insensitive, as at Telegram);
* every required field is present – an empty string counts as absent, exactly like the
  real server, which reads every argument as a string;
* every given field is a field of that method (Telegram silently ignores unknown ones;
  the emulator refuses them, because an unknown name is nearly always a typo or a field
  that was renamed in a newer Bot API, and a test should notice);
* each value plausibly has one of the declared types. Top-level values arrive as strings
  (form fields, query strings, or JSON bodies re-encoded the way the real server does),
  so ``Integer`` means an int-like string, ``Boolean`` means true/false/1/0, and object
  or array types must be JSON that decodes to a dict/list. Decoded JSON is then checked
  structurally against the type definitions (required fields, unknown fields, nested
  types, subtype discriminators such as ``BotCommandScopeChat.type == "chat"``).

Problems come back as :class:`Problem` objects carrying both the Telegram-style 400
description the client receives and a readable line for ``emulator.spec_violations``.
The same type checker validates the objects the emulator *returns* (see
``ApiSpec.check_object``), which keeps the emulator honest too.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_SPEC_PATH", "ApiSpec", "FieldSpec", "MethodSpec", "Problem", "UploadedFile"]

# The spec lives in ../shared beside the checkout (as in CI); MELDBOT_BOT_API_SPEC overrides.
DEFAULT_SPEC_PATH = Path(
    os.environ.get(
        "MELDBOT_BOT_API_SPEC",
        Path(__file__).resolve().parents[3] / "shared" / "telegram" / "bot-api-10.1.json",
    )
)

_INT_RE = re.compile(r"\s*[+-]?\d+\s*")
_PRIMITIVES = frozenset({"Integer", "Float", "String", "Boolean", "True", "InputFile"})

# Fields whose absence Telegram reports with a dedicated sentence instead of the
# generic 'parameter "x" is required' (telegram-bot-api Client.cpp).
_MISSING_MESSAGES = {
    "chat_id": "chat_id is empty",
    "message_id": "message identifier is not specified",
    "message_ids": "message identifiers are not specified",
    "file_id": "file_id not specified",
    "from_chat_id": "chat_id is empty",
    "photo": "there is no photo in the request",
    "document": "there is no document in the request",
    "audio": "there is no audio in the request",
    "voice": "there is no voice in the request",
    "video": "there is no video in the request",
    "video_note": "there is no video note in the request",
    "animation": "there is no animation in the request",
    "sticker": "there is no sticker in the request",
}


@dataclass
class UploadedFile:
    """One multipart file part of a request."""

    field: str
    filename: str | None
    content_type: str | None
    data: bytes = dataclasses.field(repr=False)

    @property
    def size(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        return f"UploadedFile({self.field!r}, {self.filename!r}, {self.content_type!r}, {self.size} bytes)"


@dataclass(frozen=True)
class FieldSpec:
    name: str
    types: tuple[str, ...]
    required: bool


@dataclass(frozen=True)
class MethodSpec:
    name: str
    returns: tuple[str, ...]
    fields: dict[str, FieldSpec]


@dataclass(frozen=True)
class TypeSpec:
    name: str
    fields: dict[str, FieldSpec] | None
    subtypes: tuple[str, ...]
    discriminator: str | None  # value the "type" field must have, if the docs say so


@dataclass(frozen=True)
class Problem:
    """A request that does not match the spec."""

    description: str  # what the client receives, e.g. 'Bad Request: chat_id is empty'
    violation: str  # what is recorded in emulator.spec_violations
    refuse: bool = True  # False: recorded only (unknown parameters with reject_unknown=False)
    tolerated: bool = False  # an unknown parameter the caller declared harmless (see check_request)


class ApiSpec:
    """Loaded Bot API specification with request and object checking."""

    def __init__(self, path: str | Path = DEFAULT_SPEC_PATH) -> None:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        self.path = Path(path)
        self.version: str = raw.get("version", "?")
        self.methods: dict[str, MethodSpec] = {}
        for name, m in raw["methods"].items():
            fields = {
                f["name"]: FieldSpec(f["name"], tuple(f["types"]), bool(f["required"])) for f in m.get("fields", [])
            }
            self.methods[name.lower()] = MethodSpec(m["name"], tuple(m.get("returns", ())), fields)
        self.types: dict[str, TypeSpec] = {}
        for name, t in raw["types"].items():
            type_fields: dict[str, FieldSpec] | None = None
            discriminator = None
            if "fields" in t:
                type_fields = {
                    f["name"]: FieldSpec(f["name"], tuple(f["types"]), bool(f["required"])) for f in t["fields"]
                }
                for f in t["fields"]:
                    if f["name"] in ("type", "source", "status") and f["required"]:
                        m = re.search(r'(?:must be|always)\s+["“]?\*?([a-z0-9_]+)', f.get("description", ""))
                        if m:
                            discriminator = f["name"] + "=" + m.group(1)
            self.types[name] = TypeSpec(name, type_fields, tuple(t.get("subtypes", ())), discriminator)

    # ------------------------------------------------------------------ methods
    def method(self, name: str) -> MethodSpec | None:
        """The method with this (case-insensitive) name, or None."""
        return self.methods.get(name.lower())

    def check_request(
        self,
        method: MethodSpec,
        args: dict[str, str],
        files: dict[str, UploadedFile],
        *,
        reject_unknown: bool = True,
        tolerated: frozenset[str] = frozenset(),
    ) -> tuple[dict[str, Any], list[Problem]]:
        """Check one call; returns (decoded parameters, problems).

        ``args`` are the string parameters, ``files`` the multipart file parts. File
        parts whose name is not a field are attachments referenced via ``attach://``.
        Unknown parameters are always reported; ``reject_unknown`` decides whether
        they also refuse the request (Telegram itself ignores them). Unknown parameters
        named in ``tolerated`` never refuse and come back with ``tolerated=True``.
        """
        problems: list[Problem] = []
        decoded: dict[str, Any] = {}
        present = {k for k, v in args.items() if v != ""} | {k for k in files if k in method.fields}
        for required in method.fields.values():
            if required.required and required.name not in present:
                text = _MISSING_MESSAGES.get(required.name, f'parameter "{required.name}" is required')
                if method.name in ("sendMessage", "editMessageText") and required.name == "text":
                    text = "message text is empty"
                problems.append(
                    Problem(
                        f"Bad Request: {text}",
                        f"{method.name}: required parameter {required.name!r} is missing",
                    )
                )
        for name, value in args.items():
            fs = method.fields.get(name)
            if fs is None:
                problems.append(
                    Problem(
                        f'Bad Request: unknown parameter "{name}" for method {method.name}',
                        f"{method.name}: unknown parameter {name!r}={_short(value)}",
                        refuse=reject_unknown and name not in tolerated,
                        tolerated=name in tolerated,
                    )
                )
                decoded[name] = value
                continue
            if value == "":
                decoded[name] = value
                continue
            ok, value_decoded, nested = self._check_top_value(fs, value, files)
            decoded[name] = value_decoded
            if not ok:
                problems.append(
                    Problem(
                        _type_description(method.name, fs, value),
                        f"{method.name}: parameter {name!r} should be {' or '.join(fs.types)}, got {_short(value)}",
                    )
                )
            for path, msg in nested:
                problems.append(
                    Problem(
                        f"Bad Request: can't parse {name}: {path}: {msg}",
                        f"{method.name}: {name}{path}: {msg}",
                    )
                )
        for name, up in files.items():
            file_field = method.fields.get(name)
            if file_field is not None:
                decoded[name] = up
                if "InputFile" not in file_field.types:
                    problems.append(
                        Problem(
                            f'Bad Request: parameter "{name}" can\'t be a file',
                            f"{method.name}: file uploaded for non-file parameter {name!r}",
                        )
                    )
        return decoded, problems

    def _check_top_value(
        self, fs: FieldSpec, value: str, files: dict[str, UploadedFile]
    ) -> tuple[bool, Any, list[tuple[str, str]]]:
        """Does a string parameter match one of the field's types? Also decodes it."""
        best_nested: list[tuple[str, str]] | None = None
        best_value: Any = value
        ordered = sorted(fs.types, key=lambda t: t == "String")  # try String last
        for t in ordered:
            if t == "Integer":
                if _INT_RE.fullmatch(value):
                    return True, int(value), []
            elif t == "Float":
                try:
                    return True, float(value), []
                except ValueError:
                    pass
            elif t in ("Boolean", "True"):
                low = value.strip().lower()
                if low in ("true", "false", "1", "0"):
                    return True, low in ("true", "1"), []
            elif t == "String":
                return True, value, []
            elif t == "InputFile":
                return True, value, []
            else:
                try:
                    parsed = json.loads(value)
                except ValueError:
                    continue
                nested = self.check_value(t, parsed, "")
                if not nested:
                    return True, parsed, []
                if best_nested is None or len(nested) < len(best_nested):
                    best_nested, best_value = nested, parsed
        if best_nested is not None:
            return True, best_value, best_nested
        return False, value, []

    # ------------------------------------------------------------------ objects
    def check_object(self, type_name: str, value: Any) -> list[str]:
        """Validate a JSON-decoded value against a spec type; returns readable problems."""
        return [f"{path or type_name}: {msg}" for path, msg in self.check_value(type_name, value, "")]

    def check_value(self, type_name: str, value: Any, path: str) -> list[tuple[str, str]]:
        """Problems (path, message) of ``value`` as an instance of ``type_name``."""
        if type_name.startswith("Array of "):
            inner = type_name[len("Array of ") :]
            if not isinstance(value, list):
                return [(path, f"expected an Array of {inner}, got {_short(value)}")]
            problems: list[tuple[str, str]] = []
            for idx, item in enumerate(value):
                problems.extend(self.check_value(inner, item, f"{path}[{idx}]"))
            return problems
        if type_name == "Integer":
            if isinstance(value, bool) or not (
                isinstance(value, int) or (isinstance(value, str) and _INT_RE.fullmatch(value))
            ):
                return [(path, f"expected an Integer, got {_short(value)}")]
            return []
        if type_name == "Float":
            if isinstance(value, bool) or not isinstance(value, int | float):
                return [(path, f"expected a Float, got {_short(value)}")]
            return []
        if type_name in ("Boolean", "True"):
            if not isinstance(value, bool):
                return [(path, f"expected a Boolean, got {_short(value)}")]
            return []
        if type_name in ("String", "InputFile"):
            if not isinstance(value, str):
                return [(path, f"expected a String, got {_short(value)}")]
            return []
        ts = self.types.get(type_name)
        if ts is None:
            return []  # a type the spec does not describe further
        if type_name == "KeyboardButton" and isinstance(value, str):
            return []  # the server accepts a bare string as a text button
        if ts.subtypes:
            return self._check_subtypes(ts, value, path)
        if not isinstance(value, dict):
            return [(path, f"expected a {type_name} object, got {_short(value)}")]
        return self._check_fields(ts, value, path)

    def _check_subtypes(self, ts: TypeSpec, value: Any, path: str) -> list[tuple[str, str]]:
        best: list[tuple[str, str]] | None = None
        for sub in ts.subtypes:
            st = self.types.get(sub)
            if st is not None and st.discriminator:
                key, _, expected = st.discriminator.partition("=")
                if not isinstance(value, dict) or value.get(key) != expected:
                    continue
            problems = self.check_value(sub, value, path)
            if not problems:
                return []
            if best is None or len(problems) < len(best):
                best = problems
        if best is not None:
            return best
        if not isinstance(value, dict):
            return [(path, f"expected a {ts.name} object, got {_short(value)}")]
        allowed = [
            discriminator.partition("=")[2]
            for s in ts.subtypes
            if s in self.types and (discriminator := self.types[s].discriminator)
        ]
        return [(path, f"{ts.name} has unsupported type {_short(value.get('type'))}; expected one of {allowed}")]

    def _check_fields(self, ts: TypeSpec, value: dict, path: str) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        fields = ts.fields or {}
        for required in fields.values():
            if required.required and required.name not in value:
                problems.append((path, f"{ts.name} field {required.name!r} is required"))
        for key, item in value.items():
            fs = fields.get(key)
            if fs is None:
                problems.append((path, f"{ts.name} has no field {key!r}"))
                continue
            sub_path = f"{path}.{key}"
            best: list[tuple[str, str]] | None = None
            for t in fs.types:
                p = self.check_value(t, item, sub_path)
                if not p:
                    best = []
                    break
                if best is None or len(p) < len(best):
                    best = p
            problems.extend(best or [])
        return problems


def _type_description(method: str, fs: FieldSpec, value: str) -> str:
    if fs.name == "reply_markup":
        return "Bad Request: can't parse reply keyboard markup JSON object"
    if any(t not in _PRIMITIVES for t in fs.types):
        return f"Bad Request: can't parse {fs.name} JSON object"
    return f'Bad Request: parameter "{fs.name}" must be {" or ".join(fs.types)}'


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
