"""DynamoDB adapter tests against the dynalite server scripts/test.sh starts (STORE)."""

from __future__ import annotations

from typing import Any

import boto3


def test_dynamodb_endpoint_speaks_dynamodb(dynamodb_options: dict[str, Any]) -> None:
    client = boto3.client(
        "dynamodb",
        endpoint_url=dynamodb_options["endpoint_url"],
        region_name=dynamodb_options["region"],
        aws_access_key_id=dynamodb_options["access_key_id"],
        aws_secret_access_key=dynamodb_options["secret_access_key"],
    )
    # dynalite mirrors DynamoDB's validation: a missing table is the real error.
    try:
        client.describe_table(TableName="does_not_exist")
    except client.exceptions.ResourceNotFoundException:
        pass
    else:
        raise AssertionError("describe_table of a missing table succeeded")
    assert isinstance(client.list_tables()["TableNames"], list)
