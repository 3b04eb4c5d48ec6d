-- The delivery log's "failed" filter (GET …/webhook-endpoints/{id}/deliveries?status=failed,
-- turnup webhook deliveries --status failed): failed deliveries are few among an
-- endpoint's succeeded ones, and without an index of their own a page of them (or the
-- answer that there are none) read every delivery of the endpoint, newest first:
-- 120 ms at 300,000. The log's statement names the state as text, so that this
-- index's predicate is proven for it (WebhookDeliveryLog.list).
CREATE INDEX webhook_deliveries_failed ON webhook_deliveries (endpoint_id, id) WHERE status = 'failed';
