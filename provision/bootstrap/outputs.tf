output "state_bucket" {
  description = "Bucket to pass as -backend-config=bucket=... to every other root."
  value       = aws_s3_bucket.state.id
}

output "state_kms_key_arn" {
  description = "KMS key encrypting the state."
  value       = aws_kms_key.state.arn
}

output "region" {
  description = "Region of the state bucket (-backend-config=region=...)."
  value       = data.aws_region.current.region
}
