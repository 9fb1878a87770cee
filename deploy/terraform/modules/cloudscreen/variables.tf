# Every input of a CloudScreen deployment, validated once for all environments. Variables without a default are
# what each root must decide (the environment's sizing among them); `nullable = false` on the others lets a root pass
# null for "not set", which gives the default below.

variable "name" {
  description = "Deployment name; prefixes every resource (lowercase letters, digits, dashes)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}[a-z0-9]$", var.name))
    error_message = "name must be 4-32 lowercase letters, digits or dashes, starting with a letter."
  }
}

# aws_region and aws_account_id configure the aws provider in the calling root (region, allowed_account_ids); no
# resource here reads them, they are declared so that dev and prod share one validation of both.
variable "aws_region" {
  description = "AWS region of the deployment (the region of the root's aws provider)."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.aws_region))
    error_message = "aws_region must look like eu-west-1."
  }
}

variable "aws_account_id" {
  description = "AWS account the deployment lives in (the root's aws provider refuses any other)."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.aws_account_id))
    error_message = "aws_account_id must be 12 digits."
  }
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC."
  type        = string

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && tonumber(split("/", var.vpc_cidr)[1]) <= 24
    error_message = "vpc_cidr must be a valid IPv4 CIDR block of /24 or larger."
  }
}

variable "availability_zones" {
  description = "Availability zones for the subnets (at least two)."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) >= 2
    error_message = "Give at least two availability zones."
  }
}

variable "private_subnet_cidrs" {
  description = "Private subnet CIDRs, one per availability zone (all nodes)."
  type        = list(string)

  validation {
    condition     = alltrue([for cidr in var.private_subnet_cidrs : can(cidrhost(cidr, 0))])
    error_message = "Every private subnet CIDR must be a valid IPv4 CIDR block."
  }

  validation {
    condition     = length(var.private_subnet_cidrs) == length(var.availability_zones)
    error_message = "Give one private subnet CIDR per availability zone."
  }
}

variable "public_subnet_cidrs" {
  description = "Public subnet CIDRs, one per availability zone (NAT gateways only)."
  type        = list(string)

  validation {
    condition     = alltrue([for cidr in var.public_subnet_cidrs : can(cidrhost(cidr, 0))])
    error_message = "Every public subnet CIDR must be a valid IPv4 CIDR block."
  }

  validation {
    condition     = length(var.public_subnet_cidrs) == length(var.availability_zones)
    error_message = "Give one public subnet CIDR per availability zone."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all zones (cheaper) instead of one per zone; each environment chooses."
  type        = bool
}

variable "architecture" {
  description = "CPU architecture of every node: x86_64 or arm64 (instance types must match)."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "architecture must be x86_64 or arm64."
  }
}

variable "head_instance_type" {
  description = "Instance type of the head node (Ray head + front + cloudflared); at least 'large' (8 GiB)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.([0-9]*xlarge|large|metal)$", var.head_instance_type))
    error_message = "head_instance_type must be an instance type of size large or bigger (e.g. m7i.large)."
  }
}

variable "worker_instance_type" {
  description = "Instance type of the Ray worker nodes; at least 'large'."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.([0-9]*xlarge|large|metal)$", var.worker_instance_type))
    error_message = "worker_instance_type must be an instance type of size large or bigger (e.g. c7i.large)."
  }
}

variable "worker_min_size" {
  description = "Minimum number of Ray worker nodes."
  type        = number

  validation {
    condition     = var.worker_min_size >= 0 && floor(var.worker_min_size) == var.worker_min_size
    error_message = "worker_min_size must be a whole number >= 0."
  }
}

variable "worker_max_size" {
  description = "Maximum number of Ray worker nodes."
  type        = number

  validation {
    condition     = var.worker_max_size >= 1 && var.worker_max_size <= 100 && var.worker_max_size >= var.worker_min_size
    error_message = "worker_max_size must be between max(1, worker_min_size) and 100."
  }
}

variable "worker_desired_capacity" {
  description = "Ray worker nodes to run now."
  type        = number

  validation {
    condition     = var.worker_desired_capacity >= var.worker_min_size && var.worker_desired_capacity <= var.worker_max_size
    error_message = "worker_desired_capacity must lie between worker_min_size and worker_max_size."
  }
}

variable "root_volume_size_gb" {
  description = "Size of every node's encrypted root volume, in GiB."
  type        = number

  validation {
    condition     = var.root_volume_size_gb >= 20 && var.root_volume_size_gb <= 500
    error_message = "root_volume_size_gb must be between 20 and 500."
  }
}

variable "log_retention_days" {
  description = "Retention of every CloudWatch log group, in days."
  type        = number

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of CloudWatch's values: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "reports_bucket_name" {
  description = "Globally unique name of the reports bucket."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.reports_bucket_name))
    error_message = "reports_bucket_name must be a valid S3 bucket name."
  }
}

variable "reports_prefix" {
  description = "Key prefix CloudScreen writes under in the bucket."
  type        = string
  default     = "cloudscreen"

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9_.-]+)*$", var.reports_prefix))
    error_message = "reports_prefix must be a key prefix without leading or trailing slash."
  }
}

