# Least-privilege IAM policy documents for the claim-check's producers and consumers, ready to attach: object
# actions on this bucket's objects only, and the KMS action each needs on the payload key.
#
# - writer (producers): s3:PutObject, and kms:GenerateDataKey (SSE-KMS encrypts every new object).
# - reader (consumers): s3:GetObject and kms:Decrypt; reader_deleting adds s3:DeleteObject, for consumers whose
#   claim_check middleware runs with delete_after_processing.
# Versioning is on, so a delete leaves a noncurrent version that the lifecycle rule expires; no reader may delete
# versions (s3:DeleteObjectVersion is not granted).

locals {
  bucket_objects = "${aws_s3_bucket.this.arn}/*"
  writer_policy = {
    Version = "2012-10-17"
    Statement = [
      { Sid = "PutPayloads", Effect = "Allow", Action = ["s3:PutObject"], Resource = local.bucket_objects },
      { Sid = "EncryptPayloads", Effect = "Allow", Action = ["kms:GenerateDataKey"], Resource = local.kms_key_arn },
    ]
  }
  reader_statements = [
    { Sid = "GetPayloads", Effect = "Allow", Action = ["s3:GetObject"], Resource = local.bucket_objects },
    { Sid = "DecryptPayloads", Effect = "Allow", Action = ["kms:Decrypt"], Resource = local.kms_key_arn },
  ]
}

output "writer_policy_json" {
  description = "IAM policy document (JSON) for producers: s3:PutObject on this bucket's objects and kms:GenerateDataKey on the payload key."
  value       = jsonencode(local.writer_policy)
}

output "reader_policy_json" {
  description = "IAM policy document (JSON) for consumers: s3:GetObject on this bucket's objects and kms:Decrypt on the payload key."
  value       = jsonencode({ Version = "2012-10-17", Statement = local.reader_statements })
}

output "reader_deleting_policy_json" {
  description = "IAM policy document (JSON) for consumers that delete payloads after processing: reader_policy_json plus s3:DeleteObject."
  value = jsonencode({
    Version   = "2012-10-17"
    Statement = concat(local.reader_statements, [{ Sid = "DeleteProcessedPayloads", Effect = "Allow", Action = ["s3:DeleteObject"], Resource = local.bucket_objects }])
  })
}
