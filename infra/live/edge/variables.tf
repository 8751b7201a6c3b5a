variable "hostname" {
  description = "The name clients use (infra/live/global routes it to the nearest region)."
  type        = string
  default     = "chat.example.com"
}

variable "certificate_arn" {
  description = "ACM certificate of hostname in this region, for the load balancer."
  type        = string
}

variable "webtransport_tls_secret_arn" {
  description = "Secret with the edges' WebTransport certificate and key for hostname (JSON cert, key)."
  type        = string
}

variable "core_ca_secret_arn" {
  description = "Secret with the PEM of the CA of the cores' certificate."
  type        = string
}

variable "release_artifact" {
  description = "S3 URI of the release tarball."
  type        = string
}

variable "release_bucket_arn" {
  description = "ARN of the release bucket."
  type        = string
}
