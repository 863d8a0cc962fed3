output "name" {
  description = "Bucket name."
  value       = aws_s3_bucket.this.id
}

output "arn" {
  description = "Bucket ARN."
  value       = aws_s3_bucket.this.arn
}

output "policy_id" {
  description = "ID of the bucket policy, for callers that must wait for it."
  value       = aws_s3_bucket_policy.this.id
}
