terraform {
  # 1.9: validation blocks that refer to other variables (cross-field rules below).
  required_version = ">= 1.9"

  required_providers {
    kafka = {
      source  = "Mongey/kafka"
      version = "~> 0.13"
    }
  }
}
