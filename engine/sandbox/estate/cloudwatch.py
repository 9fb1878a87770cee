"""Demo estate: CloudWatch (global). On the audit trail's log group, complete CIS alarm chains for
unauthorized API calls and root usage, a chain broken at its last link (a topic nobody subscribes to)
for console sign-in without MFA, and no filter at all for IAM policy changes; plus, in every region,
an alarm without actions."""

from __future__ import annotations

from engine.model import GLOBAL_REGION
from engine.sandbox.estate import FAIL, PASS, SeedContext, seeder
from engine.sandbox.estate.cloudtrail import ensure_audit_trail

NAMESPACE = "CISBenchmark"
# (check id, metric name, filter pattern, whether its alarm's topic has a subscriber)
CHAINS = (
    ("cloudwatch_alarm_unauthorized_api_calls_configured", "UnauthorizedAPICalls",
     '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }', True),
    ("cloudwatch_alarm_root_usage_configured", "RootAccountUsage",
     '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }',
     True),
    ("cloudwatch_alarm_console_login_without_mfa_configured", "ConsoleSigninWithoutMFA",
     '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }', False),
)


@seeder("cloudwatch", scope="global", order=41)
def seed_cloudwatch(ctx: SeedContext, region: str) -> None:
    """Alarm chains on the audit trail's log group, and an action-less alarm per region."""
    home, group = ensure_audit_trail(ctx)
    sns = ctx.client("sns", home)
    subscribed = sns.create_topic(Name=ctx.name("security-alarms"))["TopicArn"]
    sns.subscribe(TopicArn=subscribed, Protocol="email", Endpoint="security@example.com")
    silent = sns.create_topic(Name=ctx.name("unsubscribed-alarms"))["TopicArn"]

    logs, cw = ctx.client("logs", home), ctx.client("cloudwatch", home)
    g = GLOBAL_REGION
    for check_id, metric, pattern, heard in CHAINS:
        logs.put_metric_filter(logGroupName=group, filterName=metric, filterPattern=pattern,
                               metricTransformations=[{"metricName": metric, "metricNamespace": NAMESPACE,
                                                       "metricValue": "1"}])
        alarm = ctx.name(metric)
        cw.put_metric_alarm(AlarmName=alarm, MetricName=metric, Namespace=NAMESPACE, Statistic="Sum", Period=300,
                            EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold",
                            AlarmActions=[subscribed if heard else silent])
        ctx.expect(check_id, g, ctx.account_id, PASS if heard else FAIL)
        ctx.expect("cloudwatch_alarm_action_configured", home, alarm, PASS)
    # No metric filter for IAM policy changes.
    ctx.expect("cloudwatch_alarm_iam_policy_changes_configured", g, ctx.account_id, FAIL)

    for where in ctx.regions:
        alarm = ctx.name("no-action-alarm")
        ctx.client("cloudwatch", where).put_metric_alarm(
            AlarmName=alarm, MetricName="CPUUtilization", Namespace="AWS/EC2", Statistic="Average", Period=300,
            EvaluationPeriods=1, Threshold=90, ComparisonOperator="GreaterThanThreshold", ActionsEnabled=False)
        ctx.expect("cloudwatch_alarm_action_configured", where, alarm, FAIL)
