output "ray_auth_token_arn" {
  description = "ARN of the Ray auth token secret."
  value       = aws_secretsmanager_secret.ray_auth_token.arn
}

output "session_secret_arn" {
  description = "ARN of the front's session secret."
  value       = aws_secretsmanager_secret.session_secret.arn
}

output "zendesk_api_token_arn" {
  description = "ARN of the Zendesk API token secret (value set by an operator)."
  value       = aws_secretsmanager_secret.zendesk_api_token.arn
}

output "zendesk_api_token_name" {
  description = "Name of the Zendesk API token secret, for put-secret-value."
  value       = aws_secretsmanager_secret.zendesk_api_token.name
}
