CREATE TABLE accounts (
  user_id    UUID PRIMARY KEY,
  balance    BIGINT NOT NULL DEFAULT 0 CHECK (balance >= 0),
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Every balance change, signed. At most one charge per order, enforced by the database itself.
CREATE TABLE ledger (
  id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id    UUID NOT NULL REFERENCES accounts (user_id),
  kind       TEXT NOT NULL CHECK (kind IN ('DEPOSIT', 'CHARGE')),
  amount     BIGINT NOT NULL,
  order_id   UUID,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  CHECK ((kind = 'DEPOSIT' AND amount > 0 AND order_id IS NULL) OR (kind = 'CHARGE' AND amount < 0 AND order_id IS NOT NULL))
);
CREATE UNIQUE INDEX ledger_one_charge_per_order ON ledger (order_id) WHERE kind = 'CHARGE';
CREATE INDEX ledger_by_user ON ledger (user_id);

-- The outcome of each order's payment, also what a redelivered event would have produced.
CREATE TABLE payments (
  order_id    UUID PRIMARY KEY,
  user_id     UUID NOT NULL,
  amount      BIGINT NOT NULL,
  status      TEXT NOT NULL CHECK (status IN ('FINISHED', 'CANCELLED')),
  reason      TEXT,
  processed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
