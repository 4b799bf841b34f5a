"""DescribeInstances paged by instance, as EC2 pages it, over moto's answer.

moto counts MaxResults in reservations, so a fleet launched 500 instances a call comes back in one
page of thousands of instances, where EC2 returns at most MaxResults instances a page (a
reservation's instances may then run over two pages, each page repeating the reservation). The
bridge asks moto once, at a listing's first page, for every matching reservation; that listing's
pages are cut from it, and its NextToken names the listing and where the next page starts.
"""

from __future__ import annotations

import copy
import threading
import uuid
import xml.etree.ElementTree as ET
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode
from xml.sax.saxutils import escape

_PAGING = ("MaxResults", "NextToken")
_ALL = 10**9  # without a MaxResults moto stops at 100 reservations
DEFAULT_PAGE = 1000  # a NextToken without MaxResults: the largest page


class BadPaging(ValueError):
    """A NextToken this sandbox did not hand out (or has forgotten), or MaxResults outside EC2's
    5 to 1000."""


def wants_pages(form: Mapping[str, str]) -> bool:
    """True for a paged DescribeInstances (MaxResults or NextToken, and no InstanceId list)."""
    paged = "MaxResults" in form or "NextToken" in form
    return paged and not any(key.startswith("InstanceId.") for key in form)


def unpaged_body(body: bytes) -> tuple[dict[str, str], bytes]:
    """The request's form, and a body for moto that asks for every matching reservation."""
    form = dict(parse_qsl(body.decode(), keep_blank_values=True))
    rest = {key: value for key, value in form.items() if key not in _PAGING}
    rest["MaxResults"] = str(_ALL)
    return form, urlencode(rest).encode()


def error_answer(problem: BadPaging) -> bytes:
    """EC2's error document for a bad MaxResults or NextToken."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error>'
        f"<Code>InvalidParameterValue</Code><Message>{escape(str(problem))}</Message>"
        "</Error></Errors><RequestID>instance-pages</RequestID></Response>"
    ).encode()


@dataclass
class _Listing:
    """moto's answer taken apart: the response without reservations, and each reservation's own
    fields with its instances."""

    namespace: str
    response: ET.Element  # the root with its reservationSet emptied
    reservations: list[tuple[ET.Element, list[ET.Element]]]

    @property
    def size(self) -> int:
        return sum(len(instances) for _, instances in self.reservations)

    @classmethod
    def parse(cls, everything: bytes) -> _Listing:
        root = ET.fromstring(everything)
        namespace = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
        reservation_set = root.find(f"{namespace}reservationSet")
        reservations = []
        for reservation in list(reservation_set if reservation_set is not None else []):
            instance_set = reservation.find(f"{namespace}instancesSet")
            if instance_set is not None:
                reservation.remove(instance_set)
            reservations.append((reservation, list(instance_set or [])))
        if reservation_set is not None:
            root.remove(reservation_set)
        for token in root.findall(f"{namespace}nextToken"):
            root.remove(token)
        return cls(namespace, root, reservations)

    def page(self, start: int, size: int, next_token: str | None) -> bytes:
        root = copy.copy(self.response)
        reservation_set = ET.SubElement(root, f"{self.namespace}reservationSet")
        seen = 0
        for reservation, instances in self.reservations:
            first, last = max(start - seen, 0), min(start + size - seen, len(instances))
            seen += len(instances)
            if first < last:
                part = copy.copy(reservation)
                ET.SubElement(part, f"{self.namespace}instancesSet").extend(instances[first:last])
                reservation_set.append(part)
        if next_token:
            ET.SubElement(root, f"{self.namespace}nextToken").text = next_token
        ET.register_namespace("", self.namespace.strip("{}"))
        return ET.tostring(root, encoding="utf-8", xml_declaration=True)


class InstancePager:
    """The listings being paged through: the `keep` most recently read, each for its own region
    (a token from one region is no good in another). A listing is kept after its last page, so
    a retried page answers again, until newer listings push it out."""

    def __init__(self, keep: int = 4) -> None:
        self.keep = keep
        self._listings: OrderedDict[str, tuple[str, _Listing]] = OrderedDict()
        self._lock = threading.Lock()

    def page(self, region: str, form: Mapping[str, str], everything: Callable[[], bytes]) -> bytes:
        """The page `form` asks for; `everything()` is moto's answer for a new listing."""
        size = _size(form.get("MaxResults", str(DEFAULT_PAGE)))
        token = form.get("NextToken")
        if token:
            listing_id, start = _parse(token)
            with self._lock:
                kept = self._listings.get(listing_id)
                if kept is not None:
                    self._listings.move_to_end(listing_id)
            if kept is None or kept[0] != region:
                raise BadPaging(f"Invalid value '{token}' for nextToken.")
            listing = kept[1]
        else:
            listing_id, start, listing = uuid.uuid4().hex[:16], 0, _Listing.parse(everything())
            with self._lock:
                self._listings[listing_id] = (region, listing)
                while len(self._listings) > self.keep:
                    self._listings.popitem(last=False)
        more = start + size < listing.size
        return listing.page(start, size, f"{listing_id}-{start + size}" if more else None)


def _size(value: str) -> int:
    if not value.isdigit() or not 5 <= int(value) <= 1000:
        raise BadPaging(f"Value ( {value} ) for parameter maxResults is invalid. Expect 5 to 1000.")
    return int(value)


def _parse(token: str) -> tuple[str, int]:
    listing_id, _, offset = token.rpartition("-")
    if not listing_id or not offset.isdigit():
        raise BadPaging(f"Invalid value '{token}' for nextToken.")
    return listing_id, int(offset)
