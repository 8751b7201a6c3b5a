variable "name" {
  description = "Name of the group and prefix of its parts, e.g. chat-edge-eu-west-1."
  type        = string
}

variable "role" {
  description = "What the instances run (tag role), e.g. chat-edge."
  type        = string
}

variable "subnet_ids" {
  description = "Subnets the instances spread over, one per availability zone."
  type        = list(string)
}

variable "security_group_ids" {
  description = "Security groups of the instances."
  type        = list(string)
}

variable "ami_id" {
  description = "Image of the instances."
  type        = string
}

variable "instance_type" {
  description = "Instance type."
  type        = string
}

variable "user_data" {
  description = "The boot script (plain text; encoded here)."
  type        = string
}

variable "policy_json" {
  description = "IAM policy of the instances' role (besides SSM management)."
  type        = string
}

variable "min_size" {
  description = "Fewest instances."
  type        = number
}

variable "desired_capacity" {
  description = "Instances to run now."
  type        = number
}

variable "max_size" {
  description = "Most instances."
  type        = number
}

variable "target_group_arns" {
  description = "Load balancer target groups the instances join; with any, the load balancer's health checks decide an instance's health."
  type        = list(string)
  default     = []
}

variable "min_healthy_percentage" {
  description = "Instance refreshes keep at least this share of the group in service."
  type        = number
}

variable "max_healthy_percentage" {
  description = "Instance refreshes may run up to this share (above 100: a new instance starts before an old one stops)."
  type        = number
  default     = 100
}

variable "kms_key_arn" {
  description = "KMS key of the root volumes; null: the account's default EBS key."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags on every resource."
  type        = map(string)
  default     = {}
}
