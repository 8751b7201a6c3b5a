output "lb_dns_name" {
  description = "This region's load balancer."
  value       = module.edges.lb_dns_name
}

output "lb_zone_id" {
  description = "Its Route 53 zone."
  value       = module.edges.lb_zone_id
}
