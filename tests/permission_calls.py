"""AWS calls as IAM names them, for tests that compare the calls made with the permissions table."""

from __future__ import annotations

# How an AWS call (botocore's endpoint prefix and operation) is named in IAM, where it differs.
_IAM_PREFIX = {"monitoring": "cloudwatch", "api.pricing": "pricing", "api.sagemaker": "sagemaker"}
_IAM_NAME = {"s3:ListBuckets": "s3:ListAllMyBuckets"}


def iam_name(call: str) -> str:
    """ "monitoring:GetMetricData" → "cloudwatch:GetMetricData"."""
    prefix, operation = call.split(":", 1)
    name = f"{_IAM_PREFIX.get(prefix, prefix)}:{operation}"
    return _IAM_NAME.get(name, name)
