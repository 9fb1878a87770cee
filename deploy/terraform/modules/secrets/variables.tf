variable "name" {
  description = "Deployment name (e.g. cloudscreen-prod); prefixes every secret name."
  type        = string
}

variable "kms_key_arn" {
  description = "ARN of the customer managed key that encrypts the secrets."
  type        = string
}

variable "generated_secrets_version" {
  description = "Bump to generate a new Ray token and session secret (rotation); the values never enter the state."
  type        = number
  default     = 1
}

variable "recovery_window_days" {
  description = "Days a deleted secret can still be restored."
  type        = number
  default     = 7
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
