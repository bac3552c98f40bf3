"""JSON Schema validation that reports every error, each with its JSON Pointer and words a person can act on."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chalicelib.domain.validation import FieldError

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

# Links to the top-level schemas/ folder, so the Lambda package carries the same files.
SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"


@lru_cache(maxsize=None)
def load_schema(name: str) -> dict:
    return json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text())


@lru_cache(maxsize=1)
def bounded_validator_class():
    """Draft 2020-12 with `pattern` run only on strings within the same schema's maxLength: a pattern with
    backtracking then costs at most what the longest allowed answer costs, and an over-long answer is told it is
    too long, once."""
    from jsonschema import Draft202012Validator, validators

    pattern = Draft202012Validator.VALIDATORS["pattern"]

    def pattern_within_length(validator, value, instance, schema):
        if isinstance(instance, str) and len(instance) > schema.get("maxLength", len(instance)):
            return
        yield from pattern(validator, value, instance, schema)

    return validators.extend(Draft202012Validator, {"pattern": pattern_within_length})


@lru_cache(maxsize=None)
def _validator(name: str) -> Draft202012Validator:
    # Imported on first validation, not at cold start: only requests that carry a document pay for jsonschema.
    from jsonschema import Draft202012Validator

    schema = load_schema(name)
    Draft202012Validator.check_schema(schema)
    return bounded_validator_class()(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def validate(payload: Any, schema_name: str) -> list[FieldError]:
    """Every violation, one per field, in the order the schema lists its fields (the form's order)."""
    by_pointer: dict[str, FieldError] = {}
    for error in _validator(schema_name).iter_errors(payload):
        for field_error in _describe(error):
            by_pointer.setdefault(field_error.pointer, field_error)
    order = _field_order(schema_name)
    return sorted(by_pointer.values(), key=lambda e: (order.get(e.pointer, len(order)), e.pointer))


@lru_cache(maxsize=None)
def _field_order(schema_name: str) -> dict[str, int]:
    pointers: list[str] = []

    def walk(schema: dict, prefix: str) -> None:
        for name, sub in schema.get("properties", {}).items():
            pointers.append(f"{prefix}/{name}")
            walk(sub, f"{prefix}/{name}")

    walk(load_schema(schema_name), "")
    return {p: i for i, p in enumerate(pointers)}


def _pointer(parts) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _describe(error: ValidationError) -> list[FieldError]:
    here = _pointer(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "required":
        missing = [name for name in _listed(error.validator_value) if not isinstance(error.instance, dict) or name not in error.instance]
        props = schema.get("properties", {})
        return [FieldError(f"{here}/{name}", _required_message(props.get(name, {}), name)) for name in missing]
    if error.validator == "additionalProperties":
        extras = [k for k in _listed(error.instance) if k not in schema.get("properties", {})]
        return [FieldError(f"{here}/{name}", f"'{name}' is not a field of this form") for name in extras]
    if error.validator == "anyOf" and "x-anyOf" in schema:
        return [FieldError(here + schema["x-anyOf"]["pointer"], schema["x-anyOf"]["message"])]
    title = schema.get("title", error.path[-1] if error.path else "The application")
    if error.validator in ("minLength", "pattern") and (schema.get("minLength") == 1 and error.validator == "minLength"
                                                        or schema.get("pattern") == "\\S"):
        return [FieldError(here, _required_message(schema, title))]
    if "x-message" in schema and error.validator in ("pattern", "format", "enum", "const", "type", "maxLength"):
        return [FieldError(here, schema["x-message"])]
    if error.validator == "maxLength":
        return [FieldError(here, f"{title} must be {error.validator_value} characters or fewer")]
    if error.validator == "enum":
        choices = ", ".join(str(v) for v in _listed(error.validator_value))
        return [FieldError(here, f"{title} must be one of: {choices}")]
    if error.validator == "type":
        return [FieldError(here, f"{title} must be {_type_words(error.validator_value)}")]
    return [FieldError(here, f"{title}: {error.message}")]


def _required_message(schema: dict, fallback: str) -> str:
    return str(schema.get("x-message") or f"{schema.get('title', fallback)} is required")


def _listed(value: Any) -> list:
    """A validator's value or an instance, as a list (jsonschema types them as possibly unset)."""
    return list(value) if isinstance(value, (list, tuple, dict, set)) else []


def _type_words(expected: Any) -> str:
    words = {"object": "a set of fields", "string": "text", "boolean": "true or false",
             "array": "a list", "integer": "a whole number", "number": "a number", "null": "empty"}
    if isinstance(expected, list):
        return " or ".join(words.get(t) or str(t) for t in expected)
    return words.get(expected, str(expected))
