"""S3 checks against the emulator: one PASS and one FAIL test per check, plus the ERROR paths."""

from __future__ import annotations

import json
import urllib.request

from tests.conftest import ACCOUNT, findings_for, status_of

BUCKET = "cs-test-bucket"
FULL_BLOCK = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
              "RestrictPublicBuckets": True}
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


def _bucket(aws, name: str = BUCKET, region: str = "us-east-1"):
    s3 = aws.client("s3", region)
    if region == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    return s3


def _policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _throttle(aws, action: str, n: int) -> None:
    req = urllib.request.Request(aws.endpoint + "/_sandbox/faults", method="POST",
                                 data=json.dumps({"throttle": {action: n}}).encode(),
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()


# -- account Block Public Access --

def test_account_with_full_public_access_block_passes(aws):
    aws.client("s3control").put_public_access_block(AccountId=ACCOUNT,
                                                    PublicAccessBlockConfiguration=FULL_BLOCK)
    findings = aws.scan("s3")
    assert status_of(findings, "s3_account_public_access_blocked", ACCOUNT) == "PASS"
    assert findings_for(findings, "s3_account_public_access_blocked")[0].region == "global"


def test_account_without_public_access_block_fails(aws):
    assert status_of(aws.scan("s3"), "s3_account_public_access_blocked", ACCOUNT) == "FAIL"


def test_account_with_one_public_access_flag_off_fails(aws):
    aws.client("s3control").put_public_access_block(
        AccountId=ACCOUNT, PublicAccessBlockConfiguration={**FULL_BLOCK, "RestrictPublicBuckets": False})
    assert status_of(aws.scan("s3"), "s3_account_public_access_blocked", ACCOUNT) == "FAIL"


# -- bucket Block Public Access --

def test_bucket_with_full_public_access_block_passes(aws):
    _bucket(aws).put_public_access_block(Bucket=BUCKET, PublicAccessBlockConfiguration=FULL_BLOCK)
    assert status_of(aws.scan("s3"), "s3_bucket_public_access_blocked", BUCKET) == "PASS"


def test_bucket_without_public_access_block_fails(aws):
    _bucket(aws)
    assert status_of(aws.scan("s3"), "s3_bucket_public_access_blocked", BUCKET) == "FAIL"


# -- ACLs --

def test_private_bucket_acl_passes_public_read_and_write_checks(aws):
    _bucket(aws)
    findings = aws.scan("s3")
    assert status_of(findings, "s3_bucket_acl_public_read_prohibited", BUCKET) == "PASS"
    assert status_of(findings, "s3_bucket_acl_public_write_prohibited", BUCKET) == "PASS"


def test_public_read_acl_fails_public_read_check(aws):
    _bucket(aws).put_bucket_acl(Bucket=BUCKET, ACL="public-read")
    findings = aws.scan("s3")
    assert status_of(findings, "s3_bucket_acl_public_read_prohibited", BUCKET) == "FAIL"
    assert status_of(findings, "s3_bucket_acl_public_write_prohibited", BUCKET) == "PASS"


def test_all_users_write_grant_fails_public_write_check(aws):
    s3 = _bucket(aws)
    owner = s3.get_bucket_acl(Bucket=BUCKET)["Owner"]["ID"]
    s3.put_bucket_acl(Bucket=BUCKET, GrantWrite=f'uri="{ALL_USERS}"', GrantFullControl=f"id={owner}")
    assert status_of(aws.scan("s3"), "s3_bucket_acl_public_write_prohibited", BUCKET) == "FAIL"


# -- bucket policy --

def test_bucket_policy_with_conditioned_everyone_statement_passes_public_policy_check(aws):
    _bucket(aws).put_bucket_policy(Bucket=BUCKET, Policy=_policy({
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/*",
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}}))
    assert status_of(aws.scan("s3"), "s3_bucket_policy_public_access_prohibited", BUCKET) == "PASS"


def test_bucket_policy_allowing_everyone_fails_public_policy_check(aws):
    _bucket(aws).put_bucket_policy(Bucket=BUCKET, Policy=_policy({
        "Sid": "PublicRead", "Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{BUCKET}/*"}))
    findings = aws.scan("s3")
    assert status_of(findings, "s3_bucket_policy_public_access_prohibited", BUCKET) == "FAIL"
    assert "PublicRead" in findings_for(findings, "s3_bucket_policy_public_access_prohibited")[0].message


# -- encryption --

def test_bucket_with_default_encryption_passes(aws):
    _bucket(aws).put_bucket_encryption(Bucket=BUCKET, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    assert status_of(aws.scan("s3"), "s3_bucket_default_encryption_enabled", BUCKET) == "PASS"


def test_bucket_without_default_encryption_fails(aws):
    _bucket(aws)
    assert status_of(aws.scan("s3"), "s3_bucket_default_encryption_enabled", BUCKET) == "FAIL"


# -- versioning --

def test_bucket_with_versioning_passes_versioning_check(aws):
    _bucket(aws).put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    assert status_of(aws.scan("s3"), "s3_bucket_versioning_enabled", BUCKET) == "PASS"


def test_bucket_without_versioning_fails_versioning_check(aws):
    _bucket(aws)
    assert status_of(aws.scan("s3"), "s3_bucket_versioning_enabled", BUCKET) == "FAIL"


def test_bucket_with_suspended_versioning_fails_versioning_check(aws):
    s3 = _bucket(aws)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"})
    assert status_of(aws.scan("s3"), "s3_bucket_versioning_enabled", BUCKET) == "FAIL"


# -- secure transport --

def test_bucket_policy_denying_insecure_transport_passes(aws):
    _bucket(aws).put_bucket_policy(Bucket=BUCKET, Policy=_policy({
        "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}))
    assert status_of(aws.scan("s3"), "s3_bucket_secure_transport_required", BUCKET) == "PASS"


def test_bucket_without_policy_fails_secure_transport_check(aws):
    _bucket(aws)
    assert status_of(aws.scan("s3"), "s3_bucket_secure_transport_required", BUCKET) == "FAIL"


def test_bucket_policy_without_transport_condition_fails_secure_transport_check(aws):
    _bucket(aws).put_bucket_policy(Bucket=BUCKET, Policy=_policy({
        "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteBucket",
        "Resource": f"arn:aws:s3:::{BUCKET}"}))
    assert status_of(aws.scan("s3"), "s3_bucket_secure_transport_required", BUCKET) == "FAIL"


# -- server access logging --

def test_bucket_with_access_logging_passes(aws):
    s3 = _bucket(aws)
    _bucket(aws, "cs-log-bucket")
    s3.put_bucket_acl(Bucket="cs-log-bucket", GrantWrite='uri="http://acs.amazonaws.com/groups/s3/LogDelivery"',
                      GrantReadACP='uri="http://acs.amazonaws.com/groups/s3/LogDelivery"')
    s3.put_bucket_logging(Bucket=BUCKET, BucketLoggingStatus={
        "LoggingEnabled": {"TargetBucket": "cs-log-bucket", "TargetPrefix": "logs/"}})
    assert status_of(aws.scan("s3"), "s3_bucket_server_access_logging_enabled", BUCKET) == "PASS"


def test_bucket_without_access_logging_fails(aws):
    _bucket(aws)
    assert status_of(aws.scan("s3"), "s3_bucket_server_access_logging_enabled", BUCKET) == "FAIL"


# -- object ownership --

def test_bucket_owner_enforced_passes_acls_disabled_check(aws):
    _bucket(aws).put_bucket_ownership_controls(Bucket=BUCKET, OwnershipControls={
        "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
    assert status_of(aws.scan("s3"), "s3_bucket_acls_disabled", BUCKET) == "PASS"


def test_bucket_without_ownership_controls_fails_acls_disabled_check(aws):
    _bucket(aws)
    assert status_of(aws.scan("s3"), "s3_bucket_acls_disabled", BUCKET) == "FAIL"


# -- lifecycle --

def test_bucket_with_enabled_lifecycle_rule_passes(aws):
    _bucket(aws).put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": [
        {"ID": "expire", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 365}}]})
    assert status_of(aws.scan("s3"), "s3_bucket_lifecycle_configured", BUCKET) == "PASS"


def test_bucket_with_only_disabled_lifecycle_rule_fails(aws):
    _bucket(aws).put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": [
        {"ID": "expire", "Status": "Disabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 365}}]})
    assert status_of(aws.scan("s3"), "s3_bucket_lifecycle_configured", BUCKET) == "FAIL"


def test_bucket_without_lifecycle_fails(aws):
    _bucket(aws)
    assert status_of(aws.scan("s3"), "s3_bucket_lifecycle_configured", BUCKET) == "FAIL"


# -- regions --

def test_buckets_are_attributed_to_their_region_and_filtered_by_scanned_regions(aws):
    _bucket(aws, "cs-east")
    _bucket(aws, "cs-west", "eu-west-1")
    _bucket(aws, "cs-tokyo", "ap-northeast-1")
    findings = aws.scan("s3", regions=("us-east-1", "eu-west-1"))
    versioning = {f.resource_id: f for f in findings_for(findings, "s3_bucket_versioning_enabled")}
    assert set(versioning) == {"cs-east", "cs-west"}
    assert versioning["cs-east"].region == "us-east-1"
    assert versioning["cs-west"].region == "eu-west-1"
    assert versioning["cs-west"].resource_arn == "arn:aws:s3:::cs-west"


# -- errors --

def test_bucket_whose_settings_cannot_be_read_reports_error_not_pass(aws):
    _bucket(aws)
    _bucket(aws, "cs-other-bucket")
    # Path-style requests: every call on the bucket is "GET /<bucket>" to the sandbox.
    _throttle(aws, f"GET /{BUCKET}", 1000)
    findings = aws.scan("s3")
    for chk in ("s3_bucket_versioning_enabled", "s3_bucket_policy_public_access_prohibited",
                "s3_bucket_acl_public_read_prohibited"):
        assert status_of(findings, chk, BUCKET) == "ERROR"
    assert "Throttling" in findings_for(findings, "s3_bucket_versioning_enabled", BUCKET)[0].message
    assert status_of(findings, "s3_bucket_versioning_enabled", "cs-other-bucket") == "FAIL"


def test_failing_bucket_listing_reports_error_for_every_check(aws):
    _bucket(aws)
    _throttle(aws, "GET /", 1000)
    findings = aws.scan("s3")
    assert findings and all(f.status.value == "ERROR" for f in findings)
