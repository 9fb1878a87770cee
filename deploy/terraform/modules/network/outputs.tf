output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "private_subnet_ids" {
  description = "IDs of the private subnets (one per zone) where every node runs."
  value       = aws_subnet.private[*].id
}

output "public_subnet_ids" {
  description = "IDs of the NAT-only public subnets."
  value       = aws_subnet.public[*].id
}

output "cluster_security_group_id" {
  description = "ID of the one security group of the cluster (ingress only from itself)."
  value       = aws_security_group.cluster.id
}

output "nat_public_ips" {
  description = "Egress IPs of the NAT gateways (allow-list them where scanned accounts or Zendesk restrict callers)."
  value       = aws_eip.nat[*].public_ip
}
