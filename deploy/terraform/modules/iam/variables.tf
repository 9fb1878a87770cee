variable "name" {
  description = "Deployment name (e.g. cloudscreen-prod); prefixes role names and scopes log groups."
  type        = string
}

variable "bucket_arn" {
  description = "ARN of the reports bucket."
  type        = string
}

variable "reports_prefix" {
  description = "Key prefix the roles may write under (no leading or trailing slash)."
  type        = string
}

variable "kms_key_arn" {
  description = "ARN of the customer managed key of the bucket and the secrets."
  type        = string
}

variable "head_secret_arns" {
  description = "Secrets the head node (Ray head, front, cloudflared) reads at boot."
  type        = list(string)
}

variable "worker_secret_arns" {
  description = "Secrets a worker node reads at boot (the Ray auth token only)."
  type        = list(string)
}

variable "member_role_name" {
  description = "Name of the read-only audit role in every scanned account; the only role the scanner may assume."
  type        = string
}

variable "metrics_namespace" {
  description = "CloudWatch namespace the head node publishes front health metrics to."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
