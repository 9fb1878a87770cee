variable "name" {
  description = "Deployment name (e.g. cloudscreen-prod); prefixes every resource name."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets (from the network module) for the head and the workers; the head takes the first."
  type        = list(string)
}

variable "cluster_security_group_id" {
  description = "The one cluster security group (from the network module); its only ingress is itself."
  type        = string
}

variable "head_instance_profile_name" {
  description = "Instance profile of the head node (from the iam module)."
  type        = string
}

variable "worker_instance_profile_name" {
  description = "Instance profile of the worker nodes (from the iam module)."
  type        = string
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

variable "ami_id" {
  description = "AMI of every node; empty takes the latest Amazon Linux 2023 AMI at plan time."
  type        = string
  default     = ""
}

variable "head_instance_type" {
  description = "Instance type of the head node (Ray head, front, cloudflared)."
  type        = string
}

variable "worker_instance_type" {
  description = "Instance type of the Ray worker nodes."
  type        = string
}

variable "worker_min_size" {
  description = "Minimum number of Ray worker nodes."
  type        = number
}

variable "worker_max_size" {
  description = "Maximum number of Ray worker nodes."
  type        = number
}

variable "worker_desired_capacity" {
  description = "Number of Ray worker nodes to run now (between min and max)."
  type        = number
}

variable "root_volume_size_gb" {
  description = "Size of every node's encrypted root volume, in GiB."
  type        = number
  default     = 30
}

variable "store_url" {
  description = "CLOUDSCREEN_STORE: s3://<bucket>/<prefix> of the results."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer managed key the front and units encrypt stored objects with (SSE-KMS)."
  type        = string
}

variable "ray_auth_token_secret_arn" {
  description = "Secrets Manager ARN of the Ray auth token, read at boot by every node."
  type        = string
}

variable "session_secret_arn" {
  description = "Secrets Manager ARN of the front's session secret."
  type        = string
}

variable "zendesk_api_token_secret_arn" {
  description = "Secrets Manager ARN of the Zendesk API token (optional at boot: the front starts without it)."
  type        = string
}

variable "tunnel_token_secret_arn" {
  description = "Secrets Manager ARN of the cloudflared tunnel token."
  type        = string
}

variable "member_role_name" {
  description = "CLOUDSCREEN_ROLE_NAME: the audit role assumed in every scanned account."
  type        = string
}

variable "external_id" {
  description = "CLOUDSCREEN_EXTERNAL_ID: the sts:ExternalId every member role requires."
  type        = string
}

variable "default_regions" {
  description = "CLOUDSCREEN_DEFAULT_REGIONS: regions scanned when a request names none."
  type        = list(string)
}

variable "zendesk_subdomain" {
  description = "CLOUDSCREEN_ZENDESK_SUBDOMAIN: the Zendesk account (<subdomain>.zendesk.com)."
  type        = string
}

variable "zendesk_email" {
  description = "CLOUDSCREEN_ZENDESK_EMAIL: the Zendesk user the API token belongs to."
  type        = string
}

variable "zendesk_app_id" {
  description = "CLOUDSCREEN_ZENDESK_APP_ID: the sidebar app's id (for its public key and audience)."
  type        = string
  default     = ""
}

variable "zendesk_installation_id" {
  description = "CLOUDSCREEN_ZENDESK_INSTALLATION_ID: the app installation id (optional)."
  type        = string
  default     = ""
}

variable "public_url" {
  description = "CLOUDSCREEN_PUBLIC_URL: the front's URL through the tunnel."
  type        = string
}

variable "log_group_names" {
  description = "CloudWatch log group names (from the monitoring module) keyed by front, audit, ray_head, ray_worker, cloudflared."
  type        = map(string)
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the front health metrics (FrontUp, Front5xx)."
  type        = string
}

variable "cloudscreen_pip_spec" {
  description = "pip requirement that installs CloudScreen on every node (a version pin or a wheel URL)."
  type        = string
}

variable "cloudflared_version" {
  description = "cloudflared release installed on the head node."
  type        = string
}

variable "cloudflared_sha256" {
  description = "SHA-256 of the cloudflared binary for the chosen version and architecture."
  type        = string
}

variable "front_memory_max" {
  description = "systemd MemoryMax of the front service."
  type        = string
  default     = "2G"
}

variable "ray_memory_max" {
  description = "systemd MemoryMax of the Ray service on each node (percent of RAM or bytes)."
  type        = string
  default     = "80%"
}

variable "head_termination_protection" {
  description = "Protect the head node from termination (set false, apply, then destroy to tear down)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
