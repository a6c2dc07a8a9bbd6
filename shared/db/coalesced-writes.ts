import type pg from "pg";

/**
 * Lets the statements a connection is given within one tick leave in one write: the first corks
 * its socket, and it is uncorked once the tick's work is done. The connection pipelines (see
 * withTransaction), so a batch's statements, or an outbox insert and its COMMIT, are sent
 * together; a write is a system call, and on loopback it costs more than building the statements.
 * (The socket is node-postgres's `connection.stream`; without one, writes simply go one by one.)
 */
export function writesTogether(client: pg.PoolClient): () => void {
  const socket = (client as unknown as { connection?: { stream?: { cork?(): void; uncork?(): void } } }).connection
    ?.stream;
  let corked = false;
  return () => {
    if (corked || !socket?.cork || !socket.uncork) return;
    corked = true;
    socket.cork();
    process.nextTick(() => {
      corked = false;
      socket.uncork!();
    });
  };
}
