# The region's edges: an autoscaling group of chat-edge instances in the
# private subnets, each booted from templates/edge-boot.sh.tftpl with the
# settings of templates/chat-edge.env.tftpl.

data "aws_ssm_parameter" "al2023" {
  name = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
}

locals {
  ami_id = coalesce(var.ami_id, nonsensitive(data.aws_ssm_parameter.al2023.value))
  edge_env = templatefile("${path.module}/templates/chat-edge.env.tftpl", {
    edge_port                    = var.edge_port
    region                       = var.region_name
    public_hostname              = var.public_hostname
    max_connections              = var.max_connections
    heartbeat_interval_ms        = var.heartbeat_interval_ms
    idle_timeout_ms              = var.idle_timeout_ms
    drain_timeout_ms             = var.drain_timeout_seconds * 1000
    core_tls_domain              = var.core_tls_domain
    core_grpc_port               = var.core_grpc_port
    zookeeper_connect            = var.zookeeper_connect
    zookeeper_chroot             = var.zookeeper_chroot
    zookeeper_session_timeout_ms = var.zookeeper_session_timeout_ms
  })
  user_data = templatefile("${path.module}/templates/edge-boot.sh.tftpl", {
    env                         = local.edge_env
    release_artifact            = var.release_artifact
    core_ca_secret_arn          = var.core_ca_secret_arn
    webtransport_tls_secret_arn = var.webtransport_tls_secret_arn
    # systemd gives the drain its time, and some to spare, before SIGKILL.
    stop_timeout_seconds = var.drain_timeout_seconds + 15
  })
}

module "nodes" {
  source = "../node-group"

  name               = "${var.name}-edge-${var.region_name}"
  role               = "chat-edge"
  subnet_ids         = var.private_subnet_ids
  security_group_ids = [aws_security_group.edge.id]
  ami_id             = local.ami_id
  instance_type      = var.instance_type
  user_data          = local.user_data
  policy_json        = data.aws_iam_policy_document.edge.json
  min_size           = var.edge_min
  desired_capacity   = var.edge_desired
  max_size           = var.edge_max
  target_group_arns  = [aws_lb_target_group.wss.arn, aws_lb_target_group.webtransport.arn]
  # Each leaving edge drains its clients to the others.
  min_healthy_percentage = 80
  tags                   = var.tags
}
