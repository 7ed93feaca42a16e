# One queue shared by the fulfilment workers, by hand; `edakit render configs/order-workers.yaml` writes the same shape.
name = "orders-staging-order-placed"

subscribers = {
  fulfilment = {
    # Well above the workers' processing time: a slow attempt is not handed to a second worker.
    visibility_timeout_seconds = 360
    max_receive_count          = 5
  }
}
