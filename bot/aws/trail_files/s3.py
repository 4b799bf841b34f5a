"""A trail bucket (or any prefix of it) read in place: listed page by page, objects streamed.

`s3://bucket/AWSLogs/o-xxxx/` is read like a folder: every key under the prefix, in S3's key
order, each object streamed through `get_object`'s body, never downloaded whole. A prefix that
names one object exactly reads that object as a file named on the command line. The client
comes from the caller (the usual credential and region chain; S3 redirects to the bucket's own
region by itself).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from bot.aws.trail_files.errors import TrailLogsError, TrailLogsUnavailable
from bot.aws.trail_files.sources import LogFile

# Error codes that mean the request was refused, not that the input was wrong.
_DENIED = frozenset(
    {
        "AccessDenied",
        "AllAccessDisabled",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "InvalidToken",
        "TokenRefreshRequired",
        "AccountProblem",
        "KMS.AccessDeniedException",
        "KMS.DisabledException",
    }
)
_BAD_INPUT = frozenset({"NoSuchBucket", "InvalidBucketName"})


class VanishedObject(Exception):
    """The object was listed, then deleted before it was read."""


class S3Prefix:
    def __init__(self, url: str, bucket: str, prefix: str, client: Any) -> None:
        self._url, self._bucket, self._prefix = url, bucket, prefix
        self._client = client
        self._listing: Iterator[LogFile] | None = None

    @classmethod
    def checked(cls, url: str, client_factory: Callable[[], Any]) -> S3Prefix:
        """List up to the first object now: a missing bucket, a refusal or an empty prefix is
        known before anything is read."""
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        if not bucket:
            raise TrailLogsError(f"{url}: an S3 location needs a bucket: s3://BUCKET/PREFIX")
        source = cls(url, bucket, prefix, client_factory())
        listing = source._list()
        first = next(listing, None)
        if first is None:
            raise TrailLogsError(f"{url}: no objects under this prefix")
        source._listing = itertools.chain([first], listing)
        return source

    def files(self) -> Iterator[LogFile]:
        listing, self._listing = self._listing, None
        return listing if listing is not None else self._list()

    def _list(self) -> Iterator[LogFile]:
        paginator = self._client.get_paginator("list_objects_v2")
        pages = iter(paginator.paginate(Bucket=self._bucket, Prefix=self._prefix))
        while (page := _listed(self._url, "s3:ListBucket", lambda: next(pages, None))) is not None:
            for item in page.get("Contents", []):
                key = item["Key"]
                if self._inside(key) and not key.endswith("/"):
                    url = f"s3://{self._bucket}/{key}"
                    yield LogFile(url, self._opener(key), named=key == self._prefix)

    def _inside(self, key: str) -> bool:
        """The object itself, or a key in the prefix taken as a folder (`AWSLogs/111` holds
        `AWSLogs/111/…`, not `AWSLogs/1112…`)."""
        prefix = self._prefix
        return not prefix or prefix.endswith("/") or key == prefix or key.startswith(prefix + "/")

    def _opener(self, key: str) -> Callable[[], Any]:
        @contextmanager
        def opened() -> Iterator[_Body]:
            url = f"s3://{self._bucket}/{key}"
            try:
                reply = self._client.get_object(Bucket=self._bucket, Key=key)
            except ClientError as error:
                if _code(error) in ("NoSuchKey", "404"):
                    raise VanishedObject(url) from error
                raise _failure(url, "s3:GetObject", error) from error
            except BotoCoreError as error:
                raise TrailLogsUnavailable(f"{url}: S3 is unreachable: {error}") from error
            body = _Body(url, reply["Body"])
            try:
                yield body
            finally:
                body.close()

        return opened


class _Body:
    """An object's streaming body; a failure while reading is S3's, reported as unavailable."""

    def __init__(self, url: str, body: Any) -> None:
        self._url, self._body = url, body

    def read(self, size: int = -1, /) -> bytes:
        try:
            data: bytes = self._body.read(size)
        except (BotoCoreError, OSError) as error:
            raise TrailLogsUnavailable(f"{self._url}: reading from S3 failed: {error}") from error
        return data

    def close(self) -> None:
        self._body.close()


def _listed(url: str, action: str, call: Callable[[], Any]) -> Any:
    try:
        return call()
    except ClientError as error:
        raise _failure(url, action, error) from error
    except BotoCoreError as error:
        raise TrailLogsUnavailable(f"{url}: S3 is unreachable: {error}") from error


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _failure(url: str, action: str, error: ClientError) -> Exception:
    code = _code(error)
    message = error.response.get("Error", {}).get("Message") or code
    if code in _BAD_INPUT:
        bucket = url.removeprefix("s3://").split("/", 1)[0]
        what = "no such bucket" if code == "NoSuchBucket" else "not a valid bucket name"
        return TrailLogsError(f"s3://{bucket}: {what}")
    if code in _DENIED or code.startswith("KMS."):
        return TrailLogsUnavailable(f"{url}: access denied ({action}): {message}")
    return TrailLogsUnavailable(f"{url}: S3 refused {action}: {code}: {message}")
