data "aws_region" "current" {}

data "aws_ssm_parameter" "al2023" {
  name = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${var.architecture}"
}

locals {
  region       = data.aws_region.current.region
  ami_id       = var.ami_id != "" ? var.ami_id : nonsensitive(data.aws_ssm_parameter.al2023.insecure_value)
  cpu_arch_deb = var.architecture == "arm64" ? "arm64" : "amd64"

  common_template_vars = {
    region               = local.region
    name                 = var.name
    cloudscreen_pip_spec = var.cloudscreen_pip_spec
    ray_token_arn        = var.ray_auth_token_secret_arn
    store_url            = var.store_url
    kms_key_arn          = var.kms_key_arn
    member_role_name     = var.member_role_name
    external_id          = var.external_id
    default_regions      = join(",", var.default_regions)
    ray_memory_max       = var.ray_memory_max
  }
}

resource "aws_instance" "head" {
  ami                     = local.ami_id
  instance_type           = var.head_instance_type
  subnet_id               = var.private_subnet_ids[0]
  vpc_security_group_ids  = [var.cluster_security_group_id]
  iam_instance_profile    = var.head_instance_profile_name
  monitoring              = true
  ebs_optimized           = true
  disable_api_termination = var.head_termination_protection # losing the head kills every running job

  associate_public_ip_address = false

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "disabled"
  }

  root_block_device {
    encrypted             = true
    volume_type           = "gp3"
    volume_size           = var.root_volume_size_gb
    delete_on_termination = true
  }

  user_data = templatefile("${path.module}/templates/head.yaml.tftpl", merge(local.common_template_vars, {
    session_secret_arn    = var.session_secret_arn
    zendesk_token_arn     = var.zendesk_api_token_secret_arn
    tunnel_token_arn      = var.tunnel_token_secret_arn
    zendesk_subdomain     = var.zendesk_subdomain
    zendesk_email         = var.zendesk_email
    zendesk_app_id        = var.zendesk_app_id
    zendesk_installation  = var.zendesk_installation_id
    public_url            = var.public_url
    metrics_namespace     = var.metrics_namespace
    front_memory_max      = var.front_memory_max
    cloudflared_url       = "https://github.com/cloudflare/cloudflared/releases/download/${var.cloudflared_version}/cloudflared-linux-${local.cpu_arch_deb}"
    cloudflared_sha256    = var.cloudflared_sha256
    log_group_front       = var.log_group_names["front"]
    log_group_audit       = var.log_group_names["audit"]
    log_group_ray         = var.log_group_names["ray_head"]
    log_group_cloudflared = var.log_group_names["cloudflared"]
  }))

  tags        = merge(var.tags, { Name = "${var.name}-head", Role = "ray-head" })
  volume_tags = merge(var.tags, { Name = "${var.name}-head" })

  lifecycle {
    # A newer AMI must not silently replace the head (and kill running scans); replace it on purpose.
    ignore_changes = [ami]
  }
}

resource "aws_launch_template" "worker" {
  name_prefix   = "${var.name}-worker-"
  description   = "CloudScreen Ray worker node"
  image_id      = local.ami_id
  instance_type = var.worker_instance_type
  ebs_optimized = true

  iam_instance_profile {
    name = var.worker_instance_profile_name
  }

  network_interfaces {
    associate_public_ip_address = false
    delete_on_termination       = true
    security_groups             = [var.cluster_security_group_id]
  }

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "disabled"
  }

  block_device_mappings {
    device_name = "/dev/xvda"
    ebs {
      encrypted             = true
      volume_type           = "gp3"
      volume_size           = var.root_volume_size_gb
      delete_on_termination = true
    }
  }

  monitoring {
    enabled = true
  }

  user_data = base64encode(templatefile("${path.module}/templates/worker.yaml.tftpl", merge(local.common_template_vars, {
    head_address  = aws_instance.head.private_ip
    log_group_ray = var.log_group_names["ray_worker"]
  })))

  tag_specifications {
    resource_type = "instance"
    tags          = merge(var.tags, { Name = "${var.name}-worker", Role = "ray-worker" })
  }

  tag_specifications {
    resource_type = "volume"
    tags          = merge(var.tags, { Name = "${var.name}-worker" })
  }

  tags = var.tags
}

# EC2 autoscaling does not know about Ray tasks: scale-in kills running units, which Ray retries elsewhere.
resource "aws_autoscaling_group" "workers" {
  name                = "${var.name}-workers"
  vpc_zone_identifier = var.private_subnet_ids
  min_size            = var.worker_min_size
  max_size            = var.worker_max_size
  desired_capacity    = var.worker_desired_capacity
  health_check_type   = "EC2"
  metrics_granularity = "1Minute"
  enabled_metrics     = ["GroupDesiredCapacity", "GroupInServiceInstances", "GroupTotalInstances"]

  launch_template {
    id      = aws_launch_template.worker.id
    version = aws_launch_template.worker.latest_version
  }

  instance_refresh {
    strategy = "Rolling"
    preferences {
      min_healthy_percentage = 50
    }
  }

  dynamic "tag" {
    for_each = merge(var.tags, { Name = "${var.name}-worker" })
    content {
      key                 = tag.key
      value               = tag.value
      propagate_at_launch = true
    }
  }
}
