output "public_url" {
  description = "The front through the Cloudflare tunnel: the Zendesk app's backend URL."
  value       = module.cloudscreen.public_url
}

output "head_instance_id" {
  description = "Head node instance id (aws ssm start-session --target <id>)."
  value       = module.cloudscreen.head_instance_id
}

output "worker_asg_name" {
  description = "Worker autoscaling group name."
  value       = module.cloudscreen.worker_asg_name
}

output "reports_bucket" {
  description = "Reports bucket name."
  value       = module.cloudscreen.reports_bucket
}

output "store_url" {
  description = "CLOUDSCREEN_STORE of the deployment."
  value       = module.cloudscreen.store_url
}

output "scanner_role_arns" {
  description = "Roles that member audit roles must trust."
  value       = module.cloudscreen.scanner_role_arns
}

output "member_role_name" {
  description = "Audit role name to create in every scanned account."
  value       = module.cloudscreen.member_role_name
}

output "zendesk_api_token_secret_name" {
  description = "Secret to fill with the Zendesk API token (aws secretsmanager put-secret-value)."
  value       = module.cloudscreen.zendesk_api_token_secret_name
}

output "alarm_topic_arn" {
  description = "SNS topic of the alarms."
  value       = module.cloudscreen.alarm_topic_arn
}

output "nat_public_ips" {
  description = "Egress IPs of the deployment."
  value       = module.cloudscreen.nat_public_ips
}

output "prometheus_workspace_endpoint" {
  description = "Amazon Managed Prometheus endpoint (null when disabled)."
  value       = module.cloudscreen.prometheus_workspace_endpoint
}
