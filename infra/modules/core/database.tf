# PostgreSQL: Multi-AZ (a synchronous standby in another zone, failed over
# to automatically), encrypted, backed up, reachable from the cores only.
# The password is generated here, written to the database and to its secret
# as write-only values: it is in no plan and no state.

ephemeral "random_password" "db" {
  length = 40
  # Letters and digits only: it goes into CHAT_POSTGRES__URL unescaped.
  special = false
}

resource "aws_secretsmanager_secret" "db" {
  name_prefix = "${var.name}-postgres-"
  description = "Password of the chat database's user (CHAT_POSTGRES__URL); set by Terraform, version db_password_version"
  kms_key_id  = aws_kms_key.core.arn
  #checkov:skip=CKV2_AWS_57:No Lambda rotation: the cores read the password at start, so a rotation is a db_password_version bump and a rolling instance refresh (docs/operations.md, "Deploying with Terraform").
  tags = var.tags
}

resource "aws_secretsmanager_secret_version" "db" {
  secret_id                = aws_secretsmanager_secret.db.id
  secret_string_wo         = ephemeral.random_password.db.result
  secret_string_wo_version = var.db_password_version
}

resource "aws_db_subnet_group" "core" {
  name_prefix = "${var.name}-"
  subnet_ids  = var.private_subnet_ids
  tags        = var.tags
}

resource "aws_db_parameter_group" "core" {
  name_prefix = "${var.name}-pg${var.db_engine_version}-"
  family      = "postgres${var.db_engine_version}"

  # The core's PostgreSQL client (tokio-postgres, NoTls) does not speak TLS
  # yet, so the server must not require it. The database is reachable only
  # from the cores' security group inside the VPC.
  parameter {
    name  = "rds.force_ssl"
    value = "0"
  }
  parameter {
    name  = "log_min_duration_statement"
    value = "1000"
  }
  tags = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_db_instance" "core" {
  identifier_prefix = "${var.name}-"
  engine            = "postgres"
  engine_version    = var.db_engine_version
  instance_class    = var.db_instance_class
  port              = var.db_port
  db_name           = "chat"
  username          = "chat"
  password_wo       = ephemeral.random_password.db.result
  # Same version as the secret's, so both change together.
  password_wo_version = var.db_password_version

  multi_az                  = true
  db_subnet_group_name      = aws_db_subnet_group.core.name
  vpc_security_group_ids    = [aws_security_group.database.id]
  parameter_group_name      = aws_db_parameter_group.core.name
  publicly_accessible       = false
  storage_type              = "gp3"
  allocated_storage         = var.db_allocated_storage_gb
  max_allocated_storage     = var.db_max_allocated_storage_gb
  storage_encrypted         = true
  kms_key_id                = aws_kms_key.core.arn
  backup_retention_period   = var.db_backup_retention_days
  backup_window             = "03:00-04:00"
  maintenance_window        = "sun:04:30-sun:05:30"
  copy_tags_to_snapshot     = true
  deletion_protection       = var.deletion_protection
  skip_final_snapshot       = false
  final_snapshot_identifier = "${var.name}-final"

  auto_minor_version_upgrade      = true
  performance_insights_enabled    = true
  performance_insights_kms_key_id = aws_kms_key.core.arn
  monitoring_interval             = 30
  monitoring_role_arn             = aws_iam_role.rds_monitoring.arn
  enabled_cloudwatch_logs_exports = ["postgresql", "upgrade"]
  #checkov:skip=CKV_AWS_161:IAM database authentication needs a token per connection, which the core's client does not fetch; the password comes from Secrets Manager.
  iam_database_authentication_enabled = false
  #checkov:skip=CKV2_AWS_69:The core's PostgreSQL client has no TLS yet (rds.force_ssl 0 above); the database is reachable from the cores' security group only, inside the VPC. To be closed by TLS in the client.
  tags = var.tags
}

data "aws_iam_policy_document" "assume_rds_monitoring" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["monitoring.rds.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "rds_monitoring" {
  name_prefix        = "${var.name}-rds-mon-"
  assume_role_policy = data.aws_iam_policy_document.assume_rds_monitoring.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "rds_monitoring" {
  role       = aws_iam_role.rds_monitoring.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}
