# This root's own inputs. The module inputs it passes through are generated into module_inputs.tf by
# `edakit docs`, from the modules themselves.

variable "environment" {
  description = "Deployment environment (e.g. staging, prod); topic names rendered for it should mention it."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,31}$", var.environment))
    error_message = "environment must be 1-32 lowercase letters, digits or hyphens, starting with a letter (e.g. \"staging\")."
  }
}

variable "bootstrap_servers" {
  description = "Brokers the provider connects to, as host:port. Credentials come from KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD / KAFKA_SASL_MECHANISM, never from a var file."
  type        = list(string)

  validation {
    condition     = length(var.bootstrap_servers) > 0 && alltrue([for server in var.bootstrap_servers : can(regex("^[^:/\\s]+:[0-9]{1,5}$", server))])
    error_message = "bootstrap_servers must list at least one broker as host:port, e.g. [\"kafka-1.internal:9092\"]."
  }
}
