variable "name" {
  description = "Prefix of every resource's name, e.g. \"chat\"."
  type        = string
  default     = "chat"
}

variable "region_name" {
  description = "The core region's name as the cores publish it (CHAT_REGION)."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the cores, ZooKeeper and the database."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets, one per availability zone; ZooKeeper puts one member in each of the first zookeeper_count (so give at least as many zones)."
  type        = list(string)
  validation {
    condition     = length(var.private_subnet_ids) >= 3
    error_message = "The core spans at least three availability zones (ZooKeeper's quorum and the database's standby)."
  }
}

variable "edge_cidr_blocks" {
  description = "Networks of every region's edges: the only ones that reach the cores' gRPC port and ZooKeeper's client port."
  type        = list(string)
}

variable "monitoring_cidr_blocks" {
  description = "Networks that scrape the cores' admin listener (/metrics, /readyz)."
  type        = list(string)
  default     = []
}

variable "ami_id" {
  description = "Image of the core and ZooKeeper instances; null: the latest Amazon Linux 2023 (x86_64)."
  type        = string
  default     = null
}

variable "core_instance_type" {
  description = "Core instance type: docs/capacity.md sizes memory for every core holding every presence watch."
  type        = string
  default     = "r7i.4xlarge"
}

variable "core_count" {
  description = "Core instances; channels are shared among the live ones (rendezvous hashing), each user's presence lives at one."
  type        = number
  default     = 4
}

variable "grpc_port" {
  description = "The cores' gRPC port, for edges (CHAT_LISTEN)."
  type        = number
  default     = 7100
}

variable "admin_port" {
  description = "The cores' admin HTTP port: /healthz, /readyz, /metrics (CHAT_ADMIN__LISTEN)."
  type        = number
  default     = 7101
}

variable "core_tls_secret_arn" {
  description = "Secrets Manager secret holding the cores' gRPC certificate, JSON {\"cert\": PEM chain, \"key\": PEM key}, for core_tls_domain, signed by the CA edges trust."
  type        = string
}

variable "postgres_pool_size" {
  description = "Connections each core holds to PostgreSQL (CHAT_POSTGRES__POOL_SIZE); core_count times this stays below the server's max_connections."
  type        = number
  default     = 32
}

variable "zookeeper_count" {
  description = "ZooKeeper ensemble members, one per availability zone: 3 (survives one) or 5 (survives two)."
  type        = number
  default     = 3
  validation {
    condition     = contains([3, 5], var.zookeeper_count)
    error_message = "A ZooKeeper ensemble here has 3 or 5 members."
  }
}

variable "zookeeper_instance_type" {
  description = "ZooKeeper instance type; it carries membership only, no messages."
  type        = string
  default     = "m7i.large"
}

variable "zookeeper_host_number" {
  description = "Host number of each ZooKeeper member in its subnet (cidrhost), so members keep fixed addresses that the ensemble's configuration names."
  type        = number
  default     = 10
}

variable "zookeeper_release" {
  description = "S3 URI of the Apache ZooKeeper 3.8 binary tarball (apache-zookeeper-3.8.x-bin.tar.gz), mirrored into the release bucket."
  type        = string
}

variable "zookeeper_chroot" {
  description = "The cluster's znode (CHAT_ZOOKEEPER__CHROOT)."
  type        = string
  default     = "/chat"
}

variable "zookeeper_session_timeout_ms" {
  description = "ZooKeeper session timeout of a core, in ms: a dead core's channels move after this + 2 s (docs/benchmarks.md, failover)."
  type        = number
  default     = 6000
}

variable "db_instance_class" {
  description = "PostgreSQL instance class."
  type        = string
  default     = "db.r7i.4xlarge"
}

variable "db_port" {
  description = "PostgreSQL's port."
  type        = number
  default     = 5432
}

variable "db_engine_version" {
  description = "PostgreSQL major version."
  type        = string
  default     = "16"
}

variable "db_allocated_storage_gb" {
  description = "Initial database storage, GB."
  type        = number
  default     = 1000
}

variable "db_max_allocated_storage_gb" {
  description = "Storage autoscaling ceiling, GB (history is kept forever; docs/capacity.md)."
  type        = number
  default     = 16000
}

variable "db_backup_retention_days" {
  description = "Days of automated backups (point-in-time recovery)."
  type        = number
  default     = 14
}

variable "db_password_version" {
  description = "Bump to set a new database password (written to the database and its secret, never to state); then roll the cores (an instance refresh), which read it at start."
  type        = number
  default     = 1
}

variable "vapid_secret_arn" {
  description = "Secrets Manager secret holding the VAPID private key (base64url of the P-256 scalar); empty: the first core generates one and keeps it in the database."
  type        = string
  default     = ""
}

variable "vapid_subject" {
  description = "Contact named in VAPID tokens (mailto: or https:)."
  type        = string
  default     = "mailto:ops@example.com"
}

variable "fcm_secret_arn" {
  description = "Secrets Manager secret holding the Firebase service account JSON; empty: FCM targets are not notified."
  type        = string
  default     = ""
}

variable "apns_secret_arn" {
  description = "Secrets Manager secret holding the APNs signing key (AuthKey_<id>.p8 PEM); empty: APNs targets are not notified."
  type        = string
  default     = ""
}

variable "apns_key_id" {
  description = "The APNs key's id."
  type        = string
  default     = ""
}

variable "apns_team_id" {
  description = "The Apple developer team of the APNs key."
  type        = string
  default     = ""
}

variable "webhook_ports" {
  description = "Ports cores may reach on the internet: push services and bots' webhooks (HTTPS)."
  type        = list(number)
  default     = [443]
}

variable "release_artifact" {
  description = "S3 URI of the release tarball (bin/chat-core, bin/chat-edge)."
  type        = string
}

variable "release_bucket_arn" {
  description = "ARN of the bucket holding the release and ZooKeeper tarballs."
  type        = string
}

variable "deletion_protection" {
  description = "Protect the database from deletion."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags on every resource."
  type        = map(string)
  default     = {}
}
