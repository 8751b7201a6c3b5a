# A region with edges only: its VPC, a peering with the core region's VPC
# (edges reach the cores' gRPC and ZooKeeper over it; inter-region peering
# traffic stays on AWS's network and is encrypted there), and its edges.

module "vpc" {
  source     = "../network"
  name       = "chat-${var.region_name}"
  cidr_block = var.cidr_block
  azs        = var.azs
}

resource "aws_vpc_peering_connection" "core" {
  vpc_id      = module.vpc.vpc_id
  peer_vpc_id = var.core.vpc_id
  peer_region = var.core.region
  tags        = { Name = "chat-${var.region_name}-to-core" }
}

resource "aws_vpc_peering_connection_accepter" "core" {
  provider                  = aws.core
  vpc_peering_connection_id = aws_vpc_peering_connection.core.id
  auto_accept               = true
  tags                      = { Name = "chat-${var.region_name}-to-core" }
}

resource "aws_route" "to_core" {
  for_each                  = toset(module.vpc.private_route_table_ids)
  route_table_id            = each.value
  destination_cidr_block    = var.core.vpc_cidr_block
  vpc_peering_connection_id = aws_vpc_peering_connection.core.id
}

resource "aws_route" "from_core" {
  provider                  = aws.core
  for_each                  = toset(var.core.private_route_table_ids)
  route_table_id            = each.value
  destination_cidr_block    = var.cidr_block
  vpc_peering_connection_id = aws_vpc_peering_connection.core.id
}

module "edges" {
  source = "../region"

  region_name                 = var.region_name
  vpc_id                      = module.vpc.vpc_id
  public_subnet_ids           = module.vpc.public_subnet_ids
  private_subnet_ids          = module.vpc.private_subnet_ids
  public_hostname             = var.edges.hostname
  certificate_arn             = var.edges.certificate_arn
  webtransport_tls_secret_arn = var.edges.webtransport_tls_secret_arn
  core_ca_secret_arn          = var.edges.core_ca_secret_arn
  core_cidr_blocks            = [var.core.vpc_cidr_block]
  core_grpc_port              = var.core.core_grpc_port
  zookeeper_connect           = var.core.zookeeper_connect
  release_artifact            = var.edges.release_artifact
  release_bucket_arn          = var.edges.release_bucket_arn
  edge_desired                = var.edges.edge_desired
}
