# Failed payments with DLQs and redrive, by hand; `edakit render configs/order-redrive.yaml` writes the same shape.
name = "payments-staging-payment-failed"

subscribers = {
  dunning = { max_receive_count = 3, dlq_message_retention_seconds = 1209600 }
  support = { max_receive_count = 5, dlq_message_retention_seconds = 1209600 }
}
