# What an edge instance may do (besides SSM management, node-group): read
# its two secrets and the release.

data "aws_iam_policy_document" "edge" {
  statement {
    sid       = "Secrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [var.core_ca_secret_arn, var.webtransport_tls_secret_arn]
  }
  statement {
    sid       = "Release"
    actions   = ["s3:GetObject"]
    resources = ["${var.release_bucket_arn}/*"]
  }
}
