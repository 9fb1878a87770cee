output "head_role_arn" {
  description = "ARN of the head/front role; a scanner principal trusted by member roles."
  value       = aws_iam_role.head.arn
}

output "worker_role_arn" {
  description = "ARN of the worker role; a scanner principal trusted by member roles."
  value       = aws_iam_role.worker.arn
}

output "scanner_role_arns" {
  description = "Every role that assumes member audit roles (head and workers run scan units)."
  value       = [aws_iam_role.head.arn, aws_iam_role.worker.arn]
}

output "head_instance_profile_name" {
  description = "Instance profile of the head node."
  value       = aws_iam_instance_profile.head.name
}

output "worker_instance_profile_name" {
  description = "Instance profile of the worker nodes."
  value       = aws_iam_instance_profile.worker.name
}
