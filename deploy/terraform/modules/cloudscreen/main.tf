# The whole deployment, wired once for every environment: the roots (environments/dev, environments/prod) configure
# the providers and pass their values; everything below is the same for all of them.
locals {
  metrics_namespace = "CloudScreen/${var.name}"
}

module "storage" {
  source = "../storage"

  name           = var.name
  bucket_name    = var.reports_bucket_name
  reports_prefix = var.reports_prefix
  force_destroy  = var.force_destroy_bucket
  tags           = var.tags
}

module "network" {
  source = "../network"

  name                 = var.name
  vpc_cidr             = var.vpc_cidr
  availability_zones   = var.availability_zones
  private_subnet_cidrs = var.private_subnet_cidrs
  public_subnet_cidrs  = var.public_subnet_cidrs
  single_nat_gateway   = var.single_nat_gateway
  kms_key_arn          = module.storage.kms_key_arn
  tags                 = var.tags
}

module "secrets" {
  source = "../secrets"

  name                      = var.name
  kms_key_arn               = module.storage.kms_key_arn
  generated_secrets_version = var.generated_secrets_version
  tags                      = var.tags
}

module "tunnel" {
  source = "../tunnel"

  name                  = var.name
  cloudflare_account_id = var.cloudflare_account_id
  cloudflare_zone_id    = var.cloudflare_zone_id
  hostname              = var.tunnel_hostname
  kms_key_arn           = module.storage.kms_key_arn
  tags                  = var.tags
}

module "iam" {
  source = "../iam"

  name              = var.name
  bucket_arn        = module.storage.bucket_arn
  reports_prefix    = module.storage.reports_prefix
  kms_key_arn       = module.storage.kms_key_arn
  member_role_name  = var.member_role_name
  metrics_namespace = local.metrics_namespace
  head_secret_arns = [
    module.secrets.ray_auth_token_arn,
    module.secrets.session_secret_arn,
    module.secrets.zendesk_api_token_arn,
    module.tunnel.tunnel_token_secret_arn,
  ]
  worker_secret_arns = [module.secrets.ray_auth_token_arn]
  tags               = var.tags
}

module "ray_cluster" {
  source = "../ray_cluster"

  name                         = var.name
  private_subnet_ids           = module.network.private_subnet_ids
  cluster_security_group_id    = module.network.cluster_security_group_id
  head_instance_profile_name   = module.iam.head_instance_profile_name
  worker_instance_profile_name = module.iam.worker_instance_profile_name
  architecture                 = var.architecture
  head_instance_type           = var.head_instance_type
  worker_instance_type         = var.worker_instance_type
  worker_min_size              = var.worker_min_size
  worker_max_size              = var.worker_max_size
  worker_desired_capacity      = var.worker_desired_capacity
  root_volume_size_gb          = var.root_volume_size_gb
  store_url                    = module.storage.store_url
  kms_key_arn                  = module.storage.kms_key_arn
  ray_auth_token_secret_arn    = module.secrets.ray_auth_token_arn
  session_secret_arn           = module.secrets.session_secret_arn
  zendesk_api_token_secret_arn = module.secrets.zendesk_api_token_arn
  tunnel_token_secret_arn      = module.tunnel.tunnel_token_secret_arn
  member_role_name             = var.member_role_name
  external_id                  = var.external_id
  default_regions              = var.default_regions
  zendesk_subdomain            = var.zendesk_subdomain
  zendesk_email                = var.zendesk_email
  zendesk_app_id               = var.zendesk_app_id
  zendesk_installation_id      = var.zendesk_installation_id
  public_url                   = module.tunnel.public_url
  log_group_names              = module.monitoring.log_group_names
  metrics_namespace            = local.metrics_namespace
  cloudscreen_pip_spec         = var.cloudscreen_pip_spec
  cloudflared_version          = var.cloudflared_version
  cloudflared_sha256           = var.cloudflared_sha256
  head_termination_protection  = var.head_termination_protection
  tags                         = var.tags
}

# Not a cycle: Terraform links module inputs and outputs one by one (log groups first, alarms after the nodes).
module "monitoring" {
  source = "../monitoring"

  name               = var.name
  kms_key_arn        = module.storage.kms_key_arn
  log_retention_days = var.log_retention_days
  alarm_emails       = var.alarm_emails
  head_instance_id   = module.ray_cluster.head_instance_id
  worker_asg_name    = module.ray_cluster.worker_asg_name
  metrics_namespace  = local.metrics_namespace
  enable_prometheus  = var.enable_prometheus
  tags               = var.tags
}

# Organization-wide audit roles through a stack set (run where stack sets are administered); empty OU list = none.
module "member_roles" {
  source = "../member_role"

  create_role                       = false
  role_name                         = var.member_role_name
  scanner_role_arns                 = module.iam.scanner_role_arns
  external_id                       = var.external_id
  stack_set_organizational_unit_ids = var.member_account_ou_ids
  stack_set_name                    = "${var.name}-member-role"
  tags                              = var.tags
}
