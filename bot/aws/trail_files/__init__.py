"""CloudTrail log files and `aws cloudtrail lookup-events` exports as an event source.

For events older than CloudTrail's 90 days, and for investigations without AWS access: files and
folders on disk, and S3 prefixes read in place. Every file is read as a stream (memory bounded
whatever its size), files that cannot name a reference are skipped before any JSON is parsed, and
files are read side by side. Answers from files are never written to the creators cache.

    sources    paths and s3:// URLs → log files, in a stable order
    s3         an S3 prefix listed page by page, objects streamed
    inflate    a file's bytes, gunzipped, in bounded chunks
    prefilter  could these bytes name the reference? (before any parsing)
    reader     the records of a file, one at a time
    search     what the records say about each reference, and the answer
    stats      what was read and skipped, and the time the logs span
    finder     all of it, file by file on a few threads, merged in order
"""

from bot.aws.trail_files.errors import TrailLogsError, TrailLogsUnavailable
from bot.aws.trail_files.finder import S3_READERS, default_workers, find_in_logs
from bot.aws.trail_files.sources import LOG_SUFFIXES
from bot.aws.trail_files.stats import ReadStats

__all__ = [
    "LOG_SUFFIXES",
    "S3_READERS",
    "ReadStats",
    "TrailLogsError",
    "TrailLogsUnavailable",
    "default_workers",
    "find_in_logs",
]
