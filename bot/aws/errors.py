"""Reading botocore errors: the error code, and whether it means "not allowed" or "slow down"."""

from __future__ import annotations

from botocore.exceptions import ClientError

DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnauthorizedException",
        "AuthorizationError",
        "AuthFailure",
        "Forbidden",
        "OperationNotPermittedException",
    }
)
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "SlowDown",
    }
)


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code") or "Unknown")


def is_denied(error: ClientError) -> bool:
    return error_code(error) in DENIED_CODES


def is_throttled(error: ClientError) -> bool:
    return error_code(error) in THROTTLING_CODES