variable "force_destroy_bucket" {
  description = "Let terraform destroy delete a non-empty reports bucket."
  type        = bool
  default     = false
  nullable    = false
}

variable "member_role_name" {
  description = "Name of the read-only audit role in every scanned account."
  type        = string
  default     = "CloudScreenAudit"
  nullable    = false
  # No validation here: main.tf always passes it to modules/member_role, whose role_name validates it.
}

variable "external_id" {
  description = "sts:ExternalId every member role requires (not a password, but keep it unguessable)."
  type        = string

  validation {
    condition     = length(var.external_id) >= 16 && length(var.external_id) <= 1224
    error_message = "external_id must be 16 to 1224 characters long."
  }

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@:/_-]+$", var.external_id))
    error_message = "external_id may only contain A-Z a-z 0-9 and +=,.@:/_-."
  }
}

variable "member_account_ou_ids" {
  description = "Organization units (or root id) that get the audit role through a stack set; empty to deploy roles per account."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for id in var.member_account_ou_ids : can(regex("^(ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}|r-[a-z0-9]{4,32})$", id))])
    error_message = "member_account_ou_ids must hold organization unit ids (ou-...) or a root id (r-...)."
  }
}

variable "default_regions" {
  description = "Regions scanned when a request names none."
  type        = list(string)
  default     = ["us-east-1"]
  nullable    = false
}

variable "cloudflare_account_id" {
  description = "Cloudflare account id that owns the tunnel."
  type        = string

  validation {
    condition     = can(regex("^[0-9a-f]{32}$", var.cloudflare_account_id))
    error_message = "cloudflare_account_id must be 32 hexadecimal characters."
  }
}

variable "cloudflare_zone_id" {
  description = "Cloudflare zone id of the tunnel hostname."
  type        = string

  validation {
    condition     = can(regex("^[0-9a-f]{32}$", var.cloudflare_zone_id))
    error_message = "cloudflare_zone_id must be 32 hexadecimal characters."
  }
}

variable "tunnel_hostname" {
  description = "Public hostname of the front through the tunnel (e.g. cloudscreen-dev.example.com)."
  type        = string

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]*[a-z0-9])?\\.)+[a-z]{2,}$", var.tunnel_hostname))
    error_message = "tunnel_hostname must be a DNS name such as cloudscreen.example.com."
  }
}

variable "zendesk_subdomain" {
  description = "Zendesk subdomain (<subdomain>.zendesk.com)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]*$", var.zendesk_subdomain))
    error_message = "zendesk_subdomain must be the bare subdomain, e.g. acme."
  }
}

variable "zendesk_email" {
  description = "Zendesk user that owns the API token (the token itself goes into Secrets Manager, never here)."
  type        = string

  validation {
    condition     = can(regex("^[^@\\s]+@[^@\\s]+$", var.zendesk_email))
    error_message = "zendesk_email must be an e-mail address."
  }
}

variable "zendesk_app_id" {
  description = "Zendesk app id of the CloudScreen sidebar app."
  type        = string
  default     = ""
  nullable    = false
}

variable "zendesk_installation_id" {
  description = "Zendesk installation id of the sidebar app (optional)."
  type        = string
  default     = ""
  nullable    = false
}

variable "cloudscreen_pip_spec" {
  description = "pip requirement that installs CloudScreen on every node (a version pin or a wheel URL)."
  type        = string
  default     = "cloudscreen==0.1.0"
  nullable    = false
}

variable "cloudflared_version" {
  description = "cloudflared release installed on the head node."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{4}\\.[0-9]+\\.[0-9]+$", var.cloudflared_version))
    error_message = "cloudflared_version must look like 2025.8.1."
  }
}

variable "cloudflared_sha256" {
  description = "SHA-256 of the cloudflared binary for that version and architecture (from the release page)."
  type        = string

  validation {
    condition     = can(regex("^[0-9a-f]{64}$", var.cloudflared_sha256))
    error_message = "cloudflared_sha256 must be 64 lowercase hexadecimal characters."
  }
}

variable "alarm_emails" {
  description = "E-mail addresses notified by the alarms."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "enable_prometheus" {
  description = "Create an Amazon Managed Service for Prometheus workspace."
  type        = bool
}

variable "generated_secrets_version" {
  description = "Bump to rotate the Ray token and the session secret (then roll the nodes)."
  type        = number
  default     = 1
  nullable    = false

  validation {
    condition     = var.generated_secrets_version >= 1 && floor(var.generated_secrets_version) == var.generated_secrets_version
    error_message = "generated_secrets_version must be a whole number >= 1."
  }
}

variable "head_termination_protection" {
  description = "Protect the head node from termination; set false and apply before terraform destroy."
  type        = bool
  default     = true
  nullable    = false
}

variable "tags" {
  description = "Tags on every resource (the root adds Project, Environment and ManagedBy)."
  type        = map(string)
  default     = {}
  nullable    = false
}
