variable "zone_id" {
  description = "Route 53 hosted zone of hostname."
  type        = string
}

variable "hostname" {
  description = "The one name every client uses, e.g. chat.example.com; each client gets the region nearest to it (lowest latency) whose edges are healthy."
  type        = string
}

variable "regions" {
  description = "Per AWS region: its load balancer (infra/modules/region outputs lb_dns_name and lb_zone_id)."
  type = map(object({
    lb_dns_name = string
    lb_zone_id  = string
  }))
}

variable "health_check_interval_seconds" {
  description = "How often Route 53 probes each region's /readyz through its load balancer (10 or 30)."
  type        = number
  default     = 10
}

variable "tags" {
  description = "Tags on every resource."
  type        = map(string)
  default     = {}
}
