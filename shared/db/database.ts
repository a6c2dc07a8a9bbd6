/** The two databases, each with its own outbox and relay. */
export type Database = "orders" | "payments";
