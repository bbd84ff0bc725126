// Shared helpers of the browser tests (scripts/browser): start `scripts/develop --reset` on
// free ports, wait until Home Assistant is ready, launch the system's Chromium with
// playwright-core and log in as dev / dev. Used by test.mjs; meant to be reused by others.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Start `scripts/develop --reset --free-ports`; resolve once it prints that it is running.
 *  Returns {url, httpPort, seconds, stop()}; stop() sends SIGTERM (handled like Ctrl-C) and waits. */
export function startDevelop({ timeoutSeconds = 1800, args = [] } = {}) {
  const started = Date.now();
  const child = spawn(path.join(ROOT, "scripts", "develop"), ["--reset", "--free-ports", ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let partial = "";
  const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGTERM");
      reject(new Error(`scripts/develop not ready after ${timeoutSeconds} s:\n${output}`));
    }, timeoutSeconds * 1000);
    const onData = (chunk) => {
      const text = chunk.toString();
      output += text;
      const lines = (partial + text).split("\n");
      partial = lines.pop();
      for (const line of lines) process.stderr.write(`  | ${line}\n`);
      const port = output.match(/free ports: http (\d+)/);
      if (port && output.includes("Home Assistant is running")) {
        clearTimeout(timer);
        resolve({
          url: `http://127.0.0.1:${port[1]}`,
          httpPort: Number(port[1]),
          seconds: (Date.now() - started) / 1000,
          output: () => output,
          stop: async () => {
            child.kill("SIGTERM");
            return exited;
          },
        });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`scripts/develop exited (code ${code}) before it was ready:\n${output}`));
    });
  });
}

/** Launch Chromium (headless, fresh profile); returns {context, page, close()}. */
export async function launchBrowser({ width = 1280, height = 860 } = {}) {
  const profile = mkdtempSync(path.join(tmpdir(), "pv-monitor-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: false, // --headless is passed explicitly below, with the other flags
    args: CHROMIUM_FLAGS,
    viewport: { width, height },
    locale: "en-GB",
    timezoneId: "Europe/Amsterdam",
  });
  const page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(60_000);
  return {
    context,
    page,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Log in on Home Assistant's login page as dev / dev; resolves on the first dashboard. */
export async function login(page, url, { user = "dev", password = "dev" } = {}) {
  await page.goto(url);
  await page.locator('input[name="username"]').fill(user);
  await page.locator('input[name="password"]').fill(password);
  await page.locator('input[name="password"]').press("Enter");
  await page.waitForURL((u) => !u.pathname.startsWith("/auth"), { timeout: 60_000 });
  await page.waitForFunction(() => document.querySelector("home-assistant")?.hass?.connected);
}

/** A websocket command through the logged-in frontend's own connection. */
export async function callWS(page, message) {
  return page.evaluate((msg) => document.querySelector("home-assistant").hass.callWS(msg), message);
}
