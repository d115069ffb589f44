"""Loading YAML (scoring profiles, saved work) as plain data only.

Only ``yaml.safe_load`` builds objects, and before it runs the document is
checked event by event: any tag other than the plain YAML types (``!!python/object``
and friends included) is refused with a message naming it and its line,
nesting is limited, and the number of values after expanding aliases is
counted without expanding them, which stops "billion laughs" alias bombs.
Duplicate mapping keys, which PyYAML would silently collapse, are refused.
"""

from __future__ import annotations

from typing import Any

import yaml

from geo.config import UploadLimits, upload_limits
from geo.errors import UnsafeYAML, UploadRejected, UploadTooLarge

_CORE = "tag:yaml.org,2002:"
#: Explicit tags a profile may carry: the plain JSON-like types.
ALLOWED_TAGS = frozenset({None, "!"} | {_CORE + t for t in ("str", "int", "float", "bool", "null", "seq", "map")})


def _short(tag: str) -> str:
    return "!!" + tag[len(_CORE):] if tag.startswith(_CORE) else tag


def _where(event_or_node) -> str:
    mark = getattr(event_or_node, "start_mark", None)
    return f" line {mark.line + 1}" if mark is not None else ""


def _check_events(text: str, source: str, limits: UploadLimits) -> None:
    """Tags, depth and size, from the event stream (before anything is built).

    Values written out (not through aliases) are counted here, so a plain document that is simply too
    big (60,000 keys) is told so, and only what aliases add is left to :func:`_expanded_size`.
    """
    depth = 0
    count = values = keys = 0
    open_collections: list[list] = []  # [is a mapping, children so far]: even children of a mapping are keys
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        count += 1
        if count > limits.max_yaml_nodes * 2:
            raise UnsafeYAML(f"{source}: has more than {limits.max_yaml_nodes:,} values; profiles are much smaller")
        if isinstance(event, (yaml.ScalarEvent, yaml.CollectionStartEvent, yaml.AliasEvent)) and open_collections:
            parent = open_collections[-1]
            keys += parent[0] and parent[1] % 2 == 0
            parent[1] += 1
        if isinstance(event, (yaml.ScalarEvent, yaml.CollectionStartEvent)):
            values += 1
            if values > limits.max_yaml_nodes:
                what = "keys" if keys * 3 >= values else "values"
                raise UnsafeYAML(
                    f"{source}{_where(event)}: has too many {what}: more than {limits.max_yaml_nodes:,} keys and "
                    f"values in all, where a profile has a few dozen; refused"
                )
        tag = getattr(event, "tag", None)
        if isinstance(event, (yaml.ScalarEvent, yaml.CollectionStartEvent)) and tag not in ALLOWED_TAGS:
            raise UnsafeYAML(
                f"{source}{_where(event)}: the tag {_short(tag)} is not allowed; profiles are plain data "
                f"(text, numbers, lists, mappings) and Wardscope never runs code from them"
            )
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            open_collections.append([isinstance(event, yaml.MappingStartEvent), 0])
            if depth > limits.max_yaml_depth:
                raise UnsafeYAML(f"{source}{_where(event)}: is nested deeper than {limits.max_yaml_depth} levels")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
            open_collections.pop()


def _expanded_size(root: yaml.Node, source: str, limits: UploadLimits) -> int:
    """Values in the document once aliases are expanded, computed without expanding them."""
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        if isinstance(node, yaml.ScalarNode):
            sizes[id(node)] = 1
            continue
        children = [n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode) else list(node.value)
        if not children_done:
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in sizes)
            continue
        total = 1 + sum(sizes.get(id(c), 0) for c in children)
        if total > limits.max_yaml_nodes:
            raise UnsafeYAML(
                f"{source}: expands to more than {limits.max_yaml_nodes:,} values through aliases "
                f"(an alias bomb?); refused"
            )
        sizes[id(node)] = total
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, yaml.Node] = {}
            for key, _ in node.value:
                if isinstance(key, yaml.ScalarNode) and key.tag != _CORE + "merge":
                    if key.value in seen:
                        raise UploadRejected(
                            f"{source}{_where(key)}: the key {key.value[:80]!r} appears twice in one mapping "
                            f"(first at{_where(seen[key.value])}); remove one"
                        )
                    seen[key.value] = key
    return sizes.get(id(root), 0)


def load_yaml_safely(text: str, *, source: str = "YAML", limits: UploadLimits | None = None) -> Any:
    """Parse ``text`` as plain YAML data (``yaml.safe_load`` after safety checks).

    Parameters
    ----------
    text : the document (already decoded; see ``geo.upload.sniff.decode_text``).
    source : file name for messages.
    limits : size/depth/value limits (default ``geo.config.upload_limits()``).

    Returns the data (dict, list, str, number, bool or None).

    Raises :class:`UnsafeYAML` (object tags, too deep, too many keys or
    values, alias bomb), :class:`UploadTooLarge` (over ``max_yaml_bytes``) or
    :class:`UploadRejected` (not valid YAML, duplicate keys).
    """
    limits = limits or upload_limits()
    if not isinstance(text, str):
        raise TypeError("load_yaml_safely takes decoded text")
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > limits.max_yaml_bytes:
        raise UploadTooLarge(
            f"{source}: is {size / 2**20:,.1f} MB; YAML profiles are limited to {limits.max_yaml_bytes / 2**20:,.1f} MB"
        )
    try:
        _check_events(text, source, limits)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        if node is None:
            return None
        _expanded_size(node, source, limits)
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).strip().splitlines()[0]
        raise UploadRejected(f"{source}{where}: not valid YAML ({problem})") from None
    except RecursionError:  # belt and braces: the depth check should stop this first
        raise UnsafeYAML(f"{source}: is nested too deeply") from None
    except UploadRejected:
        raise
    except (ValueError, OverflowError) as exc:  # e.g. 2024-13-45 as a date, a 5,000-digit integer
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise UploadRejected(f"{source}: has a value YAML cannot read ({first})") from None
