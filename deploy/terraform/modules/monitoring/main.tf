locals {
  log_groups = {
    front       = "/cloudscreen/${var.name}/front"
    audit       = "/cloudscreen/${var.name}/audit"
    ray_head    = "/cloudscreen/${var.name}/ray-head"
    ray_worker  = "/cloudscreen/${var.name}/ray-worker"
    cloudflared = "/cloudscreen/${var.name}/cloudflared"
  }
}

# Created before any node boots so the agent never creates them unencrypted and without retention.
resource "aws_cloudwatch_log_group" "this" {
  for_each          = local.log_groups
  name              = each.value
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_sns_topic" "alarms" {
  name              = "${var.name}-alarms"
  kms_master_key_id = var.kms_key_arn
  tags              = var.tags
}

resource "aws_sns_topic_subscription" "email" {
  for_each  = toset(var.alarm_emails)
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = each.value
}

resource "aws_cloudwatch_metric_alarm" "head_status_check" {
  alarm_name          = "${var.name}-head-status-check"
  alarm_description   = "The Ray head node fails its EC2 status checks: every running scan is at risk."
  namespace           = "AWS/EC2"
  metric_name         = "StatusCheckFailed"
  dimensions          = { InstanceId = var.head_instance_id }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 3
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 1
  treat_missing_data  = "breaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "workers_below_desired" {
  alarm_name          = "${var.name}-workers-below-desired"
  alarm_description   = "Fewer Ray workers in service than desired for 10 minutes: scans run slower."
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  evaluation_periods  = 10
  treat_missing_data  = "breaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags

  metric_query {
    id          = "missing"
    expression  = "desired - in_service"
    label       = "Workers missing"
    return_data = true
  }

  metric_query {
    id = "desired"
    metric {
      namespace   = "AWS/AutoScaling"
      metric_name = "GroupDesiredCapacity"
      dimensions  = { AutoScalingGroupName = var.worker_asg_name }
      period      = 60
      stat        = "Average"
    }
  }

  metric_query {
    id = "in_service"
    metric {
      namespace   = "AWS/AutoScaling"
      metric_name = "GroupInServiceInstances"
      dimensions  = { AutoScalingGroupName = var.worker_asg_name }
      period      = 60
      stat        = "Average"
    }
  }
}

# FrontUp is published every minute by the head node's probe; silence means the node or the probe is gone.
resource "aws_cloudwatch_metric_alarm" "front_down" {
  alarm_name          = "${var.name}-front-down"
  alarm_description   = "The front does not answer /health on the head node: the Zendesk sidebar is down."
  namespace           = var.metrics_namespace
  metric_name         = "FrontUp"
  statistic           = "Minimum"
  period              = 60
  evaluation_periods  = 3
  comparison_operator = "LessThanThreshold"
  threshold           = 1
  treat_missing_data  = "breaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "front_5xx" {
  alarm_name          = "${var.name}-front-5xx"
  alarm_description   = "The front answers with server errors."
  namespace           = var.metrics_namespace
  metric_name         = "Front5xx"
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.front_5xx_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_log_group" "prometheus" {
  count             = var.enable_prometheus ? 1 : 0
  name              = "/cloudscreen/${var.name}/prometheus"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_prometheus_workspace" "this" {
  count       = var.enable_prometheus ? 1 : 0
  alias       = var.name
  kms_key_arn = var.kms_key_arn
  tags        = var.tags

  logging_configuration {
    log_group_arn = "${aws_cloudwatch_log_group.prometheus[0].arn}:*"
  }
}
