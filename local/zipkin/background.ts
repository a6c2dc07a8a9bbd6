import { Supervisor, type SupervisorHooks } from "../core/supervisor.ts";
import { ensureZipkin } from "./install.ts";
import { zipkinLogFile, zipkinPart, zipkinUiUrl } from "./part.ts";

export interface BackgroundZipkinOptions {
  dir: string;
  port: number;
  progress: (line: string) => void;
  record: SupervisorHooks["record"];
  /** Aborted when the stack stops: ends a download under way, and a failure then goes untold. */
  signal: AbortSignal;
}

export interface BackgroundZipkin {
  supervisor: Supervisor;
  /** Installs (the first time) and starts it; says in one line how that went, and rejects if it failed. */
  start(): Promise<void>;
}

/**
 * Zipkin serves whoever reads traces, not the shop: it is started once the shop serves, no one
 * waits for it, and one that cannot be brought back leaves the shop running.
 */
export function backgroundZipkin(options: BackgroundZipkinOptions): BackgroundZipkin {
  const { dir, progress, signal } = options;
  let serves = false;
  const supervisor = new Supervisor(zipkinPart({ dir, port: options.port, log: progress, signal }), {
    say: (line) => {
      // The first start's attempts are summed up in one line (start()); its deaths later are told as any part's.
      if (serves) progress(line);
    },
    record: options.record,
    giveUp: () => progress("! the shop runs on without Zipkin: the functions' spans are dropped"),
  });
  const start = async () => {
    const since = Date.now();
    let installed = false;
    try {
      // A first download takes longer than any start should: it is not bounded by the part's start time.
      await ensureZipkin(progress, { signal });
      installed = true;
      await supervisor.start();
      serves = true;
      progress(
        `✓ Zipkin on ${zipkinUiUrl(options.port)} (${((Date.now() - since) / 1000).toFixed(1)} s after the shop)`,
      );
    } catch (error) {
      if (!signal.aborted) {
        const why = (error instanceof Error ? error.message : String(error)).split("\n")[0];
        progress(
          `! Zipkin did not start, so the shop runs without traces (the functions' spans are dropped): ${why}${installed ? ` (its log: ${zipkinLogFile(dir)})` : ""}`,
        );
      }
      throw error;
    }
  };
  return { supervisor, start };
}
