output "arn" {
  description = "ARN of the ALB."
  value       = aws_lb.this.arn
}

output "arn_suffix" {
  description = "LoadBalancer dimension of the ALB's CloudWatch metrics."
  value       = aws_lb.this.arn_suffix
}

output "dns_name" {
  description = "DNS name of the ALB (point the app's domain here)."
  value       = aws_lb.this.dns_name
}

output "zone_id" {
  description = "Route 53 zone of the ALB, for alias records."
  value       = aws_lb.this.zone_id
}

output "security_group_id" {
  description = "Security group of the ALB (the web tier admits only it)."
  value       = aws_security_group.this.id
}

output "target_group_arn" {
  description = "ARN of the web target group."
  value       = aws_lb_target_group.web.arn
}

output "target_group_name" {
  description = "Name of the web target group (CodeDeploy refers to it by name)."
  value       = aws_lb_target_group.web.name
}

output "target_group_arn_suffix" {
  description = "TargetGroup dimension of the target group's CloudWatch metrics."
  value       = aws_lb_target_group.web.arn_suffix
}

output "url" {
  description = "Base URL of the app."
  value       = "${var.certificate_arn == null ? "http" : "https"}://${aws_lb.this.dns_name}/"
}

output "web_acl_arn" {
  description = "ARN of the WAF web ACL, or null when WAF is off."
  value       = var.waf_enabled ? aws_wafv2_web_acl.this[0].arn : null
}
