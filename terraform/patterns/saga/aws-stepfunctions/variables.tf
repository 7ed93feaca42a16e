# This root's own inputs. The module inputs it passes through are generated into module_inputs.tf by
# `edakit docs`, from the modules themselves.

variable "environment" {
  description = "Deployment environment (e.g. staging, prod); tags or labels every resource."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,31}$", var.environment))
    error_message = "environment must be 1-32 lowercase letters, digits or hyphens, starting with a letter (e.g. \"staging\")."
  }
}

variable "region" {
  description = "AWS Region of every resource of this root."
  type        = string
  default     = "eu-west-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must be an AWS Region code such as \"eu-west-1\"."
  }
}
