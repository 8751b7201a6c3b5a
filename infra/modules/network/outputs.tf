output "vpc_id" {
  description = "The VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr_block" {
  description = "Its network."
  value       = aws_vpc.this.cidr_block
}

output "private_subnet_ids" {
  description = "Private subnets, in the order of azs."
  value       = aws_subnet.private[*].id
}

output "public_subnet_ids" {
  description = "Public subnets, in the order of azs."
  value       = aws_subnet.public[*].id
}

output "private_route_table_ids" {
  description = "Private route tables (peering routes go here)."
  value       = aws_route_table.private[*].id
}
