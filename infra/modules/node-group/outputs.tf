output "autoscaling_group_name" {
  description = "The group (instance refreshes roll a release out)."
  value       = aws_autoscaling_group.this.name
}

output "role_name" {
  description = "The instances' IAM role."
  value       = aws_iam_role.this.name
}
