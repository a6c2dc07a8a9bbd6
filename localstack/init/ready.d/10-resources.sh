#!/bin/bash
# LocalStack ready hook: the SSM parameters the stack would read on AWS (see ../../README.md).
set -euo pipefail

stage="${STAGE:-dev}"
prefix="/gozon/${stage}"

put() {
  awslocal ssm put-parameter --overwrite --name "$1" --type "$2" --value "$3" > /dev/null
  echo "ssm: $1 ($2)"
}

put "${prefix}/orders-database-url" String "${ORDERS_DATABASE_URL:-postgres://postgres:postgres@orders-db:5432/orders}"
put "${prefix}/payments-database-url" String "${PAYMENTS_DATABASE_URL:-postgres://postgres:postgres@payments-db:5432/payments}"
put "${prefix}/kafka-brokers" String "${KAFKA_BROKERS:-kafka:9092}"
# For reference only: the topics local/stack.ts creates (auto-creation is off on the broker).
put "${prefix}/kafka-topics" StringList "orders.created,orders.created.dlt,payments.processed,payments.processed.dlt,payments.balance-updated,payments.balance-updated.dlt"
