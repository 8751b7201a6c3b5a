# Where this root keeps its state; scripts/infra.sh loads the root without
# this file, as it has no S3 to reach.
terraform {
  backend "s3" {
    bucket       = "chat-terraform-state"
    key          = "live/global.tfstate"
    region       = "us-east-1"
    encrypt      = true
    use_lockfile = true
  }
}
