# Order documents by claim check, by hand; `edakit render configs/order-claim-check.yaml` writes the same shape.
name = "orders-staging-order-documents"

subscribers = {
  invoicing = { visibility_timeout_seconds = 300 }
  archive   = { visibility_timeout_seconds = 120 }
}

payload_expiration_days = 15
# The DLQs keep messages 14 days (the module's default); payloads must outlive them.
max_message_retention_seconds = 1209600
