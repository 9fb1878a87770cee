output "role_arn" {
  description = "ARN of the audit role created in this account."
  value       = module.member_role.role_arn
}
