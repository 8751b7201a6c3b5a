# Nearest-region routing for every region's edges (infra/modules/global),
# from each region's state.

terraform {
  required_version = ">= 1.11"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.0, < 7.0"
    }
  }
}

provider "aws" {
  region = "us-east-1"
  default_tags {
    tags = { service = "chat" }
  }
}

variable "zone_id" {
  description = "Route 53 hosted zone of hostname."
  type        = string
}

variable "hostname" {
  description = "The name clients use."
  type        = string
  default     = "chat.example.com"
}

variable "edge_regions" {
  description = "The edge regions: workspaces of infra/live/edge."
  type        = list(string)
  default     = ["eu-west-1", "ap-southeast-1"]
}

# The core region's state (its own edges), and each edge region's.
data "terraform_remote_state" "core" {
  backend = "s3"
  config = {
    bucket = "chat-terraform-state"
    key    = "live/us-east-1.tfstate"
    region = "us-east-1"
  }
}

data "terraform_remote_state" "edge" {
  for_each  = toset(var.edge_regions)
  backend   = "s3"
  workspace = each.value
  config = {
    bucket = "chat-terraform-state"
    key    = "live/edge.tfstate"
    region = "us-east-1"
  }
}

module "global" {
  source   = "../../modules/global"
  zone_id  = var.zone_id
  hostname = var.hostname
  regions = merge(
    {
      "us-east-1" = {
        lb_dns_name = data.terraform_remote_state.core.outputs.lb_dns_name
        lb_zone_id  = data.terraform_remote_state.core.outputs.lb_zone_id
      }
    },
    {
      for region, state in data.terraform_remote_state.edge : region => {
        lb_dns_name = state.outputs.lb_dns_name
        lb_zone_id  = state.outputs.lb_zone_id
      }
    },
  )
}

output "websocket_url" {
  description = "The URL clients connect to."
  value       = module.global.websocket_url
}
