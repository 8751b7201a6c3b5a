output "websocket_url" {
  description = "The URL clients connect to: the nearest healthy region's edges."
  value       = "wss://${var.hostname}/ws"
}

output "health_check_ids" {
  description = "Route 53 health check of each region, for alarms."
  value       = { for region, check in aws_route53_health_check.region : region => check.id }
}
