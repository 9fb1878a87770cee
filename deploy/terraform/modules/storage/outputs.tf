output "kms_key_arn" {
  description = "ARN of the deployment's customer managed KMS key."
  value       = aws_kms_key.this.arn
}

output "bucket_name" {
  description = "Name of the reports bucket."
  value       = aws_s3_bucket.reports.id
}

output "bucket_arn" {
  description = "ARN of the reports bucket."
  value       = aws_s3_bucket.reports.arn
}

output "reports_prefix" {
  description = "Key prefix CloudScreen writes under."
  value       = var.reports_prefix
}

output "store_url" {
  description = "Value for CLOUDSCREEN_STORE."
  value       = "s3://${aws_s3_bucket.reports.id}/${var.reports_prefix}"
}
