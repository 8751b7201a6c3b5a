output "zookeeper_connect" {
  description = "The ensemble, host:port,…, for every core's and edge's CHAT_ZOOKEEPER__CONNECT."
  value       = local.zookeeper_connect
}

output "grpc_port" {
  description = "The cores' gRPC port."
  value       = var.grpc_port
}

output "database_address" {
  description = "The PostgreSQL endpoint (its standby takes the same name on failover)."
  value       = aws_db_instance.core.address
}

output "database_secret_arn" {
  description = "The secret holding the database password."
  value       = aws_secretsmanager_secret.db.arn
}

output "core_security_group_id" {
  description = "The cores' security group."
  value       = aws_security_group.core.id
}

output "autoscaling_group_name" {
  description = "The cores' autoscaling group (instance refreshes roll a release out, one core at a time)."
  value       = module.nodes.autoscaling_group_name
}
