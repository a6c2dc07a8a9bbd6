import { httpHandler } from "../../shared/handlers/http.ts";
import { checkHealth } from "../../shared/ops/health.ts";

/** Anonymous (as the OpenAPI document says): up or down per component, nothing more. */
export const handler = httpHandler(async () => {
  const report = await checkHealth();
  return { status: report.status === "ok" ? 200 : 503, body: report };
});
