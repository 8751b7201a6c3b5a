# What core instances may do (besides SSM management, node-group): read
# their secrets and the release, decrypt with the core's key. ZooKeeper's
# instances: read the release, be managed through SSM.

data "aws_iam_policy_document" "assume_ec2" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "core" {
  statement {
    sid       = "Secrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = concat([aws_secretsmanager_secret.db.arn, var.core_tls_secret_arn], local.secrets)
  }
  statement {
    sid       = "Decrypt"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.core.arn]
  }
  statement {
    sid       = "Release"
    actions   = ["s3:GetObject"]
    resources = ["${var.release_bucket_arn}/*"]
  }
}

data "aws_iam_policy_document" "zookeeper" {
  statement {
    sid       = "Release"
    actions   = ["s3:GetObject"]
    resources = ["${var.release_bucket_arn}/*"]
  }
}

resource "aws_iam_role" "zookeeper" {
  name_prefix        = "${var.name}-zookeeper-"
  assume_role_policy = data.aws_iam_policy_document.assume_ec2.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "zookeeper" {
  name_prefix = "${var.name}-zookeeper-"
  role        = aws_iam_role.zookeeper.id
  policy      = data.aws_iam_policy_document.zookeeper.json
}

resource "aws_iam_role_policy_attachment" "zookeeper_ssm" {
  role       = aws_iam_role.zookeeper.name
  policy_arn = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

resource "aws_iam_instance_profile" "zookeeper" {
  name_prefix = "${var.name}-zookeeper-"
  role        = aws_iam_role.zookeeper.name
  tags        = var.tags
}
