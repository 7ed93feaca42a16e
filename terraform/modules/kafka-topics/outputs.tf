output "topic_names" {
  description = "Names of the topics declared in var.topics."
  value       = sort([for name in keys(var.topics) : kafka_topic.this[name].name])
}

output "retry_topic_names" {
  description = "Retry topics by consumer group and source topic, in retry order: `<topic>.<group>.retry.<n>`."
  value = {
    for group in keys(var.consumer_groups) : group => {
      for c in local.consumer_topics : c.topic => c.retry_topics if c.group == group
    }
  }
}

output "dead_letter_topic_names" {
  description = "Dead-letter topics by consumer group and source topic: `<topic>.<group>.dlq`."
  value = {
    for group in keys(var.consumer_groups) : group => {
      for c in local.consumer_topics : c.topic => c.dlq_topic if c.group == group
    }
  }
}

output "dlq_topic_names" {
  description = "Deprecated: use dead_letter_topic_names."
  value = {
    for group in keys(var.consumer_groups) : group => {
      for c in local.consumer_topics : c.topic => c.dlq_topic if c.group == group
    }
  }
}

output "acls" {
  description = "ACLs created, as `<principal>|<operation>|<resource type>|<resource name>` (the provider's import id without host, permission and pattern)."
  value       = sort(keys(kafka_acl.this))
}
