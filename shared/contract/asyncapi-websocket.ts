import { z } from "zod";
import { balanceUpdatedFrame, orderUpdatedFrame, problemFrame, snapshotFrame } from "./frames.ts";
import { userQuery } from "./http.ts";
import { BINDING_VERSION, ref, schemaOf } from "./asyncapi-parts.ts";

/** What a page sends on its socket: API Gateway routes it by `action` (the manifest: wsSync's `sync` route). */
export const syncRequest = z.object({ action: z.literal("sync") });

/** The WebSocket API's part of the AsyncAPI document: its channel, frames and operations. */
export function websocketPart(
  channels: Record<string, unknown>,
  operations: Record<string, unknown>,
  messages: Record<string, unknown>,
  schemas: Record<string, unknown>,
): void {
  const frames = {
    OrderUpdated: orderUpdatedFrame,
    BalanceUpdated: balanceUpdatedFrame,
    Snapshot: snapshotFrame,
    Problem: problemFrame,
  } as const;
  const frameSummaries: Record<keyof typeof frames, string> = {
    OrderUpdated: "An order of the user reached FINISHED or CANCELLED (after payments answered).",
    BalanceUpdated: "The user's balance changed (account opened, deposit; a charge's rides on ORDER_UPDATED).",
    Snapshot: 'Everything the page shows, in answer to {"action":"sync"}.',
    Problem: "A frame the server refused (too large, syncs too fast, not a known action), as problem details.",
  };
  for (const [name, schema] of Object.entries(frames) as Array<[keyof typeof frames, z.ZodType]>) {
    schemas[`${name}Frame`] = schemaOf(schema, schemas);
    messages[`${name}Frame`] = {
      name: `${name}Frame`,
      title: `${name} frame`,
      summary: frameSummaries[name],
      contentType: "application/json",
      payload: ref(`#/components/schemas/${name}Frame`),
    };
  }
  schemas.SyncRequest = schemaOf(syncRequest, schemas, "input");
  messages.SyncRequest = {
    name: "SyncRequest",
    title: "Sync request",
    summary: "Sent by a page that (re)connected: the server answers with a SNAPSHOT frame on the same connection.",
    contentType: "application/json",
    payload: ref("#/components/schemas/SyncRequest"),
  };
  channels.notifications = {
    address: "/",
    title: "WebSocket notifications",
    description:
      "One connection per open page, opened with ?token=<Cognito access token> (with AUTH=off: ?user_id=<uuid>). Every open page of a user gets the frames about that user, pushed after the change committed. A frame can be missed (a page reconnecting); sync answers with the whole picture.",
    servers: [ref("#/servers/localWebSocket"), ref("#/servers/awsWebSocket")],
    messages: {
      OrderUpdatedFrame: ref("#/components/messages/OrderUpdatedFrame"),
      BalanceUpdatedFrame: ref("#/components/messages/BalanceUpdatedFrame"),
      SnapshotFrame: ref("#/components/messages/SnapshotFrame"),
      ProblemFrame: ref("#/components/messages/ProblemFrame"),
      SyncRequest: ref("#/components/messages/SyncRequest"),
    },
    bindings: { ws: { query: schemaOf(userQuery, schemas, "input"), bindingVersion: BINDING_VERSION.ws } },
  };
  const pushed = (title: string, summary: string, message: string) => ({
    action: "send",
    channel: ref("#/channels/notifications"),
    title,
    summary,
    messages: [ref(`#/channels/notifications/messages/${message}`)],
  });
  operations.pushOrderUpdated = pushed(
    "Push ORDER_UPDATED",
    "onPaymentProcessed, after it settled the order: one frame per order, which carries the balance the payment left (balance, balance_version) when money was taken.",
    "OrderUpdatedFrame",
  );
  operations.pushBalanceUpdated = pushed(
    "Push BALANCE_UPDATED",
    "onBalanceUpdated, after it recorded a newer balance from an account opening or a deposit (a charge's balance rides on ORDER_UPDATED).",
    "BalanceUpdatedFrame",
  );
  operations.refuseFrame = pushed(
    "Refuse a frame",
    "wsSync and the $default route, when a frame is too large, comes too fast or names no known action.",
    "ProblemFrame",
  );
  operations.sync = {
    action: "receive",
    channel: ref("#/channels/notifications"),
    title: "Sync",
    summary: "wsSync: the page asks for the whole picture; the answer goes to the same connection.",
    messages: [ref("#/channels/notifications/messages/SyncRequest")],
    reply: {
      channel: ref("#/channels/notifications"),
      messages: [ref("#/channels/notifications/messages/SnapshotFrame")],
    },
  };
}
