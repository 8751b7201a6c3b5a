# Nearest-region routing: one latency record per region under the same name,
# each an alias of the region's load balancer. Route 53 answers with the
# lowest-latency region whose record is healthy: its health check (the
# edges' /readyz through the load balancer's TLS listener) passes and the
# load balancer has healthy targets (evaluate_target_health). A failed
# region is skipped; its clients reconnect by name and land on the next
# nearest, resuming from their cursors.

resource "aws_route53_health_check" "region" {
  for_each          = var.regions
  fqdn              = each.value.lb_dns_name
  port              = 443
  type              = "HTTPS"
  resource_path     = "/readyz"
  request_interval  = var.health_check_interval_seconds
  failure_threshold = 3
  # The load balancer's certificate names var.hostname, not its own DNS name.
  enable_sni = false
  tags       = merge(var.tags, { Name = "chat-${each.key}" })
}

resource "aws_route53_record" "region" {
  for_each        = var.regions
  zone_id         = var.zone_id
  name            = var.hostname
  type            = "A"
  set_identifier  = each.key
  health_check_id = aws_route53_health_check.region[each.key].id
  #checkov:skip=CKV2_AWS_23:An alias of each region's load balancer, which the region's own state holds (passed in as var.regions).

  latency_routing_policy {
    region = each.key
  }
  alias {
    name                   = each.value.lb_dns_name
    zone_id                = each.value.lb_zone_id
    evaluate_target_health = true
  }
}
