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

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.member_role_name))
    error_message = "member_role_name must be a valid IAM role name (1-64 characters)."
  }
}

variable "scanner_role_arns" {
  description = "The deployment's scanner_role_arns output (head and worker roles)."
  type        = list(string)

  validation {
    condition     = length(var.scanner_role_arns) > 0 && alltrue([for arn in var.scanner_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", arn))])
    error_message = "scanner_role_arns must be IAM role ARNs."
  }
}

variable "external_id" {
  description = "The deployment's external_id."
  type        = string

  validation {
    condition     = length(var.external_id) >= 16 && length(var.external_id) <= 1224
    error_message = "external_id must be 16 to 1224 characters long."
  }
}
