-- The latest balance of each user as announced on payments.balance-updated: what the WebSocket
-- snapshot shows, without reading the payments database.
CREATE TABLE known_balances (
  user_id    UUID PRIMARY KEY,
  balance    BIGINT NOT NULL,
  version    BIGINT NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
