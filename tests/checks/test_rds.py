"""RDS checks against the emulator: one PASS and one FAIL test per check, the ERROR path, and the
demo-estate seeder."""

from __future__ import annotations

import json
import urllib.request

from tests.conftest import estate_mismatches, findings_for, status_of

INSTANCE = {"Engine": "postgres", "DBInstanceClass": "db.t3.micro", "AllocatedStorage": 20,
            "MasterUsername": "admin", "MasterUserPassword": "Password-123"}
CLUSTER = {"Engine": "aurora-postgresql", "MasterUsername": "admin", "MasterUserPassword": "Password-123"}
REGIONS = ("us-east-1", "eu-west-1")


def _throttle(aws, action: str, n: int) -> None:
    req = urllib.request.Request(aws.endpoint + "/_sandbox/faults", method="POST",
                                 data=json.dumps({"throttle": {action: n}}).encode(),
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()


def _fail(aws, action: str, code: str, status: int, n: int) -> None:
    spec = {"fail": {action: {"code": code, "status": status, "count": n}}}
    req = urllib.request.Request(aws.endpoint + "/_sandbox/faults", method="POST", data=json.dumps(spec).encode(),
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()


def _instance(aws, name: str = "db1", **kwargs) -> str:
    aws.client("rds").create_db_instance(DBInstanceIdentifier=name, **{**INSTANCE, **kwargs})
    return name


def _snapshot(aws, instance: str, name: str = "manual1", public: bool = False) -> str:
    rds = aws.client("rds")
    rds.create_db_snapshot(DBInstanceIdentifier=instance, DBSnapshotIdentifier=name)
    if public:
        rds.modify_db_snapshot_attribute(DBSnapshotIdentifier=name, AttributeName="restore", ValuesToAdd=["all"])
    return name


def _cluster(aws, name: str = "cluster1", **kwargs) -> str:
    aws.client("rds").create_db_cluster(DBClusterIdentifier=name, **{**CLUSTER, **kwargs})
    return name


def _cluster_snapshot(aws, cluster: str, name: str = "cmanual1", public: bool = False) -> str:
    rds = aws.client("rds")
    rds.create_db_cluster_snapshot(DBClusterIdentifier=cluster, DBClusterSnapshotIdentifier=name)
    if public:
        rds.modify_db_cluster_snapshot_attribute(DBClusterSnapshotIdentifier=name, AttributeName="restore",
                                                 ValuesToAdd=["all"])
    return name


# -- instances --

def test_instance_without_public_access_setting_passes_public_check(aws):
    db = _instance(aws)
    findings = aws.scan("rds")
    assert status_of(findings, "rds_instance_publicly_accessible_disabled", db) == "PASS"
    assert findings_for(findings, "rds_instance_publicly_accessible_disabled", db)[0].resource_arn == \
        "arn:aws:rds:us-east-1:123456789012:db:db1"


def test_publicly_accessible_instance_fails_public_check(aws):
    db = _instance(aws, PubliclyAccessible=True)
    assert status_of(aws.scan("rds"), "rds_instance_publicly_accessible_disabled", db) == "FAIL"


def test_encrypted_instance_passes_storage_check(aws):
    db = _instance(aws, StorageEncrypted=True)
    assert status_of(aws.scan("rds"), "rds_instance_storage_encrypted", db) == "PASS"


def test_unencrypted_instance_fails_storage_check(aws):
    db = _instance(aws)
    assert status_of(aws.scan("rds"), "rds_instance_storage_encrypted", db) == "FAIL"


def test_instance_with_default_backup_retention_passes_backup_check(aws):
    db = _instance(aws)
    assert status_of(aws.scan("rds"), "rds_instance_backup_enabled", db) == "PASS"


def test_instance_with_backups_disabled_fails_backup_check(aws):
    db = _instance(aws, BackupRetentionPeriod=0)
    assert status_of(aws.scan("rds"), "rds_instance_backup_enabled", db) == "FAIL"


def test_backup_retention_minimum_is_a_parameter(aws):
    db = _instance(aws, BackupRetentionPeriod=3)
    params = {"rds_instance_backup_enabled": {"min_retention_days": 7}}
    assert status_of(aws.scan("rds", params=params), "rds_instance_backup_enabled", db) == "FAIL"


def test_multi_az_instance_passes_multi_az_check(aws):
    db = _instance(aws, MultiAZ=True)
    assert status_of(aws.scan("rds"), "rds_instance_multi_az_enabled", db) == "PASS"


def test_single_az_instance_fails_multi_az_check(aws):
    db = _instance(aws)
    assert status_of(aws.scan("rds"), "rds_instance_multi_az_enabled", db) == "FAIL"


def test_read_replicas_and_cluster_members_are_not_evaluated_for_multi_az(aws):
    source = _instance(aws, MultiAZ=True)
    aws.client("rds").create_db_instance_read_replica(DBInstanceIdentifier="replica1",
                                                      SourceDBInstanceIdentifier=source)
    cluster = _cluster(aws)
    aws.client("rds").create_db_instance(DBInstanceIdentifier="member1", Engine="aurora-postgresql",
                                         DBInstanceClass="db.t3.medium", DBClusterIdentifier=cluster)
    findings = aws.scan("rds")
    assert findings_for(findings, "rds_instance_multi_az_enabled", "replica1") == []
    assert findings_for(findings, "rds_instance_multi_az_enabled", "member1") == []
    # Their other settings are still evaluated.
    assert status_of(findings, "rds_instance_storage_encrypted", "member1") == "FAIL"


def test_instance_with_deletion_protection_passes(aws):
    db = _instance(aws, DeletionProtection=True)
    assert status_of(aws.scan("rds"), "rds_instance_deletion_protection_enabled", db) == "PASS"


def test_instance_without_deletion_protection_fails(aws):
    db = _instance(aws)
    assert status_of(aws.scan("rds"), "rds_instance_deletion_protection_enabled", db) == "FAIL"


def test_instance_with_auto_minor_version_upgrade_passes(aws):
    db = _instance(aws)
    assert status_of(aws.scan("rds"), "rds_instance_auto_minor_version_upgrade_enabled", db) == "PASS"


def test_instance_without_auto_minor_version_upgrade_fails(aws):
    db = _instance(aws, AutoMinorVersionUpgrade=False)
    assert status_of(aws.scan("rds"), "rds_instance_auto_minor_version_upgrade_enabled", db) == "FAIL"


def test_instance_exporting_logs_passes_and_names_them(aws):
    db = _instance(aws, EnableCloudwatchLogsExports=["postgresql", "upgrade"])
    finding = findings_for(aws.scan("rds"), "rds_instance_logs_exported", db)
    assert [f.status.value for f in finding] == ["PASS"]
    assert "postgresql, upgrade" in finding[0].message


def test_instance_exporting_no_logs_fails(aws):
    db = _instance(aws)
    assert status_of(aws.scan("rds"), "rds_instance_logs_exported", db) == "FAIL"


# -- snapshots --

def test_private_manual_snapshot_passes_and_automated_snapshots_are_not_evaluated(aws):
    snap = _snapshot(aws, _instance(aws))
    findings = aws.scan("rds")
    assert status_of(findings, "rds_snapshot_not_public", snap) == "PASS"
    # The emulator's automated snapshot of db1 is not a finding of either snapshot check.
    assert {f.resource_id for f in findings_for(findings, "rds_snapshot_not_public")} == {snap}
    assert {f.resource_id for f in findings_for(findings, "rds_snapshot_encrypted")} == {snap}


def test_manual_snapshot_restorable_by_all_fails(aws):
    snap = _snapshot(aws, _instance(aws), public=True)
    findings = aws.scan("rds")
    assert status_of(findings, "rds_snapshot_not_public", snap) == "FAIL"
    assert findings_for(findings, "rds_snapshot_not_public", snap)[0].resource_type == "AWS::RDS::DBSnapshot"


def test_public_cluster_snapshot_fails_as_a_cluster_snapshot(aws):
    snap = _cluster_snapshot(aws, _cluster(aws), public=True)
    finding = findings_for(aws.scan("rds"), "rds_snapshot_not_public", snap)
    assert [(f.status.value, f.resource_type) for f in finding] == [("FAIL", "AWS::RDS::DBClusterSnapshot")]
    assert finding[0].resource_arn == f"arn:aws:rds:us-east-1:123456789012:cluster-snapshot:{snap}"


def test_snapshot_of_encrypted_instance_passes_encryption_check(aws):
    snap = _snapshot(aws, _instance(aws, StorageEncrypted=True))
    assert status_of(aws.scan("rds"), "rds_snapshot_encrypted", snap) == "PASS"


def test_snapshot_of_unencrypted_instance_fails_encryption_check(aws):
    snap = _snapshot(aws, _instance(aws))
    assert status_of(aws.scan("rds"), "rds_snapshot_encrypted", snap) == "FAIL"


def test_cluster_snapshots_follow_their_cluster_encryption(aws):
    sealed = _cluster_snapshot(aws, _cluster(aws, "sealed", StorageEncrypted=True), "sealed-manual")
    plain = _cluster_snapshot(aws, _cluster(aws, "plain"), "plain-manual")
    findings = aws.scan("rds")
    assert status_of(findings, "rds_snapshot_encrypted", sealed) == "PASS"
    assert status_of(findings, "rds_snapshot_encrypted", plain) == "FAIL"


# -- clusters --

def test_encrypted_cluster_passes_storage_check(aws):
    cluster = _cluster(aws, StorageEncrypted=True)
    assert status_of(aws.scan("rds"), "rds_cluster_storage_encrypted", cluster) == "PASS"


def test_unencrypted_cluster_fails_storage_check(aws):
    cluster = _cluster(aws)
    assert status_of(aws.scan("rds"), "rds_cluster_storage_encrypted", cluster) == "FAIL"


def test_cluster_with_deletion_protection_passes(aws):
    cluster = _cluster(aws, DeletionProtection=True)
    assert status_of(aws.scan("rds"), "rds_cluster_deletion_protection_enabled", cluster) == "PASS"


def test_cluster_without_deletion_protection_fails(aws):
    cluster = _cluster(aws)
    assert status_of(aws.scan("rds"), "rds_cluster_deletion_protection_enabled", cluster) == "FAIL"


# -- errors --

def test_throttled_snapshot_attributes_report_error_never_pass(aws):
    snap = _snapshot(aws, _instance(aws, StorageEncrypted=True))
    _throttle(aws, "DescribeDBSnapshotAttributes", 1000)
    findings = aws.scan("rds")
    assert status_of(findings, "rds_snapshot_not_public", snap) == "ERROR"
    # The encryption check needs no per-snapshot call and is still evaluated.
    assert status_of(findings, "rds_snapshot_encrypted", snap) == "PASS"


def test_denied_cluster_snapshot_attributes_report_error_as_a_cluster_snapshot(aws):
    snap = _cluster_snapshot(aws, _cluster(aws))
    _fail(aws, "DescribeDBClusterSnapshotAttributes", "AccessDenied", 403, 1000)
    finding = findings_for(aws.scan("rds"), "rds_snapshot_not_public", snap)
    assert [(f.status.value, f.resource_type) for f in finding] == [("ERROR", "AWS::RDS::DBClusterSnapshot")]
    assert "AccessDenied" in finding[0].message


# -- demo estate --

def test_demo_estate_seeder_matches_rds_checks(emulator):
    assert estate_mismatches(emulator, "rds", both_outcomes=True) == []
