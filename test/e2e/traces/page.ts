/** An order placed on the page, found in Zipkin's own page. */
import { it } from "node:test";
import type { Browser } from "playwright-core";
import { launchChromium } from "../../support/browser.ts";
import { tracesHelpers, type TracesStack } from "./context.ts";

export function pageTraceTests(t: TracesStack): void {
  const { traceWith, one, service } = tracesHelpers(t);
  it("links an order placed on the page to its trace, which Zipkin's own page shows across the functions", async () => {
    const { stack } = t;
    let browser: Browser | undefined;
    try {
      browser = await launchChromium();
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      await page.goto(stack.frontendUrl);
      await page.locator("#connection-state", { hasText: "live" }).waitFor();
      await page.fill("#deposit-amount", "1000");
      await page.click("#deposit");
      await page.locator("#balance", { hasText: "1000" }).waitFor();
      await page.fill("#order-description", "blue teapot");
      await page.fill("#order-amount", "300");
      await page.click("#place-order");
      const row = page.locator("#orders [data-order-id]").first();
      await row.locator(".status", { hasText: "FINISHED" }).waitFor();
      const orderId = (await row.getAttribute("data-order-id"))!;
      const spans = await traceWith(orderId, ["push order_updated"]);
      const traceId = one(spans, "post /api/orders").traceId;

      // The link, as a person follows it: to Zipkin's own page of this trace.
      const [viewer] = await Promise.all([page.context().waitForEvent("page"), row.locator("a.trace-link").click()]);
      await viewer!.setViewportSize({ width: 1400, height: 900 });
      await viewer!.waitForURL(new URL(`traces/${traceId}`, stack.tracesUrl).href);
      // The waterfall names each span with the function that recorded it.
      for (const [fn, name] of [
        ["createOrder", "post /api/orders"],
        ["ordersOutboxRelay", "send orders.created"],
        ["onOrderCreated", "process orders.created"],
        ["paymentsOutboxRelay", "send payments.processed"],
        ["onPaymentProcessed", "process payments.processed"],
        ["onPaymentProcessed", "push order_updated"],
      ]) {
        await viewer!
          .getByText(`${service(fn!)}: ${name}`, { exact: true })
          .first()
          .waitFor({ timeout: 20_000 });
      }
      await viewer!.screenshot({ path: "test-results/trace.png" });
    } finally {
      await browser?.close();
    }
  });
}
