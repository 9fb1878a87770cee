output "log_group_names" {
  description = "Log group names keyed by front, audit, ray_head, ray_worker, cloudflared."
  value       = { for key, group in aws_cloudwatch_log_group.this : key => group.name }
}

output "alarm_topic_arn" {
  description = "SNS topic every alarm notifies."
  value       = aws_sns_topic.alarms.arn
}

output "prometheus_workspace_endpoint" {
  description = "Remote-write/query endpoint of the Prometheus workspace (null when disabled)."
  value       = var.enable_prometheus ? aws_prometheus_workspace.this[0].prometheus_endpoint : null
}
