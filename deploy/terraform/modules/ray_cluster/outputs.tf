output "head_instance_id" {
  description = "Instance id of the head node (Session Manager target)."
  value       = aws_instance.head.id
}

output "head_private_ip" {
  description = "Private IP of the head node (workers join <ip>:6379)."
  value       = aws_instance.head.private_ip
}

output "worker_asg_name" {
  description = "Name of the worker autoscaling group."
  value       = aws_autoscaling_group.workers.name
}

output "worker_launch_template_id" {
  description = "ID of the worker launch template."
  value       = aws_launch_template.worker.id
}
