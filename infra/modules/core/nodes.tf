# The core nodes: an autoscaling group of chat-core instances. Each takes
# its node id from ZooKeeper at start and owns its share of the channels;
# losing one moves only its share (docs/architecture.md).

data "aws_ssm_parameter" "al2023" {
  name = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
}

locals {
  ami_id  = coalesce(var.ami_id, nonsensitive(data.aws_ssm_parameter.al2023.value))
  secrets = compact([var.vapid_secret_arn, var.fcm_secret_arn, var.apns_secret_arn])
  core_env = templatefile("${path.module}/templates/chat-core.env.tftpl", {
    grpc_port                    = var.grpc_port
    admin_port                   = var.admin_port
    region                       = var.region_name
    db_address                   = aws_db_instance.core.address
    db_port                      = var.db_port
    db_name                      = aws_db_instance.core.db_name
    db_user                      = aws_db_instance.core.username
    pool_size                    = var.postgres_pool_size
    zookeeper_connect            = local.zookeeper_connect
    zookeeper_chroot             = var.zookeeper_chroot
    zookeeper_session_timeout_ms = var.zookeeper_session_timeout_ms
    vapid_subject                = var.vapid_subject
    apns_key_id                  = var.apns_key_id
    apns_team_id                 = var.apns_team_id
  })
  core_boot = templatefile("${path.module}/templates/core-boot.sh.tftpl", {
    env                 = local.core_env
    release_artifact    = var.release_artifact
    db_secret_arn       = aws_secretsmanager_secret.db.arn
    core_tls_secret_arn = var.core_tls_secret_arn
    vapid_secret_arn    = var.vapid_secret_arn
    fcm_secret_arn      = var.fcm_secret_arn
    apns_secret_arn     = var.apns_secret_arn
  })
}

module "nodes" {
  source = "../node-group"

  name               = "${var.name}-core"
  role               = "chat-core"
  subnet_ids         = var.private_subnet_ids
  security_group_ids = [aws_security_group.core.id]
  ami_id             = local.ami_id
  instance_type      = var.core_instance_type
  user_data          = local.core_boot
  policy_json        = data.aws_iam_policy_document.core.json
  kms_key_arn        = aws_kms_key.core.arn
  min_size           = var.core_count
  desired_capacity   = var.core_count
  max_size           = var.core_count + 1
  # One core at a time, the new one started first: each replacement moves
  # a share of the channels (a failover of at most the session timeout +
  # 2 s for those channels).
  min_healthy_percentage = 100
  max_healthy_percentage = 125
  tags                   = var.tags
  # The cores need ZooKeeper and the database at start.
  depends_on = [aws_instance.zookeeper, aws_db_instance.core]
}
