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
