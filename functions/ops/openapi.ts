import { httpHandler } from "../../shared/handlers/http.ts";
import { openApiDocument } from "../../shared/http/openapi.ts";

// Built once per container: the document only changes with the code.
const document = openApiDocument();

/** Anonymous, at DOCUMENT_PATH. */
export const handler = httpHandler(async () => ({ status: 200, body: document }));
