variable "bucket" {
  description = "Name of the S3 bucket holding claim-check payloads."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket)) && !can(regex("\\.\\.|^xn--|-s3alias$|--ol-s3$|^\\d+\\.\\d+\\.\\d+\\.\\d+$", var.bucket))
    error_message = "bucket must be a valid S3 bucket name: 3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit, not an IP address, no \"..\", not starting with xn-- or ending in -s3alias/--ol-s3."
  }
}

variable "payload_expiration_days" {
  description = "Days after which payloads (and their noncurrent versions) are deleted."
  type        = number
  default     = 30

  validation {
    condition     = var.payload_expiration_days >= 1 && floor(var.payload_expiration_days) == var.payload_expiration_days
    error_message = "payload_expiration_days must be a whole number of days, at least 1."
  }
}

variable "max_message_retention_seconds" {
  description = "Longest time a message carrying a claim check can live in any queue, topic or DLQ (incl. redrive). Payloads must outlive it, or a late or redriven message points at a deleted payload."
  type        = number
  default     = 1209600

  validation {
    condition     = var.max_message_retention_seconds <= var.payload_expiration_days * 86400
    error_message = "payload_expiration_days is shorter than max_message_retention_seconds: a message could outlive its payload. Raise payload_expiration_days to at least ceil(max_message_retention_seconds / 86400)."
  }
}

variable "kms_key_arn" {
  description = "KMS key for SSE-KMS; null creates a dedicated key with rotation. Producers need kms:GenerateDataKey on it, consumers kms:Decrypt."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID); aliases are not accepted by bucket encryption."
  }
}

variable "access_log_bucket" {
  description = "Bucket receiving S3 server access logs (prefix BUCKET/); null disables access logging (an empty string is refused, not read as null)."
  type        = string
  default     = null

  validation {
    condition     = var.access_log_bucket == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", coalesce(var.access_log_bucket, "-")))
    error_message = "access_log_bucket must be an S3 bucket name (3-63 lowercase letters, digits, dots and hyphens), or null to disable access logging."
  }
}

variable "tags" {
  description = "Tags applied to every resource that takes them."
  type        = map(string)
  default     = {}
}
