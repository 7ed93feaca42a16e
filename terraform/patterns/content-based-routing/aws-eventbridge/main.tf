provider "aws" {
  region = var.region

  default_tags {
    tags = {
      environment = var.environment
      pattern     = "content-based-routing"
      managed-by  = "eda-kit"
    }
  }
}

module "routing" {
  source = "../../../modules/aws-eventbridge-routing"

  name                      = var.name
  kms_key_identifier        = var.kms_key_identifier
  dead_letter_kms_key_id    = var.dead_letter_kms_key_id
  archive                   = var.archive
  routes                    = var.routes
  alarm_actions             = var.alarm_actions
  dead_letter_alarm_actions = var.dead_letter_alarm_actions # deprecated alias, passed on for one release
  tags                      = var.tags
}

# Rendered var files carry environment-specific names; applying staging's file with environment=prod is a mistake.
check "names_match_environment" {
  assert {
    condition     = strcontains(var.name, var.environment)
    error_message = "bus name \"${var.name}\" does not mention environment \"${var.environment}\": is this the var file rendered for ${var.environment}?"
  }
}
