# Who reaches what: edges (by network, as they are in other regions' VPCs)
# the cores' gRPC port and ZooKeeper's client port; cores ZooKeeper and the
# database; monitoring the admin port; ZooKeeper members each other.

resource "aws_security_group" "core" {
  name_prefix = "${var.name}-core-"
  description = "chat-core: gRPC from edges, admin from monitoring"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-core" })
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_security_group" "zookeeper" {
  name_prefix = "${var.name}-zookeeper-"
  description = "ZooKeeper: clients from cores and edges, quorum among members"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-zookeeper" })
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_security_group" "database" {
  name_prefix = "${var.name}-database-"
  description = "PostgreSQL: from the cores only"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-database" })
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "core_grpc" {
  for_each          = toset(var.edge_cidr_blocks)
  security_group_id = aws_security_group.core.id
  description       = "gRPC from edges"
  ip_protocol       = "tcp"
  from_port         = var.grpc_port
  to_port           = var.grpc_port
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_ingress_rule" "core_admin" {
  for_each          = toset(var.monitoring_cidr_blocks)
  security_group_id = aws_security_group.core.id
  description       = "admin (/metrics, /readyz) from monitoring"
  ip_protocol       = "tcp"
  from_port         = var.admin_port
  to_port           = var.admin_port
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_ingress_rule" "zookeeper_from_edges" {
  for_each          = toset(var.edge_cidr_blocks)
  security_group_id = aws_security_group.zookeeper.id
  description       = "ZooKeeper clients: edges find the live cores and register"
  ip_protocol       = "tcp"
  from_port         = local.zookeeper_client_port
  to_port           = local.zookeeper_client_port
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_ingress_rule" "zookeeper_from_cores" {
  security_group_id            = aws_security_group.zookeeper.id
  description                  = "ZooKeeper clients: cores"
  ip_protocol                  = "tcp"
  from_port                    = local.zookeeper_client_port
  to_port                      = local.zookeeper_client_port
  referenced_security_group_id = aws_security_group.core.id
}

resource "aws_vpc_security_group_ingress_rule" "zookeeper_quorum" {
  security_group_id            = aws_security_group.zookeeper.id
  description                  = "ZooKeeper followers to the leader"
  ip_protocol                  = "tcp"
  from_port                    = local.zookeeper_quorum_port
  to_port                      = local.zookeeper_quorum_port
  referenced_security_group_id = aws_security_group.zookeeper.id
}

resource "aws_vpc_security_group_ingress_rule" "zookeeper_election" {
  security_group_id            = aws_security_group.zookeeper.id
  description                  = "ZooKeeper leader election"
  ip_protocol                  = "tcp"
  from_port                    = local.zookeeper_election_port
  to_port                      = local.zookeeper_election_port
  referenced_security_group_id = aws_security_group.zookeeper.id
}

resource "aws_vpc_security_group_ingress_rule" "database_from_cores" {
  security_group_id            = aws_security_group.database.id
  description                  = "PostgreSQL from the cores"
  ip_protocol                  = "tcp"
  from_port                    = var.db_port
  to_port                      = var.db_port
  referenced_security_group_id = aws_security_group.core.id
}

# Out. Cores: ZooKeeper, the database, and HTTPS (push services, bots'
# webhooks, AWS APIs). ZooKeeper: its members, and HTTPS for its install.

resource "aws_vpc_security_group_egress_rule" "core_zookeeper" {
  security_group_id            = aws_security_group.core.id
  description                  = "to ZooKeeper"
  ip_protocol                  = "tcp"
  from_port                    = local.zookeeper_client_port
  to_port                      = local.zookeeper_client_port
  referenced_security_group_id = aws_security_group.zookeeper.id
}

resource "aws_vpc_security_group_egress_rule" "core_database" {
  security_group_id            = aws_security_group.core.id
  description                  = "to PostgreSQL"
  ip_protocol                  = "tcp"
  from_port                    = var.db_port
  to_port                      = var.db_port
  referenced_security_group_id = aws_security_group.database.id
}

resource "aws_vpc_security_group_egress_rule" "core_internet" {
  for_each          = toset([for port in var.webhook_ports : tostring(port)])
  security_group_id = aws_security_group.core.id
  description       = "push services, bots' webhooks, AWS APIs"
  ip_protocol       = "tcp"
  from_port         = tonumber(each.value)
  to_port           = tonumber(each.value)
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "zookeeper_quorum" {
  security_group_id            = aws_security_group.zookeeper.id
  description                  = "to the leader"
  ip_protocol                  = "tcp"
  from_port                    = local.zookeeper_quorum_port
  to_port                      = local.zookeeper_quorum_port
  referenced_security_group_id = aws_security_group.zookeeper.id
}

resource "aws_vpc_security_group_egress_rule" "zookeeper_election" {
  security_group_id            = aws_security_group.zookeeper.id
  description                  = "leader election"
  ip_protocol                  = "tcp"
  from_port                    = local.zookeeper_election_port
  to_port                      = local.zookeeper_election_port
  referenced_security_group_id = aws_security_group.zookeeper.id
}

resource "aws_vpc_security_group_egress_rule" "zookeeper_https" {
  security_group_id = aws_security_group.zookeeper.id
  description       = "install: packages, the tarball from S3, SSM"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}
