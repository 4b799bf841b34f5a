"""DescribeInstances paged by instance, as EC2 pages it, over moto's answer.

moto counts MaxResults in reservations, so a fleet launched 500 instances a call comes back in one
page of thousands of instances, where EC2 returns at most MaxResults instances a page (a
reservation's instances may then run over two pages, each page repeating the reservation). The
bridge asks moto for every matching reservation at once and hands out one page of it; the
NextToken says where the next page starts.
"""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode

_TOKEN_PREFIX = "instance-offset-"
_PAGING = ("MaxResults", "NextToken")
_ALL = 10**9


class BadPaging(ValueError):
    """A NextToken this sandbox did not hand out, or MaxResults outside EC2's 5 to 1000."""


def wants_pages(form: Mapping[str, str]) -> bool:
    """True for a paged DescribeInstances (MaxResults, and no InstanceId list)."""
    return "MaxResults" in form and not any(key.startswith("InstanceId.") for key in form)


def unpaged_body(body: bytes) -> tuple[dict[str, str], bytes]:
    """The request's form, and its body without MaxResults and NextToken for moto."""
    form = dict(parse_qsl(body.decode(), keep_blank_values=True))
    rest = {key: value for key, value in form.items() if key not in _PAGING}
    rest["MaxResults"] = str(_ALL)  # without it moto stops at 100 reservations
    return form, urlencode(rest).encode()


def one_page(form: Mapping[str, str], everything: bytes) -> bytes:
    """moto's answer with every reservation, cut to the page `form` asks for."""
    size = _size(form["MaxResults"])
    start = _offset(form.get("NextToken"))
    root = ET.fromstring(everything)
    namespace = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    ET.register_namespace("", namespace.strip("{}"))
    reservations = root.find(f"{namespace}reservationSet")
    if reservations is None:
        return everything
    kept, seen = [], 0
    for reservation in list(reservations):
        instances = reservation.find(f"{namespace}instancesSet")
        items = list(instances) if instances is not None else []
        first, last = max(start - seen, 0), min(start + size - seen, len(items))
        seen += len(items)
        if instances is None or first >= last:
            continue
        part = copy.copy(reservation)  # the reservation's own fields, with this page's instances
        part.remove(part.find(f"{namespace}instancesSet"))  # type: ignore[arg-type]
        page_set = ET.SubElement(part, f"{namespace}instancesSet")
        page_set.extend(items[first:last])
        kept.append(part)
    for reservation in list(reservations):
        reservations.remove(reservation)
    reservations.extend(kept)
    for old in root.findall(f"{namespace}nextToken"):
        root.remove(old)
    if start + size < seen:
        ET.SubElement(root, f"{namespace}nextToken").text = f"{_TOKEN_PREFIX}{start + size}"
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def error_answer(problem: BadPaging) -> bytes:
    """EC2's error document for a bad MaxResults or NextToken."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error>'
        f"<Code>InvalidParameterValue</Code><Message>{problem}</Message>"
        "</Error></Errors><RequestID>instance-pages</RequestID></Response>"
    ).encode()


def _size(value: str) -> int:
    if not value.isdigit() or not 5 <= int(value) <= 1000:
        raise BadPaging(f"Value ( {value} ) for parameter maxResults is invalid. Expect 5 to 1000.")
    return int(value)


def _offset(token: str | None) -> int:
    if not token:
        return 0
    if not token.startswith(_TOKEN_PREFIX) or not token[len(_TOKEN_PREFIX) :].isdigit():
        raise BadPaging(f"Invalid value '{token}' for nextToken.")
    return int(token[len(_TOKEN_PREFIX) :])
