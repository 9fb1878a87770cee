variable "name" {
  description = "Deployment name (e.g. cloudscreen-prod); prefixes every resource name."
  type        = string
}

variable "bucket_name" {
  description = "Globally unique name of the S3 bucket that holds scan results and reports."
  type        = string
}

variable "reports_prefix" {
  description = "Key prefix inside the bucket under which CloudScreen writes (no leading or trailing slash)."
  type        = string
  default     = "cloudscreen"
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which overwritten or deleted report versions are removed."
  type        = number
  default     = 30
}

variable "report_expiration_days" {
  description = "Days after which current report objects expire (0 keeps them forever)."
  type        = number
  default     = 0
}

variable "kms_deletion_window_days" {
  description = "Waiting period before the customer managed key is deleted after destroy."
  type        = number
  default     = 30
}

variable "force_destroy" {
  description = "Allow terraform destroy to delete a non-empty bucket (dev only)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
