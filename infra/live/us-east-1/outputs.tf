output "vpc_id" {
  description = "The core region's VPC, which edge regions peer with."
  value       = module.vpc.vpc_id
}

output "vpc_cidr_block" {
  description = "Its network."
  value       = module.vpc.vpc_cidr_block
}

output "private_route_table_ids" {
  description = "Its private route tables, which get routes to the peered edge regions."
  value       = module.vpc.private_route_table_ids
}

output "zookeeper_connect" {
  description = "The ZooKeeper ensemble for every region's edges."
  value       = module.core.zookeeper_connect
}

output "core_grpc_port" {
  description = "The cores' gRPC port."
  value       = module.core.grpc_port
}

output "lb_dns_name" {
  description = "This region's load balancer."
  value       = module.edges.lb_dns_name
}

output "lb_zone_id" {
  description = "Its Route 53 zone."
  value       = module.edges.lb_zone_id
}
