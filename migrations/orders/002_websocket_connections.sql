-- Each function runs in its own worker (and on AWS its own container), so open sockets live here.
CREATE TABLE websocket_connections (
  connection_id TEXT PRIMARY KEY,
  user_id       UUID NOT NULL,
  connected_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX websocket_connections_by_user ON websocket_connections (user_id);
