variable "name" {
  description = "Prefix of every resource's name, e.g. \"chat\"."
  type        = string
  default     = "chat"
}

variable "region_name" {
  description = "The region's name as the nodes publish it (CHAT_REGION); discovery ranks edges by it."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the edges and their load balancer."
  type        = string
}

variable "public_subnet_ids" {
  description = "Public subnets of the network load balancer, one per availability zone."
  type        = list(string)
}

variable "private_subnet_ids" {
  description = "Private subnets of the edge instances, one per availability zone."
  type        = list(string)
  validation {
    condition     = length(var.private_subnet_ids) >= 2
    error_message = "Edges span at least two availability zones."
  }
}

variable "public_hostname" {
  description = "The name clients reach this region's edges at (wss://NAME/ws, https://NAME:PORT/wt); the load balancer's certificate and the edges' WebTransport certificate carry it."
  type        = string
}

variable "certificate_arn" {
  description = "ACM certificate of public_hostname, for the load balancer's TLS listener (WebSocket and REST)."
  type        = string
}

variable "webtransport_tls_secret_arn" {
  description = "Secrets Manager secret holding the edges' WebTransport certificate, JSON {\"cert\": PEM chain, \"key\": PEM key}, for public_hostname (QUIC passes the load balancer untouched, so the edge terminates it)."
  type        = string
}

variable "core_ca_secret_arn" {
  description = "Secrets Manager secret holding the PEM of the CA that signed the cores' gRPC certificate (infra/modules/core, core_tls_secret_arn)."
  type        = string
}

variable "core_tls_domain" {
  description = "Name the cores' gRPC certificate carries (CHAT_EDGE__CORE__TLS_DOMAIN); edges reach each core at its registered address and check this name."
  type        = string
  default     = "core.chat.internal"
}

variable "core_grpc_port" {
  description = "The cores' gRPC port (infra/modules/core, grpc_port)."
  type        = number
  default     = 7100
}

variable "core_cidr_blocks" {
  description = "Networks of the cores and ZooKeeper (the core region's VPC), which edges connect out to."
  type        = list(string)
}

variable "zookeeper_connect" {
  description = "The ZooKeeper ensemble, host:port,… (infra/modules/core output zookeeper_connect)."
  type        = string
}

variable "zookeeper_chroot" {
  description = "The cluster's znode (CHAT_ZOOKEEPER__CHROOT), the same on every core and edge."
  type        = string
  default     = "/chat"
}

variable "zookeeper_session_timeout_ms" {
  description = "ZooKeeper session timeout of an edge, in ms."
  type        = number
  default     = 6000
}

variable "edge_port" {
  description = "Port each edge listens on, TCP for HTTP and WebSocket (behind the TLS listener) and UDP for WebTransport; the load balancer's UDP listener uses the same number, which the edge announces in GET /webtransport/cert-hash."
  type        = number
  default     = 8443
}

variable "ami_id" {
  description = "Image of the edge instances; null: the latest Amazon Linux 2023 (x86_64). The boot script installs the release tarball on it."
  type        = string
  default     = null
}

variable "instance_type" {
  description = "Edge instance type (docs/capacity.md sizes 1 M connections per 16-vCPU, 64 GiB node)."
  type        = string
  default     = "m7i.4xlarge"
}

variable "edge_min" {
  description = "Fewest edge instances."
  type        = number
  default     = 2
}

variable "edge_desired" {
  description = "Edge instances to run now."
  type        = number
  default     = 6
}

variable "edge_max" {
  description = "Most edge instances."
  type        = number
  default     = 12
}

variable "max_connections" {
  description = "Client connections one edge takes (CHAT_EDGE__MAX_CONNECTIONS); published as its capacity."
  type        = number
  default     = 1000000
}

variable "heartbeat_interval_ms" {
  description = "Ping interval announced to clients (CHAT_EDGE__HEARTBEAT_INTERVAL_MS)."
  type        = number
  default     = 10000
}

variable "idle_timeout_ms" {
  description = "Silence after which an edge closes a connection (CHAT_EDGE__IDLE_TIMEOUT_MS); above the heartbeat, below the load balancer's idle timeouts."
  type        = number
  default     = 30000
}

variable "drain_timeout_seconds" {
  description = "How long a stopping edge waits for its sessions to reconnect elsewhere (CHAT_EDGE__DRAIN_TIMEOUT_MS); the load balancer's deregistration delay is the same."
  type        = number
  default     = 10
}

variable "lb_tcp_idle_timeout_seconds" {
  description = "Idle timeout of the load balancer's TCP flows (60 to 6000 s); must exceed the edge's idle timeout, so the edge, not the load balancer, ends silent connections."
  type        = number
  default     = 350
}

variable "release_artifact" {
  description = "S3 URI of the release tarball (bin/chat-core, bin/chat-edge), e.g. s3://chat-releases/0.1.0/chat-x86_64-linux.tar.gz."
  type        = string
}

variable "release_bucket_arn" {
  description = "ARN of the bucket holding release_artifact; the instances may read it."
  type        = string
}

variable "tags" {
  description = "Tags on every resource."
  type        = map(string)
  default     = {}
}

variable "deletion_protection" {
  description = "Protect the load balancer from deletion."
  type        = bool
  default     = true
}
