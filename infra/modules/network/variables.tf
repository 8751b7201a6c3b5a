variable "name" {
  description = "Name of the VPC and prefix of its parts, e.g. chat-eu-west-1."
  type        = string
}

variable "cidr_block" {
  description = "The VPC's network, a /16: private subnets get /19s, public ones /22s."
  type        = string
}

variable "azs" {
  description = "Availability zones, one private and one public subnet in each."
  type        = list(string)
  validation {
    condition     = length(var.azs) >= 3 && length(var.azs) <= 3
    error_message = "Three availability zones."
  }
}

variable "flow_log_retention_days" {
  description = "Days the VPC's flow logs are kept."
  type        = number
  default     = 365
}

variable "kms_key_arn" {
  description = "KMS key of the flow log group; null: the account's CloudWatch default encryption."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags on every resource."
  type        = map(string)
  default     = {}
}
