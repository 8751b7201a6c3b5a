variable "region_name" {
  description = "This AWS region, e.g. eu-west-1 (also CHAT_REGION of its edges)."
  type        = string
}

variable "cidr_block" {
  description = "This region's VPC network; it must be in the core's edge_cidr_blocks."
  type        = string
}

variable "azs" {
  description = "Three availability zones of this region."
  type        = list(string)
}

variable "core" {
  description = "The core region's outputs (infra/live/<core region> state): region, vpc_id, vpc_cidr_block, private_route_table_ids, zookeeper_connect, core_grpc_port."
  type = object({
    region                  = string
    vpc_id                  = string
    vpc_cidr_block          = string
    private_route_table_ids = list(string)
    zookeeper_connect       = string
    core_grpc_port          = number
  })
}

variable "edges" {
  description = "Arguments of infra/modules/region that differ per deployment: hostname, certificate_arn, webtransport_tls_secret_arn, core_ca_secret_arn, release_artifact, release_bucket_arn, edge_desired."
  type = object({
    hostname                    = string
    certificate_arn             = string
    webtransport_tls_secret_arn = string
    core_ca_secret_arn          = string
    release_artifact            = string
    release_bucket_arn          = string
    edge_desired                = number
  })
}
