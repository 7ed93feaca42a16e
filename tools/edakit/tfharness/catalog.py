"""Which providers the harness serves and which of their resources the kit's modules use.

Adding a resource: add its name below, then run `python -m edakit.tfharness.extract`
(hand-written providers: edit their JSON).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Provider:
    namespace: str
    type: str
    version: str
    # PyPI wheel whose JSII assembly carries this provider version; None = schema written by hand from the docs.
    cdktf_wheel: str | None
    resources: tuple[str, ...] = field(default=())
    data_sources: tuple[str, ...] = field(default=())

    @property
    def source(self) -> str:
        return f"registry.terraform.io/{self.namespace}/{self.type}"


PROVIDERS: dict[str, Provider] = {
    "aws": Provider(
        "hashicorp", "aws", "6.25.0", "cdktf-cdktf-provider-aws==21.22.1",
        resources=(
            "aws_sns_topic", "aws_sns_topic_subscription", "aws_sns_topic_policy",
            "aws_sqs_queue", "aws_sqs_queue_policy", "aws_sqs_queue_redrive_policy",
            "aws_sqs_queue_redrive_allow_policy",
            "aws_cloudwatch_metric_alarm", "aws_cloudwatch_log_group", "aws_cloudwatch_dashboard",
            "aws_cloudwatch_log_metric_filter",
            "aws_kms_key", "aws_kms_alias", "aws_kms_key_policy",
            "aws_cloudwatch_event_bus", "aws_cloudwatch_event_rule", "aws_cloudwatch_event_target",
            "aws_cloudwatch_event_archive",
            "aws_s3_bucket", "aws_s3_bucket_public_access_block",
            "aws_s3_bucket_server_side_encryption_configuration", "aws_s3_bucket_lifecycle_configuration",
            "aws_s3_bucket_policy", "aws_s3_bucket_versioning", "aws_s3_bucket_ownership_controls",
            "aws_s3_bucket_logging",
            "aws_sfn_state_machine",
            "aws_iam_role", "aws_iam_role_policy", "aws_iam_policy", "aws_iam_role_policy_attachment",
            "aws_lambda_permission",
        ),
        data_sources=("aws_iam_policy_document", "aws_caller_identity", "aws_region", "aws_partition"),
    ),
    "azurerm": Provider(
        "hashicorp", "azurerm", "4.55.0", "cdktf-cdktf-provider-azurerm==14.23.1",
        resources=(
            "azurerm_resource_group", "azurerm_eventgrid_topic", "azurerm_eventgrid_event_subscription",
            "azurerm_eventgrid_system_topic", "azurerm_storage_account", "azurerm_storage_container",
            "azurerm_storage_queue", "azurerm_role_assignment", "azurerm_user_assigned_identity",
            "azurerm_monitor_metric_alert", "azurerm_monitor_action_group", "azurerm_storage_management_policy",
        ),
        data_sources=("azurerm_client_config", "azurerm_resource_group"),
    ),
    "google": Provider(
        "hashicorp", "google", "6.50.0", "cdktf-cdktf-provider-google==16.12.1",
        resources=(
            "google_pubsub_topic", "google_pubsub_subscription", "google_pubsub_schema",
            "google_pubsub_topic_iam_member", "google_pubsub_subscription_iam_member",
            "google_monitoring_alert_policy", "google_monitoring_dashboard",
            "google_storage_bucket", "google_storage_bucket_iam_member", "google_kms_crypto_key_iam_member",
        ),
        data_sources=("google_project",),
    ),
    "kafka": Provider("Mongey", "kafka", "0.13.1", None, resources=("kafka_topic", "kafka_acl", "kafka_quota")),
}
