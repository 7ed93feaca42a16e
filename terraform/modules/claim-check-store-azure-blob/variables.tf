variable "storage_account_name" {
  description = "Name of the storage account holding claim-check payloads (globally unique)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]{3,24}$", var.storage_account_name))
    error_message = "storage_account_name must be 3-24 lowercase letters and digits."
  }
}

variable "resource_group_name" {
  description = "Resource group of the storage account."
  type        = string
}

variable "location" {
  description = "Azure region, e.g. westeurope."
  type        = string
}

variable "container_name" {
  description = "Private blob container for the payloads."
  type        = string
  default     = "claim-checks"

  validation {
    condition     = can(regex("^[a-z0-9](?:[a-z0-9]|-[a-z0-9]){2,62}$", var.container_name))
    error_message = "container_name must be 3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit."
  }
}

variable "account_replication_type" {
  description = "Redundancy of the account: LRS, ZRS, GRS, RAGRS, GZRS or RAGZRS."
  type        = string
  default     = "ZRS"

  validation {
    condition     = contains(["LRS", "ZRS", "GRS", "RAGRS", "GZRS", "RAGZRS"], var.account_replication_type)
    error_message = "account_replication_type must be one of LRS, ZRS, GRS, RAGRS, GZRS, RAGZRS."
  }
}

variable "payload_expiration_days" {
  description = "Days after which payloads (and their previous versions) are deleted."
  type        = number
  default     = 30

  validation {
    condition     = var.payload_expiration_days >= 1 && floor(var.payload_expiration_days) == var.payload_expiration_days
    error_message = "payload_expiration_days must be a whole number of days, at least 1."
  }
}

variable "max_message_retention_seconds" {
  description = "Longest time a message carrying a claim check can live in any queue, topic or dead-letter store (incl. redrive). Payloads must outlive it."
  type        = number
  default     = 1209600

  validation {
    condition     = var.max_message_retention_seconds <= var.payload_expiration_days * 86400
    error_message = "payload_expiration_days is shorter than max_message_retention_seconds: a message could outlive its payload. Raise payload_expiration_days to at least ceil(max_message_retention_seconds / 86400)."
  }
}

variable "writer_principal_ids" {
  description = "Entra ID principals (object ids) of producers: Storage Blob Data Contributor on the container."
  type        = list(string)
  default     = []
}

variable "reader_principal_ids" {
  description = "Entra ID principals (object ids) of consumers: Storage Blob Data Reader on the container."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags applied to every resource that takes them."
  type        = map(string)
  default     = {}
}
