# Generated secrets are written write-only (Terraform >= 1.11): their values never reach plan or state.
ephemeral "aws_secretsmanager_random_password" "ray_auth_token" {
  password_length     = 64
  exclude_punctuation = true
}

ephemeral "aws_secretsmanager_random_password" "session_secret" {
  password_length     = 64
  exclude_punctuation = true
}

resource "aws_secretsmanager_secret" "ray_auth_token" {
  #checkov:skip=CKV2_AWS_57:Rotated by bumping generated_secrets_version and rolling the nodes; every node must switch at once.
  name                    = "cloudscreen/${var.name}/ray-auth-token"
  description             = "Ray cluster auth token (RAY_AUTH_TOKEN) shared by every node and the front"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.recovery_window_days
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "ray_auth_token" {
  secret_id                = aws_secretsmanager_secret.ray_auth_token.id
  secret_string_wo         = ephemeral.aws_secretsmanager_random_password.ray_auth_token.random_password
  secret_string_wo_version = var.generated_secrets_version
}

resource "aws_secretsmanager_secret" "session_secret" {
  #checkov:skip=CKV2_AWS_57:Rotated by bumping generated_secrets_version and restarting the front; sessions last minutes.
  name                    = "cloudscreen/${var.name}/session-secret"
  description             = "Front session signing secret (CLOUDSCREEN_SESSION_SECRET)"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.recovery_window_days
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "session_secret" {
  secret_id                = aws_secretsmanager_secret.session_secret.id
  secret_string_wo         = ephemeral.aws_secretsmanager_random_password.session_secret.random_password
  secret_string_wo_version = var.generated_secrets_version
}

# Filled by an operator (aws secretsmanager put-secret-value) so the Zendesk token never touches Terraform.
resource "aws_secretsmanager_secret" "zendesk_api_token" {
  #checkov:skip=CKV2_AWS_57:The Zendesk API token is issued by Zendesk; AWS cannot rotate it, operators replace it.
  name                    = "cloudscreen/${var.name}/zendesk-api-token"
  description             = "Zendesk API token of the CloudScreen service user (CLOUDSCREEN_ZENDESK_API_TOKEN)"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.recovery_window_days
  tags                    = var.tags
}
