"""The byte search before parsing: it skips what cannot name a reference, and never skips a record
the finder would match, however the JSON spells the name."""

from __future__ import annotations

import itertools
import json
import sys
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from bot.aws.trail_files.prefilter import ASCII_FOLDS, Needles, stream_may_name
from bot.aws.trail_files.search import RecordView, Search
from bot.core.refs import InvalidReference, parse
from bot.sandbox.records import CLI, create_db_instance, create_role, iam_user, record

ACCOUNT = "123456789012"
WHEN = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


def _chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({0, len(data), *(cut % (len(data) + 1) for cut in cuts)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


def test_the_fold_table_is_every_character_that_folds_to_ascii() -> None:
    computed = {}
    for code in range(0x80, sys.maxunicode + 1):
        char = chr(code)
        folded = next((f for f in (char.lower(), char.casefold()) if f.isascii()), None)
        if folded:
            computed[char] = folded
    assert computed == ASCII_FOLDS


def test_an_id_inside_its_arn_is_one_needle_and_names_are_lowered() -> None:
    ref = parse("arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0")
    assert Needles(ref.search_names).words == (b"i-0123456789abcdef0",)
    assert Needles(["Orders-DB"]).words == (b"orders-db",)
    assert not Needles([])
    assert Needles(['we"ird']).match_everything


def test_a_name_split_across_two_chunks_is_found_at_every_seam() -> None:
    name = b"i-0123456789abcdef0"
    text = b'{"Records":[{"instanceId":"' + name + b'"}]}'
    needles = Needles([name.decode()])
    start = text.index(name)
    for seam in range(start - 1, start + len(name) + 1):
        assert stream_may_name([text[:seam], text[seam:]], needles), seam
    assert not stream_may_name([text.replace(name, b"i-0123456789abcdef1")], needles)


def test_escapes_and_folds_that_could_hide_a_name_make_a_candidate() -> None:
    needles = Needles(["arn:aws:iam::123456789012:role/admin"])
    hidden = [
        rb'"arn:aws:iam::123456789012:role\/admin"',  # an escaped slash
        rb'"\u0061dmin"',  # an escaped letter
        rb'"\u0041DMIN"',  # escaped, in the other case
        '"adm\u0130n"'.encode(),  # İ does not fold to ASCII i alone
        rb'"\u212a"',  # an escaped Kelvin sign: no k in admin, so not a candidate
    ]
    lowered = [text.lower() for text in hidden]
    assert [needles.in_lowered(text) for text in lowered] == [True, True, True, False, False]
    kelvin = Needles(["kube"])
    assert kelvin.in_lowered('"\u212aube"'.encode().lower())
    assert kelvin.in_lowered(rb'"\u212Aube"'.lower())


# The finder and the prefilter agree --------------------------------------------------------------

NAME_CHARS = st.sampled_from("abcdefiklmnopqrstuvwxyzABCKSTFI0123456789-kkssffit")
_BY_FOLD = {folded: char for char, folded in ASCII_FOLDS.items()}


@st.composite
def spelled(draw: st.DrawFn, name: str) -> str:
    """A JSON string literal for `name`, or a variant the finder still matches (case changes,
    non-ASCII characters that fold to its letters: ß for ss, ﬁ for fi, the Kelvin sign for k),
    each character written plainly or escaped."""
    units, rest = [], name
    while rest:
        folds = [f for f in (rest[:3], rest[:2], rest[:1]) if f.lower() in _BY_FOLD]
        if folds and draw(st.booleans()):
            units.append(_BY_FOLD[folds[0].lower()])
            rest = rest[len(folds[0]) :]
        else:
            units.append(draw(st.sampled_from([rest[0], rest[0].swapcase()])))
            rest = rest[1:]
    out = []
    for char in units:
        style = draw(st.sampled_from(["plain", "plain", "escaped", "json"]))
        if style == "escaped":
            code = f"{ord(char):04x}"
            out.append("\\u" + (code if draw(st.booleans()) else code.upper()))
        elif style == "json":
            out.append(json.dumps(char, ensure_ascii=draw(st.booleans()))[1:-1])
        else:
            out.append(char if char != "/" or draw(st.booleans()) else "\\/")
    return '"' + "".join(out) + '"'


def _finder_matches(ref_text: str, data: dict[str, Any]) -> bool:
    search = Search(parse(ref_text))
    search.observe(RecordView(data))
    return search.creation is not None or search.first_mention is not None


def _record(kind: str, name: str) -> tuple[dict[str, Any], str]:
    """A record of `kind` about `name`, and the ARN of what it names."""
    who = iam_user("alice", account=ACCOUNT)
    if kind == "database":
        rec = create_db_instance(name, WHEN, who, region="us-east-1", agent=CLI, account=ACCOUNT)
        return rec, f"arn:aws:rds:us-east-1:{ACCOUNT}:db:{name}"
    if kind == "role":
        return create_role(name, WHEN, who, agent=CLI, account=ACCOUNT), (
            f"arn:aws:iam::{ACCOUNT}:role/{name}"
        )
    rec = record(
        "GetRole",
        WHEN,
        who,
        region="us-east-1",
        agent=CLI,
        source="iam.amazonaws.com",
        request={"roleName": name},
        read_only=True,
        account=ACCOUNT,
    )
    return rec, f"arn:aws:iam::{ACCOUNT}:role/{name}"


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    name=st.text(NAME_CHARS, min_size=1, max_size=20),
    kind=st.sampled_from(["role", "role mentioned", "database"]),
    as_arn=st.booleans(),
    data=st.data(),
    cuts=st.lists(st.integers(min_value=0), max_size=6),
)
def test_the_prefilter_never_skips_a_record_the_finder_matches(
    name: str, kind: str, as_arn: bool, data: st.DataObject, cuts: list[int]
) -> None:
    placeholder = "placeholder-name"
    rec, arn = _record(kind, placeholder)
    text = json.dumps({"Records": [rec]}, ensure_ascii=data.draw(st.booleans()))
    # Every place the name is written, each spelled its own way.
    for written in (arn, placeholder):
        while json.dumps(written) in text:
            spelling = data.draw(spelled(written.replace(placeholder, name)))
            text = text.replace(json.dumps(written), spelling, 1)
    ref_text = arn.replace(placeholder, name) if as_arn else name
    try:
        parse(ref_text)
    except InvalidReference:
        assume(False)
    matched = _finder_matches(ref_text, json.loads(text)["Records"][0])
    event(f"{kind}: finder {'matched' if matched else 'did not match'}")
    if matched:
        needles = Needles(parse(ref_text).search_names)
        assert stream_may_name(_chunks(text.encode(), cuts), needles)
        assert needles.in_text(text)


def test_the_property_sees_both_outcomes() -> None:
    """The generated spellings do reach the finder: a hidden one matches, a wrong one does not."""
    rec = create_role("admin", WHEN, iam_user("alice"), agent=CLI)
    assert _finder_matches("ADMIN", json.loads(json.dumps(rec).replace('"admin"', '"\\u0041dmin"')))
    assert not _finder_matches("other", rec)
    rds = create_db_instance("massive", WHEN, iam_user("alice"), region="us-east-1", agent=CLI)
    assert _finder_matches("massive", json.loads(json.dumps(rds).replace("massive", "ma\u00dfive")))
