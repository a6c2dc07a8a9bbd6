/** The page, driven in headless Chromium against the suite's stack. */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { launchChromium } from "../../support/browser.ts";
import { testPool } from "../../support/database.ts";
import { eventually } from "../../support/shop-client.ts";
import type { ShopStack } from "./context.ts";

export function pageTests(s: ShopStack): void {
  describe("the page, driven in headless Chromium", () => {
    let browser: Browser;
    before(async () => {
      browser = await launchChromium();
    });
    after(async () => {
      await browser?.close();
    });

    const statusOf = (page: Page, orderId: string) => page.locator(`#orders [data-order-id="${orderId}"] .status`);
    /** What the page keeps of its session (in the browser's localStorage). */
    const sessionOf = (page: Page) =>
      page.evaluate<{ userId: string; accessToken: string; expiresAt: number } | null>(
        'JSON.parse(localStorage.getItem("gozon.session") ?? "null")',
      );
    const newEmail = () => `page-${randomUUID()}@example.com`;
    const PASSWORD = "correct horse battery";

    /** Signs up on the page as a person would: e-mail and password, then the code from the "e-mail". */
    async function signUpOnPage(page: Page, email = newEmail()): Promise<{ email: string; userId: string }> {
      const { stack } = s;
      await page.goto(stack.frontendUrl);
      await page.fill("#email", email);
      await page.fill("#password", PASSWORD);
      await page.click("#sign-up");
      await page.locator("#confirm-form").waitFor();
      await page.fill("#confirm-code", await stack.identity!.confirmationCode(email));
      await page.click("#confirm");
      await page.locator("#signed-in-as", { hasText: email }).waitFor();
      await page.locator("#connection-state", { hasText: "live" }).waitFor();
      await page.locator("#balance", { hasText: "0" }).waitFor();
      return { email, userId: (await sessionOf(page))!.userId };
    }

    it("signs up, deposits, orders and watches the statuses change, stays signed in across a reload, signs out and in again", async () => {
      const { stack, shop } = s;
      const page = await browser.newPage();
      await page.goto(stack.frontendUrl);
      assert.ok(await page.isVisible("#sign-in-card"), "a visitor sees the sign-in form");
      assert.ok(!(await page.isVisible("#shop")), "and no shop until signed in");
      await mkdir("test-results", { recursive: true });
      await page.screenshot({ path: "test-results/shop-sign-in.png", fullPage: true });
      const { email, userId } = await signUpOnPage(page);

      await page.fill("#deposit-amount", "1000");
      await page.click("#deposit");
      await page.locator("#balance", { hasText: "1000" }).waitFor();

      await page.fill("#order-description", "teapot");
      await page.fill("#order-amount", "300");
      await page.click("#place-order");
      await page.locator("#orders [data-order-id]").first().waitFor();
      const paidId = (await page.locator("#orders [data-order-id]").first().getAttribute("data-order-id"))!;
      await statusOf(page, paidId).filter({ hasText: "FINISHED" }).waitFor();
      await page.locator("#balance", { hasText: "700" }).waitFor();

      await page.fill("#order-description", "piano");
      await page.fill("#order-amount", "5000");
      await page.click("#place-order");
      await page.locator("#orders [data-order-id]").nth(1).waitFor();
      const refusedId = (await page.locator("#orders [data-order-id]").first().getAttribute("data-order-id"))!;
      assert.notEqual(refusedId, paidId);
      await statusOf(page, refusedId).filter({ hasText: "CANCELLED" }).waitFor();
      await page.locator("#orders", { hasText: "Not enough money" }).waitFor();
      assert.equal(await page.textContent("#balance"), "700");
      const token = (await sessionOf(page))!.accessToken;
      assert.equal(
        (await shop.balance({ id: userId, email, password: PASSWORD, token, refreshToken: "" })).body.balance,
        700,
      );
      await page.screenshot({ path: "test-results/shop-page.png", fullPage: true });

      // A reload keeps the session: still signed in, the same orders, live again.
      await page.reload();
      await page.locator("#signed-in-as", { hasText: email }).waitFor();
      await statusOf(page, paidId).filter({ hasText: "FINISHED" }).waitFor();
      await statusOf(page, refusedId).filter({ hasText: "CANCELLED" }).waitFor();
      await page.locator("#balance", { hasText: "700" }).waitFor();
      await page.locator("#connection-state", { hasText: "live" }).waitFor();
      assert.ok(!(await page.isVisible("#sign-in-card")));

      // Signing out forgets the session and shows nobody's money.
      await page.click("#sign-out");
      await page.locator("#sign-in-card").waitFor();
      await page.locator("#connection-state", { hasText: "offline" }).waitFor();
      assert.equal(await sessionOf(page), null);
      assert.ok(!(await page.isVisible("#shop")));
      await page.reload();
      await page.locator("#sign-in-card").waitFor();

      // Signing in again with e-mail and password brings the same account back.
      await page.fill("#email", email);
      await page.fill("#password", PASSWORD);
      await page.click("#sign-in");
      await page.locator("#signed-in-as", { hasText: email }).waitFor();
      await statusOf(page, paidId).filter({ hasText: "FINISHED" }).waitFor();
      await page.locator("#balance", { hasText: "700" }).waitFor();
      await page.close();
    });

    it("refreshes the access token before it expires, and goes on with the new one", async () => {
      const page = await browser.newPage();
      await signUpOnPage(page);
      const before = (await sessionOf(page))!;
      // As if the hour were almost over: the page renews the token when it starts.
      await page.evaluate(
        'localStorage.setItem("gozon.session", JSON.stringify({ ...JSON.parse(localStorage.getItem("gozon.session")), expiresAt: Date.now() + 30000 }))',
      );
      await page.reload();
      const renewed = await eventually(
        async () => {
          const now = await sessionOf(page);
          return now && now.accessToken !== before.accessToken ? now : undefined;
        },
        15_000,
        "a new access token",
      );
      assert.ok(renewed.expiresAt > Date.now() + 30 * 60_000, "good for most of an hour again");
      assert.equal(renewed.userId, before.userId);
      await page.locator("#connection-state", { hasText: "live" }).waitFor();
      await page.fill("#deposit-amount", "5");
      await page.click("#deposit");
      await page.locator("#balance", { hasText: "5" }).waitFor();
      await page.close();
    });

    it("reconnects by itself when the connection drops, and catches up on what it missed", async () => {
      const { stack, shop } = s;
      const page = await browser.newPage();
      const { userId } = await signUpOnPage(page);
      const user = {
        id: userId,
        email: "",
        password: "",
        token: (await sessionOf(page))!.accessToken,
        refreshToken: "",
      };
      const db = testPool(stack.ordersDatabaseUrl, 1);
      try {
        const { rows } = await db.query<{ connection_id: string }>(
          "SELECT connection_id FROM websocket_connections WHERE user_id = $1",
          [userId],
        );
        assert.equal(rows.length, 1);
        // The API side drops the socket (as API Gateway does after its idle timeout), then money moves.
        const dropped = await fetch(
          `${stack.wsUrl.replace("ws://", "http://")}/@connections/${rows[0]!.connection_id}`,
          { method: "DELETE" },
        );
        assert.equal(dropped.status, 204);
        assert.equal((await shop.deposit(user, 321)).status, 200);
        await page.locator("#balance", { hasText: "321" }).waitFor();
        await page.locator("#connection-state", { hasText: "live" }).waitFor();
        const placed = await shop.placeOrder(user, 21, "bought elsewhere");
        await statusOf(page, placed.body.order_id).filter({ hasText: "FINISHED" }).waitFor();
        await page.locator("#balance", { hasText: "300" }).waitFor();
      } finally {
        await db.end();
        await page.close();
      }
    });

    it("explains a wrong password and a wrong confirmation code in words", async () => {
      const { stack } = s;
      const page = await browser.newPage();
      await page.goto(stack.frontendUrl);
      await page.fill("#email", newEmail());
      await page.fill("#password", PASSWORD);
      await page.click("#sign-in");
      const wrong = page.locator("#messages .message.error").first();
      await wrong.waitFor();
      assert.match((await wrong.textContent()) ?? "", /wrong e-mail or password/i);
      await page.fill("#email", newEmail());
      await page.click("#sign-up");
      await page.locator("#confirm-form").waitFor();
      await page.fill("#confirm-code", "000000x");
      await page.click("#confirm");
      await page.locator("#messages .message.error", { hasText: /code is not right/i }).waitFor();
      assert.ok(!(await page.isVisible("#shop")));
      await page.close();
    });

    it("lets Swagger UI authorize with an access token and call the API as that user", async () => {
      const { stack, shop } = s;
      const user = await shop.fundedShopper(42);
      const page = await browser.newPage();
      await page.goto(stack.docsUrl);
      await page.locator("button.authorize").first().click();
      await page.locator(".auth-container input").first().fill(user.token);
      await page.locator(".auth-btn-wrapper button.authorize").click();
      await page.locator(".auth-btn-wrapper button.btn-done").click();
      const operation = page.locator(".opblock-get", {
        has: page.locator(".opblock-summary-path", { hasText: /^\/api\/payments\/balance$/ }),
      });
      await operation.locator(".opblock-summary").click();
      await operation.locator("button.try-out__btn").click();
      await operation.locator("button.execute").click();
      const answer = operation.locator(".live-responses-table .response .response-col_status");
      await answer.first().waitFor();
      assert.equal((await answer.first().textContent())?.trim(), "200");
      assert.match(
        (await operation.locator(".live-responses-table .response .response-col_description").first().textContent()) ??
          "",
        /"balance": 42/,
      );
      await page.close();
    });
  });
}
