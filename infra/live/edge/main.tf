# The edge regions, one Terraform workspace each (`terraform workspace
# select eu-west-1`): its VPC peered with the core region's, and its edges.
# The workspace names the AWS region; its settings are in local.regions.

terraform {
  required_version = ">= 1.11"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.0, < 7.0"
    }
  }
}

locals {
  # Each edge region's network (in the core's edge_cidr_blocks) and edges
  # (docs/capacity.md, "Edge nodes").
  regions = {
    "eu-west-1"      = { cidr_block = "10.20.0.0/16", edge_desired = 8 }
    "ap-southeast-1" = { cidr_block = "10.30.0.0/16", edge_desired = 6 }
  }
  region = terraform.workspace
  this   = local.regions[local.region]
}

provider "aws" {
  region = local.region
  default_tags {
    tags = { service = "chat", region = local.region }
  }
}

provider "aws" {
  alias  = "core"
  region = "us-east-1"
  default_tags {
    tags = { service = "chat", region = local.region }
  }
}

# The core region's outputs: its VPC (to peer with) and ZooKeeper.
data "terraform_remote_state" "core" {
  backend = "s3"
  config = {
    bucket = "chat-terraform-state"
    key    = "live/us-east-1.tfstate"
    region = "us-east-1"
  }
}

module "region" {
  source = "../../modules/edge-region"
  providers = {
    aws      = aws
    aws.core = aws.core
  }

  region_name = local.region
  cidr_block  = local.this.cidr_block
  azs         = ["${local.region}a", "${local.region}b", "${local.region}c"]
  core = {
    region                  = "us-east-1"
    vpc_id                  = data.terraform_remote_state.core.outputs.vpc_id
    vpc_cidr_block          = data.terraform_remote_state.core.outputs.vpc_cidr_block
    private_route_table_ids = data.terraform_remote_state.core.outputs.private_route_table_ids
    zookeeper_connect       = data.terraform_remote_state.core.outputs.zookeeper_connect
    core_grpc_port          = data.terraform_remote_state.core.outputs.core_grpc_port
  }
  edges = {
    hostname                    = var.hostname
    certificate_arn             = var.certificate_arn
    webtransport_tls_secret_arn = var.webtransport_tls_secret_arn
    core_ca_secret_arn          = var.core_ca_secret_arn
    release_artifact            = var.release_artifact
    release_bucket_arn          = var.release_bucket_arn
    edge_desired                = local.this.edge_desired
  }
}

output "lb_dns_name" {
  description = "This region's load balancer."
  value       = module.region.lb_dns_name
}

output "lb_zone_id" {
  description = "Its Route 53 zone."
  value       = module.region.lb_zone_id
}
