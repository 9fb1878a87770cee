locals {
  # Only the front is published; the Ray dashboard (8265) stays on 127.0.0.1 of the head node.
  front_origin = "http://localhost:8080"
}

# Remotely managed tunnel: its routes live in Cloudflare (config resource below), cloudflared only needs the token.
resource "cloudflare_zero_trust_tunnel_cloudflared" "this" {
  account_id = var.cloudflare_account_id
  name       = var.name
  config_src = "cloudflare"
}

resource "cloudflare_zero_trust_tunnel_cloudflared_config" "this" {
  account_id = var.cloudflare_account_id
  tunnel_id  = cloudflare_zero_trust_tunnel_cloudflared.this.id

  config = {
    ingress = [
      {
        hostname = var.hostname
        service  = local.front_origin
      },
      {
        # Anything that does not match the hostname is refused at the edge.
        service = "http_status:404"
      },
    ]
  }
}

resource "cloudflare_dns_record" "front" {
  zone_id = var.cloudflare_zone_id
  name    = var.hostname
  type    = "CNAME"
  content = "${cloudflare_zero_trust_tunnel_cloudflared.this.id}.cfargotunnel.com"
  proxied = true
  ttl     = 1 # automatic, required for proxied records
  comment = "CloudScreen front through Cloudflare Tunnel ${var.name}"
}

data "cloudflare_zero_trust_tunnel_cloudflared_token" "this" {
  account_id = var.cloudflare_account_id
  tunnel_id  = cloudflare_zero_trust_tunnel_cloudflared.this.id
}

resource "aws_secretsmanager_secret" "tunnel_token" {
  #checkov:skip=CKV2_AWS_57:The token is issued by Cloudflare; rotate by replacing the tunnel (terraform apply -replace).
  name                    = "cloudscreen/${var.name}/tunnel-token"
  description             = "cloudflared tunnel token (TUNNEL_TOKEN) for the front node"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.recovery_window_days
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "tunnel_token" {
  secret_id     = aws_secretsmanager_secret.tunnel_token.id
  secret_string = data.cloudflare_zero_trust_tunnel_cloudflared_token.this.token
}
