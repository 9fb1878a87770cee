"""CloudWatch checks against the emulator: each CIS alarm chain complete (PASS) and broken (FAIL),
the chain's links, alarm actions, the ERROR path, and the demo estate's CloudWatch expectations."""

from __future__ import annotations

from typing import Any

from engine.checks.cloudwatch import IAM_POLICY_CHANGE_EVENTS
from engine.model import GLOBAL_REGION
from tests.checks.test_cloudtrail import inject_throttling
from tests.conftest import ACCOUNT, estate_mismatches, findings_for, status_of

UNAUTHORIZED = "cloudwatch_alarm_unauthorized_api_calls_configured"
NO_MFA = "cloudwatch_alarm_console_login_without_mfa_configured"
ROOT = "cloudwatch_alarm_root_usage_configured"
IAM_CHANGES = "cloudwatch_alarm_iam_policy_changes_configured"
ACTION = "cloudwatch_alarm_action_configured"
CHAIN_CHECKS = (UNAUTHORIZED, NO_MFA, ROOT, IAM_CHANGES)

UNAUTHORIZED_PATTERN = '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }'
NO_MFA_PATTERN = '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }'
ROOT_PATTERN = ('{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS '
                '&& $.eventType != "AwsServiceEvent" }')
IAM_PATTERN = "{" + " || ".join(f"($.eventName = {e})" for e in IAM_POLICY_CHANGE_EVENTS) + "}"
LOG_GROUP = "cloudtrail-events"


def _trail(aws, region: str = "us-east-1", *, multi: bool = True, start: bool = True) -> None:
    """A trail delivering to the log group LOG_GROUP of its region."""
    aws.client("logs", region).create_log_group(logGroupName=LOG_GROUP)
    bucket = f"trail-logs-{region}"
    where: dict[str, Any] = {} if region == "us-east-1" else {
        "CreateBucketConfiguration": {"LocationConstraint": region}}
    aws.client("s3", region).create_bucket(Bucket=bucket, **where)
    ct = aws.client("cloudtrail", region)
    ct.create_trail(Name="audit", S3BucketName=bucket, IsMultiRegionTrail=multi,
                    CloudWatchLogsLogGroupArn=f"arn:aws:logs:{region}:{ACCOUNT}:log-group:{LOG_GROUP}:*",
                    CloudWatchLogsRoleArn=f"arn:aws:iam::{ACCOUNT}:role/trail-to-logs")
    if start:
        ct.start_logging(Name="audit")


def _topic(aws, name: str = "security-alarms", region: str = "us-east-1", *, subscribed: bool = True) -> str:
    sns = aws.client("sns", region)
    arn = sns.create_topic(Name=name)["TopicArn"]
    if subscribed:
        sns.subscribe(TopicArn=arn, Protocol="email", Endpoint="security@example.com")
    return arn


def _alarm(aws, name: str, metric: str, region: str = "us-east-1", *, actions: list[str] | None = None,
           enabled: bool = True) -> None:
    aws.client("cloudwatch", region).put_metric_alarm(
        AlarmName=name, MetricName=metric, Namespace="CISBenchmark", Statistic="Sum", Period=300,
        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold",
        AlarmActions=actions or [], ActionsEnabled=enabled)


def _chain(aws, metric: str, pattern: str, region: str = "us-east-1", *, subscribed: bool = True,
           alarm_metric: str | None = None) -> None:
    """Metric filter `pattern` on LOG_GROUP publishing `metric`, an alarm on `alarm_metric` (default: the
    same metric) notifying a topic, subscribed or not."""
    aws.client("logs", region).put_metric_filter(
        logGroupName=LOG_GROUP, filterName=metric, filterPattern=pattern,
        metricTransformations=[{"metricName": metric, "metricNamespace": "CISBenchmark", "metricValue": "1"}])
    topic = _topic(aws, f"{metric}-topic", region, subscribed=subscribed)
    _alarm(aws, f"{metric}-alarm", alarm_metric or metric, region, actions=[topic])


# -- unauthorized API calls --

def test_complete_unauthorized_api_calls_chain_passes(aws):
    _trail(aws)
    _chain(aws, "UnauthorizedAPICalls", UNAUTHORIZED_PATTERN)
    findings = aws.scan("cloudwatch")
    assert status_of(findings, UNAUTHORIZED, ACCOUNT) == "PASS"
    assert findings_for(findings, UNAUTHORIZED)[0].region == GLOBAL_REGION
    assert status_of(findings, ROOT, ACCOUNT) == "FAIL"


def test_unauthorized_api_calls_alarm_on_topic_without_subscription_fails(aws):
    _trail(aws)
    _chain(aws, "UnauthorizedAPICalls", UNAUTHORIZED_PATTERN, subscribed=False)
    findings = aws.scan("cloudwatch")
    assert status_of(findings, UNAUTHORIZED, ACCOUNT) == "FAIL"
    assert "subscription" in findings_for(findings, UNAUTHORIZED)[0].message


# -- console sign-in without MFA --

def test_complete_console_login_without_mfa_chain_passes(aws):
    _trail(aws)
    _chain(aws, "ConsoleSigninWithoutMFA", NO_MFA_PATTERN)
    assert status_of(aws.scan("cloudwatch"), NO_MFA, ACCOUNT) == "PASS"


