# The edges' security group. Clients reach the edge port through the load
# balancer with their own addresses (client IP preservation), so it is open
# to the internet on that port alone, TCP and UDP; the load balancer's
# health checks use the same port.

resource "aws_security_group" "edge" {
  name_prefix = "${var.name}-edge-"
  description = "chat-edge: clients (via the NLB) on the edge port only"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-edge-${var.region_name}" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "edge_tcp" {
  security_group_id = aws_security_group.edge.id
  description       = "HTTP and WebSocket behind the NLB's TLS listener; health checks"
  ip_protocol       = "tcp"
  from_port         = var.edge_port
  to_port           = var.edge_port
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_ingress_rule" "edge_udp" {
  security_group_id = aws_security_group.edge.id
  description       = "WebTransport (QUIC) through the NLB's UDP listener"
  ip_protocol       = "udp"
  from_port         = var.edge_port
  to_port           = var.edge_port
  cidr_ipv4         = "0.0.0.0/0"
}

# Out: the cores' gRPC and ZooKeeper (the core VPC, reached over VPC
# peering from other regions), and HTTPS for AWS APIs and the release.
resource "aws_vpc_security_group_egress_rule" "edge_core" {
  for_each          = toset(var.core_cidr_blocks)
  security_group_id = aws_security_group.edge.id
  description       = "gRPC to the cores"
  ip_protocol       = "tcp"
  from_port         = var.core_grpc_port
  to_port           = var.core_grpc_port
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_egress_rule" "edge_zookeeper" {
  for_each          = toset(var.core_cidr_blocks)
  security_group_id = aws_security_group.edge.id
  description       = "ZooKeeper client port: the live cores and the edge's own registration"
  ip_protocol       = "tcp"
  from_port         = local.zookeeper_port
  to_port           = local.zookeeper_port
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_egress_rule" "edge_https" {
  security_group_id = aws_security_group.edge.id
  description       = "HTTPS: Secrets Manager, S3 (the release), CloudWatch"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

locals {
  # The port of the first ensemble member; every member uses the same.
  zookeeper_port = tonumber(split(":", split(",", var.zookeeper_connect)[0])[1])
}
