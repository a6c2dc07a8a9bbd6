import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A stand-in for Secrets Manager (the real one needs an AWS account): an HTTP server speaking the
 * part of its JSON protocol the functions use, GetSecretValue, answering with the JSON RDS keeps in
 * a managed secret. The real SDK client talks to it, so requests are signed and parsed as on AWS.
 */
export class SecretsManagerStandIn {
  username = "orders_app";
  password = "first-password";
  hang = false;
  reads: string[] = [];
  private server: Server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", () => {
      if (request.headers["x-amz-target"] !== "secretsmanager.GetSecretValue") {
        response.writeHead(400, { "content-type": "application/x-amz-json-1.1" });
        return response.end(JSON.stringify({ __type: "UnknownOperationException" }));
      }
      const { SecretId } = JSON.parse(body) as { SecretId: string };
      this.reads.push(SecretId);
      if (this.hang) return; // never answers
      response.writeHead(200, { "content-type": "application/x-amz-json-1.1" });
      response.end(
        JSON.stringify({
          ARN: SecretId,
          Name: SecretId.split(":").at(-1),
          VersionId: `v${this.reads.length}`,
          SecretString: JSON.stringify({ username: this.username, password: this.password }),
        }),
      );
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
