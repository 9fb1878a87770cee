"""CloudWatch checks: the CIS alarm chains (global, one finding per account) and alarm actions
(per alarm, in its region).

An alarm chain holds when a multi-region, logging trail that captures management events delivers to
a log group; that log group has a metric filter whose pattern (whitespace removed) contains every
term; a metric alarm in the log group's region watches the filter's metric; and one of the alarm's
SNS actions has a subscription.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from engine.checks import CheckContext, Result, check
from engine.collectors.cloudwatch import Alarm, CloudWatchData, is_sns_topic, log_group_location

_WHITESPACE = re.compile(r"\s+")

UNAUTHORIZED_API_CALLS_TERMS = ('$.errorCode="*UnauthorizedOperation"', '$.errorCode="AccessDenied*"')
CONSOLE_LOGIN_WITHOUT_MFA_TERMS = ('$.eventName="ConsoleLogin"', '$.additionalEventData.MFAUsed!="Yes"')
ROOT_USAGE_TERMS = ('$.userIdentity.type="Root"', "$.userIdentity.invokedByNOTEXISTS",
                    '$.eventType!="AwsServiceEvent"')
IAM_POLICY_CHANGE_EVENTS = (
    "DeleteGroupPolicy", "DeleteRolePolicy", "DeleteUserPolicy", "PutGroupPolicy", "PutRolePolicy",
    "PutUserPolicy", "CreatePolicy", "DeletePolicy", "CreatePolicyVersion", "DeletePolicyVersion",
    "AttachRolePolicy", "DetachRolePolicy", "AttachUserPolicy", "DetachUserPolicy", "AttachGroupPolicy",
    "DetachGroupPolicy",
)
IAM_POLICY_CHANGES_TERMS = tuple(f"$.eventName={event}" for event in IAM_POLICY_CHANGE_EVENTS)

# How far a chain got, to say in a FAIL what is missing (higher is further).
_GAPS = (
    "has no multi-region trail that is logging, captures management events and delivers to a CloudWatch Logs "
    "log group of the account",
    "has no metric filter matching {what} on the log group of its multi-region trail",
    "has no metric alarm on the metric of its {what} metric filter",
    "has no SNS topic action on the alarm for {what}",
    "has no subscription on the SNS topic of the alarm for {what}",
)


@dataclass
class _Progress:
    stage: int = 0
    detail: str = ""
    unknown: list[str] = field(default_factory=list)

    def reached(self, stage: int, detail: str) -> None:
        if stage >= self.stage:
            self.stage, self.detail = stage, detail


def _matches(pattern: str, terms: tuple[str, ...]) -> bool:
    compact = _WHITESPACE.sub("", pattern)
    return all(term in compact for term in terms)


def _alarm_chain(data: CloudWatchData, terms: tuple[str, ...], what: str) -> Result:
    """PASS when a whole chain exists for `terms`; ERROR when none is known but a link could not be
    read; FAIL naming the first missing link of the most complete chain otherwise."""
    acct = data.account_id
    progress = _Progress()
    for trail in data.trails:
        problem = next((f"trail {trail.id}: {err}" for err in trail.errors.values()), None)
        if problem:
            progress.unknown.append(problem)
            continue
        location = log_group_location(trail, acct)
        if not (trail.is_logging and trail.captures_management_events) or location is None:
            continue
        region, group = location
        progress.reached(1, f"log group {group}")
        if location in data.metric_filter_errors:
            progress.unknown.append(f"metric filters of {group}: {data.metric_filter_errors[location]}")
            continue
        for mfilter in data.metric_filters.get(location, []):
            if not _matches(mfilter.pattern, terms):
                continue
            progress.reached(2, f"metric filter {mfilter.name} on {group}")
            if region in data.alarm_errors:
                progress.unknown.append(f"alarms of {region}: {data.alarm_errors[region]}")
                continue
            for alarm in _watching(data.alarms_in(region), mfilter.metrics):
                progress.reached(3, f"alarm {alarm.id}")
                for topic in (a for a in alarm.alarm_actions if is_sns_topic(a)):
                    progress.reached(4, f"alarm {alarm.id}, topic {topic}")
                    if topic in data.topic_errors:
                        progress.unknown.append(f"subscriptions of {topic}: {data.topic_errors[topic]}")
                    elif data.topic_subscribed.get(topic):
                        return Result.passed(
                            f"Account {acct} alarms on {what}: trail {trail.id}, metric filter {mfilter.name} on "
                            f"{group}, alarm {alarm.id} notifying subscribed topic {topic}.")
    if progress.unknown:
        return Result.error(f"Account {acct}: no complete alarm chain for {what} is known; could not read "
                            f"{'; '.join(progress.unknown)}.")
    gap = _GAPS[progress.stage].format(what=what)
    return Result.failed(f"Account {acct} {gap}" + (f" ({progress.detail})." if progress.detail else "."))


def _watching(alarms: list[Alarm], metrics: list[tuple[str, str]]) -> list[Alarm]:
    return [a for a in alarms if any(m in metrics for m in a.metrics)]


def _chain_remediation(name: str, pattern: str) -> str:
    return ("In the CloudWatch console open the log group that your multi-region CloudTrail trail delivers to, "
            f"choose Metric filters > Create metric filter with the pattern {pattern}, then create an alarm "
            "on the new metric (Sum >= 1 over 5 minutes) that notifies an SNS topic with at least one "
            "confirmed subscriber. CLI: aws logs put-metric-filter --log-group-name <trail-log-group> "
            f"--filter-name {name} --metric-transformations metricName={name},metricNamespace=CISBenchmark,"
            f"metricValue=1 --filter-pattern '{pattern}' && aws cloudwatch put-metric-alarm --alarm-name "
            f"{name} --metric-name {name} --namespace CISBenchmark --statistic Sum --period 300 "
            "--threshold 1 --comparison-operator GreaterThanOrEqualToThreshold --evaluation-periods 1 "
            "--alarm-actions <sns-topic-arn> && aws sns subscribe --topic-arn <sns-topic-arn> "
            "--protocol email --notification-endpoint <address>")


@check(id="cloudwatch_alarm_unauthorized_api_calls_configured", service="cloudwatch",
       resource_type="AWS::::Account", scope="global", severity="low", pillar="security",
       frameworks={"cis-aws-3.0": ["4.1"], "aws-securityhub": ["CloudWatch.2"]},
       title="A log metric filter and alarm exist for unauthorized API calls",
       risk="Without an alarm on unauthorized API calls, probing of the account or a misused credential can go "
            "unnoticed.",
       remediation=_chain_remediation(
           "UnauthorizedAPICalls",
           '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }'))
def cloudwatch_alarm_unauthorized_api_calls_configured(data: CloudWatchData, ctx: CheckContext) -> Result:
    return _alarm_chain(data, UNAUTHORIZED_API_CALLS_TERMS, "unauthorized API calls")


@check(id="cloudwatch_alarm_console_login_without_mfa_configured", service="cloudwatch",
       resource_type="AWS::::Account", scope="global", severity="low", pillar="security",
       frameworks={"cis-aws-3.0": ["4.2"], "aws-securityhub": ["CloudWatch.3"]},
       title="A log metric filter and alarm exist for console sign-in without MFA",
       risk="Without an alarm on console sign-ins without MFA, use of a password-only (possibly stolen) "
            "credential goes unnoticed.",
       remediation=_chain_remediation(
           "ConsoleSigninWithoutMFA",
           '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }'))
def cloudwatch_alarm_console_login_without_mfa_configured(data: CloudWatchData, ctx: CheckContext) -> Result:
    return _alarm_chain(data, CONSOLE_LOGIN_WITHOUT_MFA_TERMS, "console sign-in without MFA")


@check(id="cloudwatch_alarm_root_usage_configured", service="cloudwatch",
       resource_type="AWS::::Account", scope="global", severity="medium", pillar="security",
       frameworks={"cis-aws-3.0": ["4.3"], "aws-securityhub": ["CloudWatch.1"]},
       title="A log metric filter and alarm exist for use of the root user",
       risk="Without an alarm on root user activity, use of the account's most privileged identity goes "
            "unnoticed.",
       remediation=_chain_remediation(
           "RootAccountUsage",
           '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS '
           '&& $.eventType != "AwsServiceEvent" }'))
def cloudwatch_alarm_root_usage_configured(data: CloudWatchData, ctx: CheckContext) -> Result:
    return _alarm_chain(data, ROOT_USAGE_TERMS, "root user usage")


@check(id="cloudwatch_alarm_iam_policy_changes_configured", service="cloudwatch",
       resource_type="AWS::::Account", scope="global", severity="low", pillar="security",
       frameworks={"cis-aws-3.0": ["4.4"], "aws-securityhub": ["CloudWatch.4"]},
       title="A log metric filter and alarm exist for IAM policy changes",
       risk="Without an alarm on IAM policy changes, privilege escalation or weakened permissions go unnoticed.",
       remediation=_chain_remediation(
           "IAMPolicyChanges",
           "{" + "||".join(f"($.eventName={event})" for event in IAM_POLICY_CHANGE_EVENTS) + "}"))
def cloudwatch_alarm_iam_policy_changes_configured(data: CloudWatchData, ctx: CheckContext) -> Result:
    return _alarm_chain(data, IAM_POLICY_CHANGES_TERMS, "IAM policy changes")


@check(id="cloudwatch_alarm_action_configured", service="cloudwatch", resource_type="AWS::CloudWatch::Alarm",
       scope="regional", severity="low", pillar="operational_excellence",
       frameworks={"aws-securityhub": ["CloudWatch.15"]},
       title="CloudWatch alarm has an enabled alarm action",
       risk="An alarm without an enabled action changes state silently: nobody is notified and nothing reacts.",
       remediation="In the CloudWatch console open the alarm, Actions > Edit, add a notification (SNS topic) or "
                   "another action for the ALARM state, and make sure actions are enabled. CLI: aws cloudwatch "
                   "enable-alarm-actions --alarm-names <alarm>, and set --alarm-actions <sns-topic-arn> with "
                   "aws cloudwatch put-metric-alarm",
       over="alarms")
def cloudwatch_alarm_action_configured(alarm: Alarm, ctx: CheckContext) -> Result:
    if not alarm.alarm_actions:
        return Result.failed(f"Alarm {alarm.id} has no alarm actions.")
    if not alarm.actions_enabled:
        return Result.failed(f"Alarm {alarm.id} has alarm actions, but its actions are disabled.")
    return Result.passed(f"Alarm {alarm.id} has {len(alarm.alarm_actions)} enabled alarm action(s).")
