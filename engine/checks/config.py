"""AWS Config checks: a recorder records every supported resource type (one finding per region)."""

from __future__ import annotations

from engine.checks import CheckContext, Result, check
from engine.collectors.config import ConfigData, Recorder


def _recorder_problem(recorder: Recorder) -> str | None:
    if not recorder.recording:
        return "is not recording"
    if recorder.last_status == "FAILURE":
        return "last failed to deliver (lastStatus FAILURE)"
    if not recorder.all_supported:
        return "does not record all supported resource types"
    return None


@check(id="config_recorder_enabled", service="config", resource_type="AWS::::Account", scope="regional",
       severity="medium", pillar="security", frameworks={"cis-aws-3.0": ["3.3"], "aws-fsbp": ["Config.1"]},
       title="AWS Config records all supported resources",
       risk="Without a recording configuration recorder, resource configuration changes are not tracked, so "
            "drift and incidents cannot be reconstructed and Config rules do not run.",
       remediation="In the AWS Config console of the region choose Settings (or Get started), record all "
                   "resource types supported in the region, choose a delivery bucket and turn recording on. "
                   "CLI: aws configservice put-configuration-recorder --configuration-recorder "
                   "name=default,roleARN=<role-arn> --recording-group allSupported=true,"
                   "includeGlobalResourceTypes=true && aws configservice put-delivery-channel "
                   "--delivery-channel name=default,s3BucketName=<bucket> && aws configservice "
                   "start-configuration-recorder --configuration-recorder-name default",
       needs=("recorder_status",))
def config_recorder_enabled(data: ConfigData, ctx: CheckContext) -> Result:
    where = f"Account {data.account_id} in {data.region}"
    if not data.recorders:
        return Result.failed(f"{where} has no AWS Config configuration recorder.")
    problems = []
    for recorder in data.recorders:
        problem = _recorder_problem(recorder)
        if problem is None:
            return Result.passed(f"{where}: configuration recorder {recorder.name} records all supported "
                                 f"resource types.")
        problems.append(f"recorder {recorder.name} {problem}")
    return Result.failed(f"{where}: {'; '.join(problems)}.")
