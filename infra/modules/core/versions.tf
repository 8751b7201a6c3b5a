terraform {
  # 1.11: write-only arguments and ephemeral resources.
  required_version = ">= 1.11"
  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 6.x: write-only arguments (password_wo, secret_string_wo).
      version = ">= 6.0, < 7.0"
    }
    random = {
      source = "hashicorp/random"
      # 3.7: ephemeral random_password, so the database password is in no state.
      version = ">= 3.7, < 4.0"
    }
  }
}
