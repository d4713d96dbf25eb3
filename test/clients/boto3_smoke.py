#!/usr/bin/env python3
"""boto3 against a shardbox server: python3 boto3_smoke.py http://127.0.0.1:PORT [KEY SECRET]

Exercises create_table, put_item, get_item, update_item, query, scan, delete_item, a
ConditionalCheckFailedException and delete_table with dummy credentials, through both the
low-level client and the resource API, signed with dummy credentials (or KEY/SECRET,
for a server that checks signatures). botocore also checks every response's x-amz-crc32.
Exits non-zero on the first mismatch.
"""
import datetime
import sys
from decimal import Decimal

import boto3
from boto3.dynamodb.conditions import Attr, Key
from boto3.dynamodb.types import Binary
from botocore.config import Config
from botocore.exceptions import ClientError

TABLE = "boto3_smoke"
BIG = "12345678901234567890123456789012345678"


def check(what, got, want):
    if got != want:
        print(f"MISMATCH {what}:\n  got:  {got!r}\n  want: {want!r}", file=sys.stderr)
        sys.exit(1)
    print(f"ok {what}")


def main(endpoint, key="dummy", secret="dummy"):
    session = boto3.session.Session(aws_access_key_id=key, aws_secret_access_key=secret, region_name="us-east-1")
    config = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=10, read_timeout=30)
    client = session.client("dynamodb", endpoint_url=endpoint, config=config)
    resource = session.resource("dynamodb", endpoint_url=endpoint, config=config)

    created = client.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"}],
        BillingMode="PAY_PER_REQUEST",
    )
    check("create_table status", created["TableDescription"]["TableStatus"], "CREATING")
    check("CreationDateTime is a datetime", isinstance(created["TableDescription"]["CreationDateTime"], datetime.datetime), True)
    client.get_waiter("table_exists").wait(TableName=TABLE, WaiterConfig={"Delay": 1, "MaxAttempts": 5})
    check("list_tables", client.list_tables()["TableNames"], [TABLE])

    item = {
        "pk": {"S": "a"}, "sk": {"N": "1"},
        "b": {"B": b"\x00\x01\xfe\xff"},
        "bs": {"BS": [b"x", b"\xff\x00"]},
        "n": {"N": BIG},
        "m": {"M": {"l": {"L": [{"S": "s"}, {"B": b"\x07"}, {"BOOL": True}, {"NULL": True}]}}},
    }
    client.put_item(TableName=TABLE, Item=item)
    got = client.get_item(TableName=TABLE, Key={"pk": {"S": "a"}, "sk": {"N": "1"}}, ConsistentRead=True)["Item"]
    check("get_item b", got["b"], {"B": b"\x00\x01\xfe\xff"})
    check("get_item bs", sorted(got["bs"]["BS"]), sorted([b"x", b"\xff\x00"]))
    check("get_item n (38 digits)", got["n"], {"N": BIG})
    check("get_item m", got["m"], item["m"])

    updated = client.update_item(
        TableName=TABLE, Key={"pk": {"S": "a"}, "sk": {"N": "1"}},
        UpdateExpression="SET #c = if_not_exists(#c, :zero) + :one, tag = :t",
        ExpressionAttributeNames={"#c": "count"},
        ExpressionAttributeValues={":zero": {"N": "0"}, ":one": {"N": "1"}, ":t": {"S": "hello"}},
        ReturnValues="UPDATED_NEW",
    )
    check("update_item UPDATED_NEW", updated["Attributes"], {"count": {"N": "1"}, "tag": {"S": "hello"}})

    try:
        client.put_item(TableName=TABLE, Item={"pk": {"S": "a"}, "sk": {"N": "1"}}, ConditionExpression="attribute_not_exists(pk)")
        check("conditional put raised", False, True)
    except client.exceptions.ConditionalCheckFailedException as e:
        check("ConditionalCheckFailedException code", e.response["Error"]["Code"], "ConditionalCheckFailedException")
        check("ConditionalCheckFailedException message", e.response["Error"]["Message"], "The conditional request failed")
        check("ConditionalCheckFailedException status", e.response["ResponseMetadata"]["HTTPStatusCode"], 400)

    table = resource.Table(TABLE)
    for i in range(2, 22):
        table.put_item(Item={"pk": "q", "sk": i, "even": i % 2 == 0, "blob": Binary(bytes([i])), "price": Decimal("1.25") * i})
    pages = client.get_paginator("query").paginate(
        TableName=TABLE, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "q"}},
        ConsistentRead=True, PaginationConfig={"PageSize": 6},
    )
    seen, page_count = [], 0
    for page in pages:
        page_count += 1
        seen += [int(it["sk"]["N"]) for it in page["Items"]]
    check("query pages", page_count >= 4, True)
    check("query order", seen, list(range(2, 22)))
    filtered = table.query(KeyConditionExpression=Key("pk").eq("q") & Key("sk").between(5, 9), FilterExpression=Attr("even").eq(True), ConsistentRead=True)
    check("resource query", [(int(x["sk"]), x["blob"], x["price"]) for x in filtered["Items"]], [(6, Binary(b"\x06"), Decimal("7.5")), (8, Binary(b"\x08"), Decimal("10"))])

    segments = []
    for segment in range(3):
        kwargs = {"TableName": TABLE, "Segment": segment, "TotalSegments": 3, "ConsistentRead": True}
        while True:
            page = client.scan(**kwargs)
            segments += [(it["pk"]["S"], int(it["sk"]["N"])) for it in page["Items"]]
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    check("scan segments cover the table", sorted(segments), sorted([("a", 1)] + [("q", i) for i in range(2, 22)]))
    check("scan count", client.scan(TableName=TABLE, Select="COUNT", ConsistentRead=True)["Count"], 21)

    deleted = client.delete_item(TableName=TABLE, Key={"pk": {"S": "a"}, "sk": {"N": "1"}}, ReturnValues="ALL_OLD")
    check("delete_item ALL_OLD", deleted["Attributes"]["tag"], {"S": "hello"})
    check("get after delete", "Item" in client.get_item(TableName=TABLE, Key={"pk": {"S": "a"}, "sk": {"N": "1"}}, ConsistentRead=True), False)

    try:
        client.describe_table(TableName="no_such_table")
        check("describe missing raised", False, True)
    except client.exceptions.ResourceNotFoundException as e:
        check("ResourceNotFoundException", e.response["Error"]["Code"], "ResourceNotFoundException")
    try:
        client.get_item(TableName=TABLE, Key={"pk": {"S": "a"}})
        check("bad key raised", False, True)
    except ClientError as e:
        check("ValidationException code", e.response["Error"]["Code"], "ValidationException")
        check("ValidationException message", e.response["Error"]["Message"], "The provided key element does not match the schema")

    client.delete_table(TableName=TABLE)
    check("list_tables after delete", client.list_tables()["TableNames"], [])
    print("boto3 smoke: all ok")


if __name__ == "__main__":
    if len(sys.argv) not in (2, 4):
        print("usage: boto3_smoke.py ENDPOINT_URL [ACCESS_KEY SECRET_KEY]", file=sys.stderr)
        sys.exit(2)
    main(*sys.argv[1:])
