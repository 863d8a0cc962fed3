output "identifier" {
  description = "RDS instance identifier (notejam-<env>)."
  value       = aws_db_instance.this.identifier
}

output "arn" {
  description = "ARN of the instance."
  value       = aws_db_instance.this.arn
}

output "address" {
  description = "Host name of the instance endpoint."
  value       = aws_db_instance.this.address
}

output "port" {
  description = "Port of the instance."
  value       = aws_db_instance.this.port
}

output "allocated_storage_gib" {
  description = "Storage allocated at creation, in GiB."
  value       = aws_db_instance.this.allocated_storage
}

output "security_group_id" {
  description = "Security group of the database."
  value       = aws_security_group.this.id
}

output "subnet_group_name" {
  description = "DB subnet group (restores reuse it)."
  value       = aws_db_subnet_group.this.name
}

output "parameter_group_name" {
  description = "DB parameter group (restores reuse it)."
  value       = aws_db_parameter_group.this.name
}

output "kms_key_arn" {
  description = "The environment's data key: database storage, Performance Insights and SecureString parameters."
  value       = aws_kms_key.this.arn
}

output "parameter_path" {
  description = "SSM path holding host, port, name, username and password."
  value       = local.param_prefix
}
