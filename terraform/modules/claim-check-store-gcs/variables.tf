variable "project_id" {
  description = "Project that owns the bucket."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a Google Cloud project ID: 6-30 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "bucket" {
  description = "Name of the Cloud Storage bucket holding claim-check payloads (globally unique)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9_-]{1,61}[a-z0-9]$", var.bucket)) && !startswith(var.bucket, "goog") && !strcontains(var.bucket, "google")
    error_message = "bucket must be 3-63 lowercase letters, digits, - and _, start and end with a letter or digit, and not start with \"goog\" or contain \"google\"."
  }
}

variable "location" {
  description = "Bucket location: a region (europe-west1), dual-region or multi-region (EU)."
  type        = string
}

variable "payload_expiration_days" {
  description = "Days after which payloads are deleted; noncurrent versions are deleted the same number of days after they were replaced."
  type        = number
  default     = 30

  validation {
    condition     = var.payload_expiration_days >= 1 && floor(var.payload_expiration_days) == var.payload_expiration_days
    error_message = "payload_expiration_days must be a whole number of days, at least 1."
  }
}

variable "max_message_retention_seconds" {
  description = "Longest time a message carrying a claim check can live in any topic, subscription or dead-letter topic (incl. redrive). Payloads must outlive it."
  type        = number
  default     = 604800

  validation {
    condition     = var.max_message_retention_seconds <= var.payload_expiration_days * 86400
    error_message = "payload_expiration_days is shorter than max_message_retention_seconds: a message could outlive its payload. Raise payload_expiration_days to at least ceil(max_message_retention_seconds / 86400)."
  }
}

variable "kms_key_name" {
  description = "Cloud KMS key (CMEK) for payloads; null uses Google-managed encryption. The Cloud Storage service agent is granted encrypt/decrypt on it."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_name == null || can(regex("^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$", var.kms_key_name))
    error_message = "kms_key_name must be a full key name: projects/PROJECT/locations/LOCATION/keyRings/RING/cryptoKeys/KEY."
  }
}

variable "log_bucket" {
  description = "Bucket receiving usage and storage logs; null disables them (an empty string is refused, not read as null)."
  type        = string
  default     = null

  validation {
    condition     = var.log_bucket == null || can(regex("^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$", coalesce(var.log_bucket, "-")))
    error_message = "log_bucket must be a Cloud Storage bucket name (lowercase letters, digits, -, _ and ., starting and ending with a letter or digit), or null to disable usage logs."
  }
}

variable "object_creators" {
  description = "IAM members of producers (e.g. serviceAccount:orders@PROJECT.iam.gserviceaccount.com): roles/storage.objectCreator."
  type        = list(string)
  default     = []
}

variable "object_viewers" {
  description = "IAM members of consumers: roles/storage.objectViewer."
  type        = list(string)
  default     = []
}

variable "labels" {
  description = "Labels of the bucket."
  type        = map(string)
  default     = {}
}