def test_console_login_without_mfa_without_metric_filter_fails(aws):
    _trail(aws)
    _chain(aws, "UnauthorizedAPICalls", UNAUTHORIZED_PATTERN)
    findings = aws.scan("cloudwatch")
    assert status_of(findings, NO_MFA, ACCOUNT) == "FAIL"
    assert "no metric filter" in findings_for(findings, NO_MFA)[0].message


# -- root usage --

def test_complete_root_usage_chain_passes(aws):
    _trail(aws)
    _chain(aws, "RootAccountUsage", ROOT_PATTERN)
    assert status_of(aws.scan("cloudwatch"), ROOT, ACCOUNT) == "PASS"


def test_root_usage_filter_missing_a_term_fails(aws):
    _trail(aws)
    _chain(aws, "RootAccountUsage", '{ $.userIdentity.type = "Root" && $.eventType != "AwsServiceEvent" }')
    assert status_of(aws.scan("cloudwatch"), ROOT, ACCOUNT) == "FAIL"


# -- IAM policy changes --

def test_complete_iam_policy_changes_chain_passes(aws):
    _trail(aws)
    _chain(aws, "IAMPolicyChanges", IAM_PATTERN)
    assert status_of(aws.scan("cloudwatch"), IAM_CHANGES, ACCOUNT) == "PASS"


def test_iam_policy_changes_filter_missing_one_event_fails(aws):
    _trail(aws)
    _chain(aws, "IAMPolicyChanges", IAM_PATTERN.replace(" || ($.eventName = DetachGroupPolicy)", ""))
    assert status_of(aws.scan("cloudwatch"), IAM_CHANGES, ACCOUNT) == "FAIL"


# -- the chain's other links --

def test_chain_on_a_trail_that_is_not_logging_fails(aws):
    _trail(aws, start=False)
    _chain(aws, "UnauthorizedAPICalls", UNAUTHORIZED_PATTERN)
    findings = aws.scan("cloudwatch")
    assert status_of(findings, UNAUTHORIZED, ACCOUNT) == "FAIL"
    assert "no multi-region trail" in findings_for(findings, UNAUTHORIZED)[0].message


def test_chain_on_a_single_region_trail_fails(aws):
    _trail(aws, multi=False)
    _chain(aws, "UnauthorizedAPICalls", UNAUTHORIZED_PATTERN)
    assert status_of(aws.scan("cloudwatch"), UNAUTHORIZED, ACCOUNT) == "FAIL"


def test_chain_whose_alarm_watches_another_metric_fails(aws):
    _trail(aws)
    _chain(aws, "UnauthorizedAPICalls", UNAUTHORIZED_PATTERN, alarm_metric="SomethingElse")
    findings = aws.scan("cloudwatch")
    assert status_of(findings, UNAUTHORIZED, ACCOUNT) == "FAIL"
    assert "no metric alarm" in findings_for(findings, UNAUTHORIZED)[0].message


def test_chain_homed_in_an_unscanned_region_still_counts(aws):
    _trail(aws, "eu-west-1")
    _chain(aws, "UnauthorizedAPICalls", UNAUTHORIZED_PATTERN, "eu-west-1")
    findings = aws.scan("cloudwatch", regions=("us-east-1",))
    assert status_of(findings, UNAUTHORIZED, ACCOUNT) == "PASS"
    # The alarm of the unscanned region is not evaluated on its own.
    assert findings_for(findings, ACTION) == []


# -- alarm actions --

def test_alarm_with_enabled_action_passes_action_check(aws):
    _alarm(aws, "cpu-high", "CPUUtilization", actions=[_topic(aws)])
    assert status_of(aws.scan("cloudwatch"), ACTION, "cpu-high") == "PASS"


def test_alarm_without_actions_fails_action_check(aws):
    _alarm(aws, "cpu-high", "CPUUtilization")
    assert status_of(aws.scan("cloudwatch"), ACTION, "cpu-high") == "FAIL"


def test_alarm_with_actions_disabled_fails_action_check(aws):
    _alarm(aws, "cpu-high", "CPUUtilization", actions=[_topic(aws)], enabled=False)
    assert status_of(aws.scan("cloudwatch"), ACTION, "cpu-high") == "FAIL"


def test_alarm_is_reported_in_its_region(aws):
    _alarm(aws, "eu-cpu-high", "CPUUtilization", "eu-west-1")
    findings = aws.scan("cloudwatch", regions=("us-east-1", "eu-west-1"))
    got = findings_for(findings, ACTION, "eu-cpu-high")
    assert [(f.region, f.resource_arn) for f in got] == [
        ("eu-west-1", f"arn:aws:cloudwatch:eu-west-1:{ACCOUNT}:alarm:eu-cpu-high")]


# -- errors --

def test_unreadable_metric_filters_report_error_never_pass(aws):
    _trail(aws)
    _chain(aws, "UnauthorizedAPICalls", UNAUTHORIZED_PATTERN)
    inject_throttling(aws, "DescribeMetricFilters", 1000)
    findings = aws.scan("cloudwatch")
    for check_id in CHAIN_CHECKS:
        assert status_of(findings, check_id, ACCOUNT) == "ERROR"
    assert "DescribeMetricFilters" in findings_for(findings, UNAUTHORIZED)[0].message
    assert status_of(findings, ACTION, "UnauthorizedAPICalls-alarm") == "PASS"


# -- demo estate --

def test_demo_estate_seeder_matches_cloudwatch_checks(emulator):
    assert estate_mismatches(emulator, "cloudwatch") == []
