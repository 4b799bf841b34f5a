"""Block Kit as a terminal shows it: the demo prints what Slack would show, readably.

Headers are underlined, sections wrap, fields read "Title  value", context is indented, buttons read
`[ Keep… ] [ Stop ] [ Terminate ]`, modal inputs show their choices. mrkdwn keeps `*bold*` and
`code`; `<@U…>` becomes @name, `<#C…>` #name, `<!date^…|fallback>` its fallback, links their text;
`&lt;`, `&gt;` and `&amp;` are unescaped last, so an escaped `<!channel>` shows as typed. Pure.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

Block = Mapping[str, Any]

WIDTH = 100

_EMOJI = {
    ":test_tube:": "🧪",
    ":alarm_clock:": "⏰",
    ":warning:": "⚠",
    ":white_check_mark:": "✅",
    ":ballot_box_with_check:": "☑",
    ":no_entry:": "⛔",
    ":wave:": "👋",
    ":mag:": "🔍",
    ":grey_question:": "?",
    ":zzz:": "💤",
    ":moneybag:": "💰",
}
_ENTITY = re.compile(r"<([^<>]*)>")
_EMOJI_CODE = re.compile(r":[a-z0-9_+-]+:")


def mrkdwn(text: str, names: Mapping[str, str] | None = None) -> str:
    """Slack mrkdwn → terminal text (see the module docstring)."""
    names = names or {}

    def entity(match: re.Match[str]) -> str:
        inner = match[1]
        target, _, label = inner.partition("|")
        if target.startswith("@"):
            user = target[1:]
            return f"@{label or names.get(user, user)}"
        if target.startswith("#"):
            channel = target[1:]
            return f"#{label or names.get(channel, channel)}"
        if target.startswith("!date^"):
            return label or target
        if target.startswith("!subteam^"):
            return f"@{label.lstrip('@') or target.split('^', 1)[1]}"
        if target.startswith("!"):
            return f"@{target[1:]}"  # <!channel>, <!here>
        return label or target  # a link: its text, else the URL

    shown = _ENTITY.sub(entity, text)
    shown = _EMOJI_CODE.sub(lambda m: _EMOJI.get(m[0], m[0]), shown)
    return shown.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _text(obj: Mapping[str, Any] | str | None, names: Mapping[str, str]) -> str:
    if obj is None:
        return ""
    if isinstance(obj, str):
        return obj
    raw = str(obj.get("text", ""))
    return mrkdwn(raw, names) if obj.get("type") == "mrkdwn" else raw


def _wrap(text: str, width: int, indent: str = "") -> list[str]:
    lines: list[str] = []
    for paragraph in text.split("\n"):
        if not paragraph.strip():
            lines.append(indent.rstrip())
            continue
        lines.extend(
            textwrap.wrap(
                paragraph,
                width=max(20, width),
                initial_indent=indent,
                subsequent_indent=indent,
                break_long_words=True,
                break_on_hyphens=False,
            )
        )
    return lines


def _button(element: Mapping[str, Any], names: Mapping[str, str]) -> str:
    kind = element.get("type")
    if kind == "button":
        return f"[ {_text(element.get('text'), names)} ]"
    label = _text(element.get("placeholder"), names) or kind or "?"
    if kind == "datepicker":
        return f"[ {element.get('initial_date') or label} ]"
    if kind in ("static_select", "users_select", "conversations_select", "overflow"):
        return f"[ {label} ▾ ]"
    return f"[ {label} ]"


def _field(field: Mapping[str, Any], names: Mapping[str, str], width: int) -> list[str]:
    """`*Title*\\nvalue…` → "Title      value", the value's other lines under it."""
    text = _text(field, names)
    first, _, rest = text.partition("\n")
    title = first.strip("*") if first.startswith("*") and first.endswith("*") else None
    if title is None:
        return _wrap(text, width, "  ")
    body = rest.split("\n") if rest else [""]
    pad = "  " + " " * 12
    lines = _wrap(body[0], width - 14, "") or [""]
    out = [f"  {title:<11} {lines[0]}"]
    out.extend(pad + line for line in lines[1:])
    for line in body[1:]:
        out.extend(_wrap(line, width, pad))
    return out


def _input(block: Mapping[str, Any], names: Mapping[str, str], width: int) -> list[str]:
    label = _text(block.get("label"), names)
    optional = " (optional)" if block.get("optional") else ""
    element = block.get("element") or {}
    lines = [f"{label}{optional}"]
    if element.get("type") == "radio_buttons":
        chosen = (element.get("initial_option") or {}).get("value")
        for option in element.get("options", []):
            mark = "(•)" if option.get("value") == chosen else "( )"
            lines.append(f"  {mark} {_text(option.get('text'), names)}")
    elif element.get("type") == "plain_text_input":
        hint = _text(element.get("placeholder"), names)
        lines.append(f"  [ {hint or ' ' * 20} ]")
    else:
        lines.append(f"  {_button(element, names)}")
    return lines


def render_block(block: Block, names: Mapping[str, str], width: int = WIDTH) -> list[str]:
    kind = block.get("type")
    if kind == "header":
        title = _text(block.get("text"), names)
        return [title, "═" * min(width, max(8, len(title)))]
    if kind == "divider":
        return ["─" * min(width, 60)]
    if kind == "section":
        lines = _wrap(_text(block.get("text"), names), width) if block.get("text") else []
        for field in block.get("fields") or []:
            lines.extend(_field(field, names, width))
        accessory = block.get("accessory")
        if accessory:
            lines.append(_button(accessory, names))
        return lines
    if kind == "context":
        texts = [
            _text(element, names) if element.get("type") != "image" else ""
            for element in block.get("elements", [])
        ]
        return _wrap("  ".join(text for text in texts if text), width - 2, "  ")
    if kind == "actions":
        return [" ".join(_button(element, names) for element in block.get("elements", []))]
    if kind == "input":
        return _input(block, names, width)
    if kind == "image":
        return [f"[image: {block.get('alt_text', '')}]"]
    if kind == "rich_text":
        return _wrap(_rich_text(block.get("elements", [])), width)
    return []


def _rich_text(elements: Iterable[Any]) -> str:
    parts: list[str] = []
    for element in elements:
        if isinstance(element, Mapping):
            if "text" in element and isinstance(element["text"], str):
                parts.append(element["text"])
            parts.append(_rich_text(element.get("elements", [])))
    return "".join(parts)


def render_blocks(
    blocks: Sequence[Block],
    *,
    names: Mapping[str, str] | None = None,
    width: int = WIDTH,
    prefix: str = "",
) -> str:
    """A message's blocks as lines of text, each line starting with `prefix`."""
    names = names or {}
    inner = width - len(prefix)
    lines: list[str] = []
    for block in blocks:
        lines.extend(render_block(block, names, inner))
    return "\n".join(f"{prefix}{line}".rstrip() for line in lines)


def render_view(
    view: Mapping[str, Any],
    *,
    names: Mapping[str, str] | None = None,
    width: int = WIDTH,
    prefix: str = "",
) -> str:
    """A modal: its title, its blocks, and its close and submit buttons."""
    names = names or {}
    title = _text(view.get("title"), names)
    buttons = [_text(view.get(name), names) for name in ("close", "submit") if view.get(name)]
    head = [f"{prefix}{title}", f"{prefix}{'═' * max(8, len(title))}"]
    body = render_blocks(view.get("blocks", []), names=names, width=width, prefix=prefix)
    foot = f"{prefix}{' '.join(f'[ {b} ]' for b in buttons)}" if buttons else ""
    return "\n".join([*head, body, *([foot] if foot else [])])
