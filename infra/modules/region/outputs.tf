output "lb_dns_name" {
  description = "DNS name of the region's load balancer (the global layer points at it)."
  value       = aws_lb.edge.dns_name
}

output "lb_zone_id" {
  description = "Route 53 zone of the load balancer's name, for alias records."
  value       = aws_lb.edge.zone_id
}

output "websocket_url" {
  description = "The WebSocket URL of this region's edges."
  value       = "wss://${var.public_hostname}/ws"
}

output "webtransport_url" {
  description = "The WebTransport URL of this region's edges."
  value       = "https://${var.public_hostname}:${var.edge_port}/wt"
}

output "edge_security_group_id" {
  description = "The edges' security group."
  value       = aws_security_group.edge.id
}

output "autoscaling_group_name" {
  description = "The edges' autoscaling group (instance refreshes roll a release out)."
  value       = module.nodes.autoscaling_group_name
}
