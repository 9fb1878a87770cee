"""EFS checks against the emulator: one PASS and one FAIL test per check, the ERROR path, and the
demo-estate seeder."""

from __future__ import annotations

import json
import urllib.request

from tests.conftest import estate_mismatches, findings_for, status_of

REGIONS = ("us-east-1", "eu-west-1")


def _fail(aws, action: str, code: str, status: int, n: int) -> None:
    spec = {"fail": {action: {"code": code, "status": status, "count": n}}}
    req = urllib.request.Request(aws.endpoint + "/_sandbox/faults", method="POST", data=json.dumps(spec).encode(),
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()


def _file_system(aws, token: str = "fs-test", **kwargs) -> str:
    return aws.client("efs").create_file_system(CreationToken=token, **kwargs)["FileSystemId"]


def _access_point(aws, fs: str, **kwargs) -> str:
    return aws.client("efs").create_access_point(FileSystemId=fs, **kwargs)["AccessPointId"]


def test_encrypted_file_system_passes(aws):
    fs = _file_system(aws, Encrypted=True)
    findings = aws.scan("efs")
    assert status_of(findings, "efs_filesystem_encrypted", fs) == "PASS"
    assert findings_for(findings, "efs_filesystem_encrypted", fs)[0].resource_arn == \
        f"arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/{fs}"


def test_unencrypted_file_system_fails(aws):
    fs = _file_system(aws)
    assert status_of(aws.scan("efs"), "efs_filesystem_encrypted", fs) == "FAIL"


def test_file_system_with_automatic_backups_passes(aws):
    fs = _file_system(aws, Backup=True)
    assert status_of(aws.scan("efs"), "efs_filesystem_backup_enabled", fs) == "PASS"


def test_file_system_without_backup_policy_fails(aws):
    fs = _file_system(aws)
    assert status_of(aws.scan("efs"), "efs_filesystem_backup_enabled", fs) == "FAIL"


def test_access_point_rooted_in_a_subdirectory_passes(aws):
    ap = _access_point(aws, _file_system(aws), RootDirectory={"Path": "/app"})
    findings = aws.scan("efs")
    assert status_of(findings, "efs_access_point_root_directory_enforced", ap) == "PASS"
    assert findings_for(findings, "efs_access_point_root_directory_enforced", ap)[0].resource_type == \
        "AWS::EFS::AccessPoint"


def test_access_point_at_the_file_system_root_fails(aws):
    ap = _access_point(aws, _file_system(aws))
    assert status_of(aws.scan("efs"), "efs_access_point_root_directory_enforced", ap) == "FAIL"


def test_denied_backup_policy_reports_error_never_pass(aws):
    fs = _file_system(aws, Encrypted=True, Backup=True)
    _fail(aws, f"GET /2015-02-01/file-systems/{fs}/backup-policy", "AccessDeniedException", 403, 1000)
    findings = aws.scan("efs")
    assert status_of(findings, "efs_filesystem_backup_enabled", fs) == "ERROR"
    assert status_of(findings, "efs_filesystem_encrypted", fs) == "PASS"


def test_demo_estate_seeder_matches_efs_checks(emulator):
    assert estate_mismatches(emulator, "efs", both_outcomes=True) == []
