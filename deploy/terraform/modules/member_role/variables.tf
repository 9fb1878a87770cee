variable "role_name" {
  description = "Name of the read-only audit role (the same in every scanned account)."
  type        = string
  default     = "CloudScreenAudit"

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.role_name))
    error_message = "role_name (member_role_name) must be a valid IAM role name (1-64 characters)."
  }
}

variable "scanner_role_arns" {
  description = "Roles of the CloudScreen deployment allowed to assume this role (head and worker roles)."
  type        = list(string)

  validation {
    condition     = length(var.scanner_role_arns) > 0 && alltrue([for arn in var.scanner_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", arn))])
    error_message = "scanner_role_arns must be IAM role ARNs."
  }
}

variable "external_id" {
  description = "sts:ExternalId the scanner must present (protects against the confused deputy)."
  type        = string

  validation {
    condition     = length(var.external_id) >= 16 && length(var.external_id) <= 1224 && can(regex("^[A-Za-z0-9+=,.@:/_-]+$", var.external_id))
    error_message = "external_id must be 16 to 1224 characters of A-Z a-z 0-9 +=,.@:/_-."
  }
}

variable "max_session_duration" {
  description = "Longest session, in seconds, the scanner may request (it refreshes before expiry)."
  type        = number
  default     = 3600
}

variable "create_role" {
  description = "Create the role in the account of the aws provider given to this module."
  type        = bool
  default     = true
}

variable "stack_set_organizational_unit_ids" {
  description = "Organization units (or the root id) whose accounts get the role through a service-managed stack set; empty for none."
  type        = list(string)
  default     = []
}

variable "stack_set_name" {
  description = "Name of the stack set that deploys the role across the Organization."
  type        = string
  default     = "cloudscreen-member-role"
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
