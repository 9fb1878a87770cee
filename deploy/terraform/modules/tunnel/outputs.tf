output "tunnel_id" {
  description = "ID of the Cloudflare tunnel."
  value       = cloudflare_zero_trust_tunnel_cloudflared.this.id
}

output "tunnel_token_secret_arn" {
  description = "ARN of the Secrets Manager secret holding the tunnel token."
  value       = aws_secretsmanager_secret.tunnel_token.arn
}

output "public_url" {
  description = "HTTPS URL of the front through the tunnel (the Zendesk app's backend URL)."
  value       = "https://${var.hostname}"
}
