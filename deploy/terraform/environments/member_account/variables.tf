# aws_region and aws_account_id configure this root's provider and are validated here; the others go to
# modules/member_role, which validates them.

variable "aws_region" {
  description = "Any enabled region of the scanned account (IAM is global)."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.aws_region))
    error_message = "aws_region must look like eu-west-1."
  }
}

variable "aws_account_id" {
  description = "The scanned account that receives the audit role."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.aws_account_id))
    error_message = "aws_account_id must be 12 digits."
  }
}

variable "member_role_name" {
  description = "Name of the audit role (the deployment's member_role_name)."
  type        = string
  default     = "CloudScreenAudit"
}

variable "scanner_role_arns" {
  description = "The deployment's scanner_role_arns output (head and worker roles)."
  type        = list(string)
}

variable "external_id" {
  description = "The deployment's external_id."
  type        = string
}
