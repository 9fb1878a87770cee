output "role_arn" {
  description = "ARN of the audit role in this account (null when create_role is false)."
  value       = var.create_role ? aws_iam_role.audit[0].arn : null
}

output "role_name" {
  description = "Name of the audit role (CLOUDSCREEN_ROLE_NAME)."
  value       = var.role_name
}

output "stack_set_name" {
  description = "Name of the Organization stack set (null when not created)."
  value       = length(var.stack_set_organizational_unit_ids) > 0 ? aws_cloudformation_stack_set.member_role[0].name : null
}
