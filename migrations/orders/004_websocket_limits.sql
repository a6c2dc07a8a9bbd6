-- When the connection last asked for a snapshot: syncs faster than one a second are refused.
ALTER TABLE websocket_connections ADD COLUMN last_sync_at TIMESTAMPTZ;
