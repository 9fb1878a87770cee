"""DynamoDB checks against the emulator: one PASS and one FAIL test per check, the ERROR path, and the
demo-estate seeder."""

from __future__ import annotations

import json
import urllib.request

from tests.conftest import estate_mismatches, findings_for, status_of

KEY = {"KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
       "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}]}
READ = "dynamodb:table:ReadCapacityUnits"
WRITE = "dynamodb:table:WriteCapacityUnits"
REGIONS = ("us-east-1", "eu-west-1")


def _fail(aws, action: str, code: str, status: int, n: int) -> None:
    spec = {"fail": {action: {"code": code, "status": status, "count": n}}}
    req = urllib.request.Request(aws.endpoint + "/_sandbox/faults", method="POST", data=json.dumps(spec).encode(),
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()


def _table(aws, name: str = "orders", on_demand: bool = False, **kwargs) -> str:
    capacity = ({"BillingMode": "PAY_PER_REQUEST"} if on_demand else
                {"ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}})
    aws.client("dynamodb").create_table(TableName=name, **KEY, **capacity, **kwargs)
    return name


def _autoscale(aws, table: str, *dimensions: str) -> None:
    scaling = aws.client("application-autoscaling")
    for dimension in dimensions:
        scaling.register_scalable_target(ServiceNamespace="dynamodb", ResourceId=f"table/{table}",
                                         ScalableDimension=dimension, MinCapacity=5, MaxCapacity=100)


# -- point-in-time recovery --

def test_table_with_pitr_passes(aws):
    table = _table(aws)
    aws.client("dynamodb").update_continuous_backups(
        TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    findings = aws.scan("dynamodb")
    assert status_of(findings, "dynamodb_table_pitr_enabled", table) == "PASS"
    assert findings_for(findings, "dynamodb_table_pitr_enabled", table)[0].resource_arn == \
        "arn:aws:dynamodb:us-east-1:123456789012:table/orders"


def test_table_without_pitr_fails(aws):
    table = _table(aws)
    assert status_of(aws.scan("dynamodb"), "dynamodb_table_pitr_enabled", table) == "FAIL"


# -- deletion protection --

def test_table_with_deletion_protection_passes(aws):
    table = _table(aws, DeletionProtectionEnabled=True)
    assert status_of(aws.scan("dynamodb"), "dynamodb_table_deletion_protection_enabled", table) == "PASS"


def test_table_without_deletion_protection_fails(aws):
    table = _table(aws)
    assert status_of(aws.scan("dynamodb"), "dynamodb_table_deletion_protection_enabled", table) == "FAIL"


# -- autoscaling --

def test_provisioned_table_autoscaling_read_and_write_passes(aws):
    table = _table(aws)
    _autoscale(aws, table, READ, WRITE)
    assert status_of(aws.scan("dynamodb"), "dynamodb_table_autoscaling_enabled", table) == "PASS"


def test_on_demand_table_passes_autoscaling_check(aws):
    table = _table(aws, on_demand=True)
    assert status_of(aws.scan("dynamodb"), "dynamodb_table_autoscaling_enabled", table) == "PASS"


def test_provisioned_table_without_autoscaling_fails(aws):
    table = _table(aws)
    _autoscale(aws, "another-table", READ, WRITE)
    assert status_of(aws.scan("dynamodb"), "dynamodb_table_autoscaling_enabled", table) == "FAIL"


def test_provisioned_table_autoscaling_only_reads_fails_and_names_writes(aws):
    table = _table(aws)
    _autoscale(aws, table, READ)
    finding = findings_for(aws.scan("dynamodb"), "dynamodb_table_autoscaling_enabled", table)
    assert [f.status.value for f in finding] == ["FAIL"]
    assert "write" in finding[0].message and "read" not in finding[0].message


# -- errors --

def test_denied_continuous_backups_report_error_never_pass(aws):
    table = _table(aws, DeletionProtectionEnabled=True)
    _fail(aws, "DescribeContinuousBackups", "AccessDeniedException", 400, 1000)
    findings = aws.scan("dynamodb")
    assert status_of(findings, "dynamodb_table_pitr_enabled", table) == "ERROR"
    assert "DescribeContinuousBackups" in findings_for(findings, "dynamodb_table_pitr_enabled", table)[0].message
    # The table's description was collected, so the other checks are still evaluated.
    assert status_of(findings, "dynamodb_table_deletion_protection_enabled", table) == "PASS"


def test_failed_autoscaling_listing_reports_error_for_the_autoscaling_check_only(aws):
    table = _table(aws, DeletionProtectionEnabled=True)
    _fail(aws, "DescribeScalableTargets", "AccessDeniedException", 400, 1000)
    findings = aws.scan("dynamodb")
    assert status_of(findings, "dynamodb_table_autoscaling_enabled", table) == "ERROR"
    assert status_of(findings, "dynamodb_table_deletion_protection_enabled", table) == "PASS"


# -- demo estate --

def test_demo_estate_seeder_matches_dynamodb_checks(emulator):
    assert estate_mismatches(emulator, "dynamodb", both_outcomes=True) == []
