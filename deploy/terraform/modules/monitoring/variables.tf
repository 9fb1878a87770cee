variable "name" {
  description = "Deployment name (e.g. cloudscreen-prod); log groups live under /cloudscreen/<name>/."
  type        = string
}

variable "kms_key_arn" {
  description = "ARN of the customer managed key for log groups, the alarm topic and the Prometheus workspace."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of every log group, in days (one of CloudWatch's allowed values)."
  type        = number
  default     = 90
}

variable "alarm_emails" {
  description = "E-mail addresses subscribed to the alarm topic (each must confirm)."
  type        = list(string)
  default     = []
}

variable "head_instance_id" {
  description = "Instance id of the Ray head node (status check alarm)."
  type        = string
}

variable "worker_asg_name" {
  description = "Name of the worker autoscaling group (capacity alarm)."
  type        = string
}

variable "metrics_namespace" {
  description = "CloudWatch namespace the head node's probe publishes FrontUp and Front5xx to."
  type        = string
}

variable "front_5xx_threshold" {
  description = "5xx answers per 5 minutes above which the front alarm fires."
  type        = number
  default     = 5
}

variable "enable_prometheus" {
  description = "Create an Amazon Managed Service for Prometheus workspace for Ray and front metrics."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
