# Where this root keeps its state; scripts/infra.sh loads the root without
# this file, as it has no S3 to reach.
terraform {
  # State per region, locked in S3 itself (no DynamoDB table).
  backend "s3" {
    bucket       = "chat-terraform-state"
    key          = "live/us-east-1.tfstate"
    region       = "us-east-1"
    encrypt      = true
    use_lockfile = true
  }
}
