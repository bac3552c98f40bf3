"""A transaction's request built from values, not from pynamodb model instances.

Making a model instance costs about 0.1 ms (descriptors, defaults, an object for every nested map) and serializing
it as much again; a submission's transaction holds up to ten items, which was most of the request's own time. Here
each value still goes through its model's own attribute serializer, conditions and updates are pynamodb's
expressions, and the request goes out through pynamodb's connection (so a failure is the same TransactWriteError).
tests/adapters/test_wire.py checks that every request equals the one pynamodb builds from the model.
"""
from __future__ import annotations

from functools import cache
from typing import Any, Optional

from pynamodb.attributes import Attribute, DiscriminatorAttribute, ListAttribute, MapAttribute
from pynamodb.exceptions import AttributeNullError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action, Update

from chalicelib.adapters.dynamodb.base import Item, connection


class _Shape:
    """What a model class contributes to every item of it, worked out once per class. (A plain class: a dataclass
    would be made at the Lambda's cold start, which tests/test_package.py keeps to the modules every request needs.)"""
    __slots__ = ("attributes", "constant", "defaults", "required", "version")

    def __init__(self, attributes: dict[str, Attribute], constant: dict[str, dict[str, Any]],
                 defaults: tuple[tuple[str, Any], ...], required: tuple[str, ...], version: Optional[str]):
        self.attributes = attributes
        self.constant = constant  # the discriminator, serialized
        self.defaults = defaults  # (name, default or default factory)
        self.required = required  # attribute names a stored item must have
        self.version = version  # the name of the model's VersionAttribute, if any


@cache
def _shape(model: type[Item]) -> _Shape:
    attributes = model.get_attributes()
    constant = {a.attr_name: {a.attr_type: a.serialize(model)} for a in attributes.values()
                if isinstance(a, DiscriminatorAttribute)}
    return _Shape(
        attributes=attributes, constant=constant,
        defaults=tuple((name, a.default) for name, a in attributes.items()
                       if a.default is not None and a.attr_name not in constant),
        required=tuple(name for name, a in attributes.items() if not a.null and a.attr_name not in constant),
        version=model._version_attribute_name)


def _serialized(model: type[Item], values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    shape = _shape(model)
    for name, default in shape.defaults:  # as a model's constructor: a default unless the value is given
        if name not in values:
            values = {**values, name: default() if callable(default) else default}
    item = dict(shape.constant)
    for name, value in values.items():
        if value is None:
            continue
        attribute = shape.attributes[name]
        serialized = (attribute.serialize(value, null_check=True) if isinstance(attribute, (ListAttribute, MapAttribute))
                      else attribute.serialize(value))
        if serialized is not None:
            item[attribute.attr_name] = {attribute.attr_type: serialized}
    for name in shape.required:
        if shape.attributes[name].attr_name not in item and name != shape.version:
            raise AttributeNullError(name)
    return item


def _expressions(request: dict[str, Any], condition: Optional[Condition], actions: Optional[list[Action]]) -> dict:
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    if condition is not None:  # before the update, as pynamodb numbers its placeholders
        request["ConditionExpression"] = condition.serialize(names, values)
    if actions is not None:
        request["UpdateExpression"] = Update(*actions).serialize(names, values)
    if names:
        request["ExpressionAttributeNames"] = {placeholder: name for name, placeholder in names.items()}
    if values:
        request["ExpressionAttributeValues"] = values
    return request


class Transaction:
    """Puts and updates for one TransactWriteItems, sent in that order by `commit` as pynamodb's TransactWrite sends
    them (so cancellation reasons come back in the same places)."""

    def __init__(self) -> None:
        self.puts: list[dict[str, Any]] = []
        self.updates: list[dict[str, Any]] = []

    def put(self, model: type[Item], values: dict[str, Any], condition: Optional[Condition] = None,
            return_values: Optional[str] = None) -> int:
        """Add a put of `model` with `values` (attribute name -> Python value); its new version, if it has one."""
        item = _serialized(model, values)
        shape, version = _shape(model), 0
        if shape.version is not None:  # as pynamodb saves a versioned model: the next version, if still the last
            attribute, current = shape.attributes[shape.version], values.get(shape.version)
            condition &= attribute.does_not_exist() if current is None else attribute == current
            version = (current or 0) + 1
            item[attribute.attr_name] = {attribute.attr_type: attribute.serialize(version)}
        request: dict[str, Any] = {"TableName": _table(), "Item": item}
        _expressions(request, condition, None)
        if return_values is not None:
            request["ReturnValuesOnConditionCheckFailure"] = return_values.upper()
        self.puts.append(request)
        return version

    def update(self, model: type[Item], pk: str, sk: str, actions: list[Action],
               condition: Optional[Condition] = None) -> None:
        if _shape(model).version is not None:
            raise ValueError(f"{model.__name__} has a version: update it through the model")
        self.updates.append(_expressions({"TableName": _table(), "Key": {"PK": {"S": pk}, "SK": {"S": sk}}},
                                         condition, actions))

    def commit(self) -> None:
        connection().transact_write_items(condition_check_items=(), delete_items=(), put_items=self.puts,
                                          update_items=self.updates)


def _table() -> str:
    return Item._get_connection().table_name
