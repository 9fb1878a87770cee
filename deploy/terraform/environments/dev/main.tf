# dev: the deployment is modules/cloudscreen (wiring and validation, the same for every environment);
# this root configures the providers (versions.tf) and passes what makes it dev.
locals {
  tags = merge(var.tags, { Project = "cloudscreen", Environment = "dev", ManagedBy = "terraform" })
}

module "cloudscreen" {
  source = "../../modules/cloudscreen"

  # dev: one NAT gateway, 0-2 workers behind a large head, 30 GiB disks, 30-day logs, no Prometheus.
  single_nat_gateway      = true
  head_instance_type      = "m7i.large"
  worker_instance_type    = "c7i.large"
  worker_min_size         = 0
  worker_max_size         = 2
  worker_desired_capacity = 1
  root_volume_size_gb     = 30
  log_retention_days      = 30
  enable_prometheus       = false

  # This deployment: terraform.tfvars (see variables.tf).
  name                        = var.name
  aws_region                  = var.aws_region
  aws_account_id              = var.aws_account_id
  vpc_cidr                    = var.vpc_cidr
  availability_zones          = var.availability_zones
  private_subnet_cidrs        = var.private_subnet_cidrs
  public_subnet_cidrs         = var.public_subnet_cidrs
  reports_bucket_name         = var.reports_bucket_name
  force_destroy_bucket        = var.force_destroy_bucket
  external_id                 = var.external_id
  member_role_name            = var.member_role_name
  member_account_ou_ids       = var.member_account_ou_ids
  default_regions             = var.default_regions
  cloudflare_account_id       = var.cloudflare_account_id
  cloudflare_zone_id          = var.cloudflare_zone_id
  tunnel_hostname             = var.tunnel_hostname
  zendesk_subdomain           = var.zendesk_subdomain
  zendesk_email               = var.zendesk_email
  zendesk_app_id              = var.zendesk_app_id
  zendesk_installation_id     = var.zendesk_installation_id
  cloudscreen_pip_spec        = var.cloudscreen_pip_spec
  cloudflared_version         = var.cloudflared_version
  cloudflared_sha256          = var.cloudflared_sha256
  alarm_emails                = var.alarm_emails
  generated_secrets_version   = var.generated_secrets_version
  head_termination_protection = var.head_termination_protection
  tags                        = local.tags
}
