variable "name" {
  description = "Deployment name (e.g. cloudscreen-prod); names the tunnel and the secret."
  type        = string
}

variable "cloudflare_account_id" {
  description = "Cloudflare account that owns the tunnel."
  type        = string
}

variable "cloudflare_zone_id" {
  description = "Cloudflare zone of the public hostname."
  type        = string
}

variable "hostname" {
  description = "Public hostname the Zendesk sidebar calls (e.g. cloudscreen.example.com)."
  type        = string
}

variable "kms_key_arn" {
  description = "ARN of the customer managed key that encrypts the tunnel token secret."
  type        = string
}

variable "recovery_window_days" {
  description = "Days a deleted secret can still be restored."
  type        = number
  default     = 7
}

variable "tags" {
  description = "Tags added to every AWS resource."
  type        = map(string)
  default     = {}
}
