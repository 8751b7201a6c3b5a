# The core region: the core cluster (cores, ZooKeeper, PostgreSQL) and this
# region's edges, in one VPC across three availability zones.

module "vpc" {
  source     = "../../modules/network"
  name       = "chat-us-east-1"
  cidr_block = "10.10.0.0/16"
  azs        = ["us-east-1a", "us-east-1b", "us-east-1c"]
}

module "core" {
  source = "../../modules/core"

  region_name         = "us-east-1"
  vpc_id              = module.vpc.vpc_id
  private_subnet_ids  = module.vpc.private_subnet_ids
  edge_cidr_blocks    = var.edge_cidr_blocks
  core_tls_secret_arn = var.core_tls_secret_arn
  release_artifact    = var.release_artifact
  zookeeper_release   = var.zookeeper_release
  release_bucket_arn  = var.release_bucket_arn
  vapid_secret_arn    = var.vapid_secret_arn
  fcm_secret_arn      = var.fcm_secret_arn
  apns_secret_arn     = var.apns_secret_arn
}

module "edges" {
  source = "../../modules/region"

  region_name                 = "us-east-1"
  vpc_id                      = module.vpc.vpc_id
  public_subnet_ids           = module.vpc.public_subnet_ids
  private_subnet_ids          = module.vpc.private_subnet_ids
  public_hostname             = var.hostname
  certificate_arn             = var.certificate_arn
  webtransport_tls_secret_arn = var.webtransport_tls_secret_arn
  core_ca_secret_arn          = var.core_ca_secret_arn
  core_cidr_blocks            = [module.vpc.vpc_cidr_block]
  core_grpc_port              = module.core.grpc_port
  zookeeper_connect           = module.core.zookeeper_connect
  release_artifact            = var.release_artifact
  release_bucket_arn          = var.release_bucket_arn
  edge_desired                = 9
}
