import { httpHandler } from "../../shared/handlers/http.ts";
import { checkHealth } from "../../shared/ops/health.ts";

export const handler = httpHandler(async () => {
  const report = await checkHealth();
  return { status: report.status === "ok" ? 200 : 503, body: report };
});
