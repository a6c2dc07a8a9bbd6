import { httpHandler } from "../../shared/http/handler.ts";
import { openApiDocument } from "../../shared/http/openapi.ts";

export const handler = httpHandler(async () => ({ status: 200, body: openApiDocument() }));
