# What this deployment takes from terraform.tfvars. Each value goes to modules/cloudscreen under the same name, and the
# module validates it there (for both environments); null means the module's default.

variable "name" {
  description = "Deployment name; prefixes every resource."
  type        = string
}

variable "aws_region" {
  description = "AWS region of the deployment (aws provider)."
  type        = string
}

variable "aws_account_id" {
  description = "AWS account of the deployment; the aws provider refuses any other."
  type        = string
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC."
  type        = string
}

variable "availability_zones" {
  description = "Availability zones of the subnets (two or more)."
  type        = list(string)
}

variable "private_subnet_cidrs" {
  description = "Private subnet CIDRs, one per availability zone."
  type        = list(string)
}

variable "public_subnet_cidrs" {
  description = "Public subnet CIDRs (NAT gateways only), one per availability zone."
  type        = list(string)
}

variable "reports_bucket_name" {
  description = "Globally unique name of the reports bucket."
  type        = string
}

variable "force_destroy_bucket" {
  description = "Let terraform destroy delete a non-empty reports bucket (dev: yes)."
  type        = bool
  default     = true
}

variable "external_id" {
  description = "sts:ExternalId every member role requires."
  type        = string
}

variable "member_role_name" {
  description = "Audit role name in every scanned account."
  type        = string
  default     = null
}

variable "member_account_ou_ids" {
  description = "Organization units (or root id) that get the audit role through a stack set."
  type        = list(string)
  default     = null
}

variable "default_regions" {
  description = "Regions scanned when a request names none."
  type        = list(string)
  default     = null
}

variable "cloudflare_account_id" {
  description = "Cloudflare account id that owns the tunnel."
  type        = string
}

variable "cloudflare_zone_id" {
  description = "Cloudflare zone id of the tunnel hostname."
  type        = string
}

variable "tunnel_hostname" {
  description = "Public hostname of the front through the tunnel."
  type        = string
}

variable "zendesk_subdomain" {
  description = "Zendesk subdomain (<subdomain>.zendesk.com)."
  type        = string
}

variable "zendesk_email" {
  description = "Zendesk user that owns the API token (the token goes into Secrets Manager)."
  type        = string
}

variable "zendesk_app_id" {
  description = "Zendesk app id of the sidebar app."
  type        = string
  default     = null
}

variable "zendesk_installation_id" {
  description = "Zendesk installation id of the sidebar app."
  type        = string
  default     = null
}

variable "cloudscreen_pip_spec" {
  description = "pip requirement that installs CloudScreen on the nodes."
  type        = string
  default     = null
}

variable "cloudflared_version" {
  description = "cloudflared release of the head node."
  type        = string
}

variable "cloudflared_sha256" {
  description = "SHA-256 of that cloudflared binary."
  type        = string
}

variable "alarm_emails" {
  description = "E-mail addresses notified by the alarms."
  type        = list(string)
  default     = null
}

variable "generated_secrets_version" {
  description = "Bump to rotate the Ray token and the session secret."
  type        = number
  default     = null
}

variable "head_termination_protection" {
  description = "Protect the head node from termination (-var head_termination_protection=false before destroy)."
  type        = bool
  default     = null
}

variable "tags" {
  description = "Extra tags on every resource."
  type        = map(string)
  default     = {}
}
