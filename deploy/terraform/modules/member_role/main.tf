data "aws_partition" "current" {}

locals {
  # Read-only: SecurityAudit reads security configuration, ViewOnlyAccess lists and describes resources.
  managed_policy_arns = [
    "arn:${data.aws_partition.current.partition}:iam::aws:policy/SecurityAudit",
    "arn:${data.aws_partition.current.partition}:iam::aws:policy/job-function/ViewOnlyAccess",
  ]
}

data "aws_iam_policy_document" "trust" {
  statement {
    sid     = "CloudScreenScannerWithExternalId"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "AWS"
      identifiers = var.scanner_role_arns
    }
    condition {
      test     = "StringEquals"
      variable = "sts:ExternalId"
      values   = [var.external_id]
    }
  }
}

resource "aws_iam_role" "audit" {
  count                = var.create_role ? 1 : 0
  name                 = var.role_name
  description          = "Read-only audit role assumed by CloudScreen"
  assume_role_policy   = data.aws_iam_policy_document.trust.json
  max_session_duration = var.max_session_duration
  tags                 = var.tags
}

resource "aws_iam_role_policy_attachment" "audit" {
  for_each   = var.create_role ? toset(local.managed_policy_arns) : toset([])
  role       = aws_iam_role.audit[0].name
  policy_arn = each.value
}

# The same role for every account of an Organization: run from the management (or delegated admin) account.
resource "aws_cloudformation_stack_set" "member_role" {
  count            = length(var.stack_set_organizational_unit_ids) > 0 ? 1 : 0
  name             = var.stack_set_name
  description      = "CloudScreen read-only audit role in every member account"
  permission_model = "SERVICE_MANAGED"
  capabilities     = ["CAPABILITY_NAMED_IAM"]
  template_body    = file("${path.module}/templates/member-role.cfn.yaml")
  tags             = var.tags

  parameters = {
    RoleName           = var.role_name
    ScannerRoleArns    = join(",", var.scanner_role_arns)
    ExternalId         = var.external_id
    MaxSessionDuration = tostring(var.max_session_duration)
  }

  auto_deployment {
    enabled                          = true
    retain_stacks_on_account_removal = false
  }

  operation_preferences {
    failure_tolerance_percentage = 10
    max_concurrent_percentage    = 25
  }

  lifecycle {
    ignore_changes = [administration_role_arn] # set by AWS for service-managed stack sets
  }
}

# IAM is global: one stack per account, in this provider's region.
resource "aws_cloudformation_stack_set_instance" "member_role" {
  count          = length(var.stack_set_organizational_unit_ids) > 0 ? 1 : 0
  stack_set_name = aws_cloudformation_stack_set.member_role[0].name

  deployment_targets {
    organizational_unit_ids = var.stack_set_organizational_unit_ids
  }
}
