# The ZooKeeper ensemble: one member per availability zone, at a fixed
# address in its subnet, so every member's configuration and every node's
# CHAT_ZOOKEEPER__CONNECT can name them all. Membership only: no message
# passes through it (docs/architecture.md, "A cluster of cores").

locals {
  zookeeper_client_port   = 2181
  zookeeper_quorum_port   = 2888
  zookeeper_election_port = 3888
  zookeeper_subnets       = slice(var.private_subnet_ids, 0, var.zookeeper_count)
  zookeeper_ips = [
    for id in local.zookeeper_subnets : cidrhost(data.aws_subnet.zookeeper[id].cidr_block, var.zookeeper_host_number)
  ]
  zookeeper_connect = join(",", [for ip in local.zookeeper_ips : "${ip}:${local.zookeeper_client_port}"])
}

data "aws_subnet" "zookeeper" {
  for_each = toset(local.zookeeper_subnets)
  id       = each.value
}

resource "aws_instance" "zookeeper" {
  count                  = var.zookeeper_count
  ami                    = local.ami_id
  instance_type          = var.zookeeper_instance_type
  subnet_id              = local.zookeeper_subnets[count.index]
  private_ip             = local.zookeeper_ips[count.index]
  vpc_security_group_ids = [aws_security_group.zookeeper.id]
  iam_instance_profile   = aws_iam_instance_profile.zookeeper.name
  ebs_optimized          = true
  monitoring             = true
  user_data = templatefile("${path.module}/templates/zookeeper-boot.sh.tftpl", {
    myid              = count.index + 1
    members           = local.zookeeper_ips
    client_port       = local.zookeeper_client_port
    quorum_port       = local.zookeeper_quorum_port
    election_port     = local.zookeeper_election_port
    zookeeper_release = var.zookeeper_release
  })
  # A new boot script must not replace a live member.
  user_data_replace_on_change = false

  metadata_options {
    http_endpoint = "enabled"
    http_tokens   = "required"
  }
  root_block_device {
    volume_size = 50
    volume_type = "gp3"
    encrypted   = true
    kms_key_id  = aws_kms_key.core.arn
  }
  tags = merge(var.tags, { Name = "${var.name}-zookeeper-${count.index + 1}", role = "zookeeper" })

  lifecycle {
    ignore_changes = [ami, user_data]
  }
}
