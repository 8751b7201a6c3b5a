# Where this root keeps its state; scripts/infra.sh loads the root without
# this file, as it has no S3 to reach.
terraform {
  backend "s3" {
    bucket = "chat-terraform-state"
    key    = "live/edge.tfstate"
    # Each workspace (region) at env:/<region>/live/edge.tfstate.
    region       = "us-east-1"
    encrypt      = true
    use_lockfile = true
  }
}
