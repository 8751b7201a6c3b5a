# One customer-managed key for the core's data at rest: the database, its
# password's secret, the instances' volumes.

data "aws_caller_identity" "current" {}

data "aws_iam_policy_document" "kms" {
  # In a key policy "*" is the key itself, the only resource it can name.
  #checkov:skip=CKV_AWS_111:A key policy's resource "*" is this key alone.
  #checkov:skip=CKV_AWS_356:A key policy's resource "*" is this key alone.
  #checkov:skip=CKV_AWS_109:The account's root keeps managing its own key, as AWS's default key policy does; IAM policies then decide who may.
  statement {
    sid       = "Account"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }
  # EC2 Auto Scaling encrypts the cores' and ZooKeeper's volumes with it.
  statement {
    sid       = "AutoScaling"
    actions   = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey", "kms:CreateGrant"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"]
    }
  }
}

resource "aws_kms_key" "core" {
  description         = "${var.name} core: database, secrets, volumes"
  enable_key_rotation = true
  policy              = data.aws_iam_policy_document.kms.json
  tags                = var.tags
}

resource "aws_kms_alias" "core" {
  name          = "alias/${var.name}-core"
  target_key_id = aws_kms_key.core.key_id
}
