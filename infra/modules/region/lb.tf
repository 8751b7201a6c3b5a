# The region's network load balancer: TLS on 443 for WebSocket and REST
# (terminated here with the ACM certificate, forwarded as TCP to the edge),
# and UDP on the edge's port for WebTransport (QUIC passes through; the edge
# terminates it with its own certificate of the same name).
#
# Why not one TCP_QUIC listener on 443: a QUIC or TCP_QUIC target group
# needs each target registered with a QUIC server id that the target encodes
# into the connection ids it issues, which the edge's QUIC stack (quinn via
# wtransport) does not do yet, and its TCP half passes TLS through to a
# target, while the edge serves plain HTTP behind the load balancer. A UDP
# flow is kept to one edge by its addresses: a client whose address changes
# (Wi-Fi to mobile) lands on an edge that does not know its connection and
# opens a new session, resuming from its cursors (docs/protocol.md).

resource "aws_lb" "edge" {
  name                             = substr("${var.name}-${var.region_name}", 0, 32)
  load_balancer_type               = "network"
  internal                         = false
  subnets                          = var.public_subnet_ids
  enable_cross_zone_load_balancing = true
  enable_deletion_protection       = var.deletion_protection
  #checkov:skip=CKV_AWS_91:Access logs of an NLB cover TLS listeners only; connection-level metrics go to CloudWatch, and the edges log every session (docs/operations.md, Metrics).
  tags = var.tags
}

resource "aws_lb_target_group" "wss" {
  name_prefix = "wss-"
  port        = var.edge_port
  protocol    = "TCP"
  vpc_id      = var.vpc_id
  # The edge's drain (reconnect frames, then 1001) runs within this.
  deregistration_delay = var.drain_timeout_seconds
  # Clients' addresses reach the edge (login limits per address).
  preserve_client_ip = true

  health_check {
    protocol            = "HTTP"
    port                = "traffic-port"
    path                = "/readyz"
    matcher             = "200"
    interval            = 10
    healthy_threshold   = 2
    unhealthy_threshold = 2
  }
  tags = var.tags
}

resource "aws_lb_target_group" "webtransport" {
  name_prefix          = "wt-"
  port                 = var.edge_port
  protocol             = "UDP"
  vpc_id               = var.vpc_id
  deregistration_delay = var.drain_timeout_seconds

  # UDP targets are checked over TCP: the same /readyz on the same port.
  health_check {
    protocol            = "HTTP"
    port                = tostring(var.edge_port)
    path                = "/readyz"
    matcher             = "200"
    interval            = 10
    healthy_threshold   = 2
    unhealthy_threshold = 2
  }
  tags = var.tags
}

resource "aws_lb_listener" "wss" {
  load_balancer_arn = aws_lb.edge.arn
  port              = 443
  protocol          = "TLS"
  certificate_arn   = var.certificate_arn
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  alpn_policy       = "HTTP1Only"
  # Above the edge's own idle timeout, so a silent client is closed by the
  # edge with a reason (4004), not cut by the load balancer.
  tcp_idle_timeout_seconds = var.lb_tcp_idle_timeout_seconds

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.wss.arn
  }
  tags = var.tags

  lifecycle {
    precondition {
      condition     = var.lb_tcp_idle_timeout_seconds * 1000 > var.idle_timeout_ms && var.idle_timeout_ms > var.heartbeat_interval_ms
      error_message = "Heartbeat < edge idle timeout < load balancer idle timeout, or connections are cut without a reason."
    }
  }
}

resource "aws_lb_listener" "webtransport" {
  load_balancer_arn = aws_lb.edge.arn
  port              = var.edge_port
  protocol          = "UDP"
  # A UDP flow's idle timeout is fixed at 120 s, above the edge's QUIC idle
  # timeout (CHAT_EDGE__WEBTRANSPORT__MAX_IDLE_TIMEOUT_MS, 30 s).

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.webtransport.arn
  }
  tags = var.tags
}
