terraform {
  # The same Terraform as infra/modules/core (1.11: write-only arguments).
  required_version = ">= 1.11"
  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 6.x: NLB listener idle timeouts (tcp_idle_timeout_seconds).
      version = ">= 6.0, < 7.0"
    }
  }
}
