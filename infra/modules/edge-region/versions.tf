terraform {
  required_version = ">= 1.11"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.0, < 7.0"
      # aws: this region; aws.core: the core region, which accepts the peering.
      configuration_aliases = [aws.core]
    }
  }
}
