// Browser test of the PV Monitor dashboard against a running Home Assistant
// (scripts/browser/dashboard/run starts one with scripts/develop --reset).
//
//   node browser_test.mjs [--url http://127.0.0.1:8123] [--out DIR] [--energy] [--add-entries]
//                         [--browser-tz ZONE]
//
// Logs in as dev/dev, creates the dashboard through the repair issue's fix flow (the user's
// consent), then opens every generated view at desktop and phone width (light, and the
// overview dark too) and asserts: every card of the view's config rendered (as many hui-card
// elements with content as cards), no "Custom element doesn't exist" and no hui-error-card,
// no entity shown is `unavailable`, and each of the day's totals (statistic cards) equals the
// recorder's statistic for the day (recorder/statistic_during_period, calendar day in the home's
// time zone, change) within 1 %. The browser runs in the home's time zone (Home Assistant's
// time_zone; --browser-tz overrides it): the energy date picker's "today" is the browser's day.
// --energy first sets the Energy dashboard's sources (grid from the meter, solar from the
// inverters with the PV system's forecast) so the energy cards are generated too; --add-entries adds a PV system and an EV
// charger through the config flow so that every kind of view exists. Screenshots go to DIR
// (default out/).
import { chromium } from "playwright-core";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const BASE = opt("--url", "http://127.0.0.1:8123");
const OUT = opt("--out", new URL("./out", import.meta.url).pathname);
const ENERGY = args.includes("--energy");
const ADD_ENTRIES = args.includes("--add-entries");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const VIEWPORTS = { desktop: { width: 1280, height: 900 }, phone: { width: 390, height: 844 } };
const TOLERANCE = 0.01;

const failures = [];
let expectFailures = false; // during the self-check the failures are the point
const fail = (msg) => {
  failures.push(msg);
  console.log(`${expectFailures ? "expected failure:" : "FAIL"} ${msg}`);
};

async function login() {
  const clientId = `${BASE}/`;
  const post = async (path, body, form = false) => {
    const res = await fetch(`${BASE}${path}`, {
      method: "POST",
      headers: { "Content-Type": form ? "application/x-www-form-urlencoded" : "application/json" },
      body: form ? new URLSearchParams(body) : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
    return res.json();
  };
  const flow = await post("/auth/login_flow", {
    client_id: clientId, handler: ["homeassistant", null], redirect_uri: clientId,
  });
  const done = await post(`/auth/login_flow/${flow.flow_id}`, {
    client_id: clientId, username: "dev", password: "dev",
  });
  const tokens = await post("/auth/token", {
    grant_type: "authorization_code", code: done.result, client_id: clientId,
  }, true);
  return { ...tokens, hassUrl: BASE, clientId, expires: Date.now() + tokens.expires_in * 1000 };
}

async function api(tokens, method, path, body) {
  const res = await fetch(`${BASE}${path}`, {
    method,
    headers: { Authorization: `Bearer ${tokens.access_token}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Consent through the repair issue's fix flow (what the user clicks in Settings > Repairs). */
async function createDashboard(tokens, hassCall) {
  const dashboards = await hassCall({ type: "lovelace/dashboards/list" });
  if (dashboards.some((d) => d.url_path === "pv-monitor")) return "existed";
  const flow = await api(tokens, "POST", "/api/repairs/issues/fix", {
    handler: "pv_monitor", issue_id: "dashboard_offer",
  });
  if (flow.step_id !== "confirm") throw new Error(`fix flow: ${JSON.stringify(flow)}`);
  const done = await api(tokens, "POST", `/api/repairs/issues/fix/${flow.flow_id}`, {});
  if (done.type !== "create_entry") throw new Error(`fix flow: ${JSON.stringify(done)}`);
  return "created by the fix flow";
}

// The browser runs in the home's time zone (Home Assistant's `time_zone`), as a user at home
// does: the energy date picker's "today" is the browser's day (the frontend's default time
// zone setting is "local"), the recorder's calendar day is the server's. --browser-tz ZONE
// overrides it (e.g. UTC, to see the two days differ).
let TIME_ZONE = opt("--browser-tz", null);

async function openPage(browser, tokens, viewport, colorScheme = "light") {
  const context = await browser.newContext({
    viewport, colorScheme, locale: "en-US", ...(TIME_ZONE ? { timezoneId: TIME_ZONE } : {}),
  });
  await context.addInitScript((t) => {
    localStorage.setItem("hassTokens", JSON.stringify(t));
  }, tokens);
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (err) => errors.push(String(err)));
  page.on("console", (msg) => {
    if (msg.type() === "error") errors.push(msg.text());
  });
  await page.goto(`${BASE}/`);
  await page.waitForFunction(() => document.querySelector("home-assistant")?.hass?.connected, null, { timeout: 60000 });
  return { context, page, errors };
}

const callWS = (page, msg) =>
  page.evaluate((m) => document.querySelector("home-assistant").hass.callWS(m), msg);

/** The dashboard the strategy generates, computed in the page by the served modules. */
async function generated(page) {
  return page.evaluate(async () => {
    const hass = document.querySelector("home-assistant").hass;
    const strategy = await import("/pv_monitor/frontend/pv-monitor-strategy.js");
    const generator = await import("/pv_monitor/frontend/generator.js");
    return generator.generateDashboard(await strategy.fetchInputs(hass));
  });
}

const cardsOf = (view) => (view.sections ?? [{ cards: view.cards ?? [] }]).flatMap((s) => s.cards);
const entityIds = (card) => [
  ...(card.entity ? [card.entity] : []),
  ...(card.entities ?? []).map((e) => (typeof e === "string" ? e : e.entity)),
];

async function waitRendered(page, expected) {
  const deadline = Date.now() + 30000;
  let count = 0;
  while (Date.now() < deadline) {
    count = await page.locator("hui-card").evaluateAll((els) =>
      els.filter((el) => el.firstElementChild || el.shadowRoot?.firstElementChild).length,
    );
    if (count >= expected) break;
    await page.waitForTimeout(500);
  }
  await page.waitForTimeout(2500); // charts and statistics fetch after the element exists
  return count;
}

async function checkView(page, view, label, url = `${BASE}/pv-monitor/${view.path}`) {
  await page.goto(url);
  const cards = cardsOf(view);
  const rendered = await waitRendered(page, cards.length);
  if (rendered !== cards.length) fail(`${label}: ${rendered} of ${cards.length} cards rendered`);
  const errorCards = await page.locator("hui-error-card").count();
  if (errorCards) fail(`${label}: ${errorCards} card error(s)`);
  const body = await page.locator("hui-view, hui-sections-view").first().innerText().catch(() => "");
  if (/Custom element doesn't exist|Configuration error/i.test(body)) fail(`${label}: card error text`);
  const states = await page.evaluate(() => {
    const s = document.querySelector("home-assistant").hass.states;
    return Object.fromEntries(Object.entries(s).map(([id, st]) => [id, st.state]));
  });
  const shown = [...new Set(cards.flatMap(entityIds))];
  const bad = shown.filter((id) => !(id in states) || states[id] === "unavailable");
  if (bad.length) fail(`${label}: unavailable entities shown: ${bad.join(", ")}`);
  return { cards: cards.length, rendered, entities: shown.length, unavailable: bad };
}

/** The recorder's change today (calendar day, the home's time zone) of every statistic card. */
async function recorderToday(page, view) {
  const stats = cardsOf(view).filter((c) => c.type === "statistic");
  const changes = [];
  for (const card of stats) {
    const recorder = await callWS(page, {
      type: "recorder/statistic_during_period",
      statistic_id: card.entity,
      calendar: { period: "day" },
      types: ["change"],
    });
    changes.push(recorder.change ?? 0);
  }
  return changes;
}

/** The statistic cards' numbers against the recorder's change for the day, asked before the
 * view was opened (`before`) and again after the cards showed their numbers: the recorder
 * compiles new 5-minute statistics every 5 minutes, so the card's number must equal one of
 * the two (they differ only when a compilation fell in between). */
async function checkTotals(page, view, label, before) {
  const stats = cardsOf(view).filter((c) => c.type === "statistic");
  let shownValues = [];
  for (let tries = 0; tries < 40; tries++) {
    shownValues = await page.locator("hui-statistic-card").evaluateAll((els) =>
      els.map((el) => el.shadowRoot?.querySelector(".value")?.textContent?.trim() ?? ""),
    );
    if (shownValues.length === stats.length && shownValues.every((v) => v !== "")) break;
    await page.waitForTimeout(500);
  }
  if (shownValues.length !== stats.length) fail(`${label}: ${shownValues.length} of ${stats.length} statistic cards`);
  const after = await recorderToday(page, view);
  const rows = [];
  for (const [i, card] of stats.entries()) {
    // What a card following the energy date picker asks: the browser's own day.
    const browserDay = await page.evaluate(async (id) => {
      const start = new Date();
      start.setHours(0, 0, 0, 0);
      const end = new Date(start);
      end.setDate(end.getDate() + 1);
      const r = await document.querySelector("home-assistant").hass.callWS({
        type: "recorder/statistic_during_period", statistic_id: id, types: ["change"],
        fixed_period: { start_time: start.toISOString(), end_time: end.toISOString() },
      });
      return { start: start.toISOString(), change: r.change ?? 0 };
    }, card.entity);
    const text = String(shownValues[i] ?? "");
    const shown = text === "" ? Number.NaN : Number(text.replace(/,/g, ""));
    // The card rounds to the sensor's display precision: allow that step or 1 %.
    const decimals = (text.split(".")[1] ?? "").length;
    const step = 0.5 * 10 ** -decimals;
    const close = (expected) =>
      Number.isFinite(shown) && Math.abs(shown - expected) <= Math.max(TOLERANCE * Math.abs(expected), step + 1e-9);
    const ok = close(before[i]) || close(after[i]);
    const expected = close(before[i]) ? before[i] : after[i];
    rows.push({ entity: card.entity, name: card.name, shown: shownValues[i], recorder: expected,
      recorderBefore: before[i], recorderAfter: after[i],
      browserDay: browserDay.change, browserDayStart: browserDay.start, ok });
    console.log(`     ${label}: ${card.entity} card ${text}, recorder today ${before[i].toFixed(3)}` +
      ` (before) ${after[i].toFixed(3)} (after); the browser's day from ${browserDay.start}: ` +
      `${browserDay.change.toFixed(3)}`);
    if (!ok) fail(`${label}: ${card.entity} shows ${text}, recorder change today ${before[i]} / ${after[i]}`);
  }
  return rows;
}

/** Add a config entry through the integration's own config flow (REST, as the UI does):
 * the menu choice `kind`, then each form step with `values[step_id]`. */
async function addEntry(tokens, kind, values) {
  const base = "/api/config/config_entries/flow";
  let result = await api(tokens, "POST", base, { handler: "pv_monitor", show_advanced_options: false });
  result = await api(tokens, "POST", `${base}/${result.flow_id}`, { next_step_id: kind });
  while (result.type === "form") {
    if (Object.keys(result.errors ?? {}).length) throw new Error(`${kind}: ${JSON.stringify(result.errors)}`);
    const input = values[result.step_id];
    if (!input) throw new Error(`${kind}: no values for step ${result.step_id}`);
    delete values[result.step_id];
    result = await api(tokens, "POST", `${base}/${result.flow_id}`, input);
  }
  if (result.type !== "create_entry") throw new Error(`${kind}: ${JSON.stringify(result)}`);
  return result.title;
}

/** A PV system on the busiest replayed inverter and the meter, and an EV charger whose
 * switch is a new input_boolean: the Performance and EV views then exist too. */
async function addEntries(tokens, page) {
  const registry = await callWS(page, { type: "config/entity_registry/list" });
  const byKey = (key) => registry.filter((e) => e.platform === "pv_monitor" && e.translation_key === key)
    .map((e) => e.entity_id).sort();
  const states = await page.evaluate(() => document.querySelector("home-assistant").hass.states);
  const busiest = (ids) => ids.sort((a, b) => Number(states[b]?.state) - Number(states[a]?.state))[0];
  const power = busiest(byKey("pv_power"));
  const energy = power.replace(/_pv_power$/, "_lifetime_energy");
  const { latitude, longitude, elevation } = await callWS(page, { type: "get_config" });
  const added = [];
  added.push(await addEntry(tokens, "pv_system", {
    pv_system: { name: "Roof", location: { latitude, longitude, radius: 0 }, elevation: elevation ?? 0, ac_limit_kw: 3 },
    pv_system_sensors: {
      production_power: power, production_energy: states[energy] ? energy : byKey("energy_total")[0],
      grid_import: byKey("dsmr_energy_import_total")[0], grid_export: byKey("dsmr_energy_export_total")[0],
      import_price: 0.3, export_price: 0.08,
    },
    pv_system_array: { name: "South", tilt: 35, azimuth: 180, kwp: 3.2, gamma_pdc: -0.37, losses: 14 },
  }));
  await callWS(page, { type: "input_boolean/create", name: "Wallbox charger" });
  added.push(await addEntry(tokens, "ev_charging", {
    ev_charging: { charger: "input_boolean.wallbox_charger", phases: "1", voltage: 230,
      grid_power: byKey("dsmr_net_power")[0], grid_sign: "import_positive" },
    ev_charging_limits: {},
  }));
  await page.waitForTimeout(5000); // entities of the new entries
  return added;
}

/** The checks must be able to fail: a throw-away dashboard with a card that does not exist
 * and an entity that does not exist has to trip them. */
async function selfCheck(page) {
  const url = "pv-monitor-self-check";
  const existing = await callWS(page, { type: "lovelace/dashboards/list" });
  for (const d of existing.filter((x) => x.url_path === url)) {
    await callWS(page, { type: "lovelace/dashboards/delete", dashboard_id: d.id });
  }
  const created = await callWS(page, {
    type: "lovelace/dashboards/create", url_path: url, title: "Self-check", show_in_sidebar: false,
  });
  const view = { path: "bad", type: "sections", sections: [{ type: "grid", cards: [
    { type: "heading", heading: "Bad" }, { type: "custom:no-such-card" }, { type: "tile", entity: "sensor.no_such_entity" },
  ] }] };
  await callWS(page, { type: "lovelace/config/save", url_path: url, config: { views: [view] } });
  const before = failures.length;
  expectFailures = true;
  await checkView(page, view, "self-check", `${BASE}/${url}/bad`);
  expectFailures = false;
  const tripped = failures.splice(before);
  await callWS(page, { type: "lovelace/dashboards/delete", dashboard_id: created.id });
  const caught = ["card error", "unavailable entities"].filter((w) => tripped.some((f) => f.includes(w)));
  if (caught.length !== 2) fail(`self-check: the checks did not catch a bad card and entity (${tripped})`);
  return tripped;
}

async function setEnergyPrefs(page, dash) {
  const overview = dash.views[0];
  const stats = cardsOf(overview).filter((c) => c.type === "statistic").map((c) => c.entity);
  const imp = stats.filter((id) => /import/.test(id));
  const exp = stats.filter((id) => /export/.test(id));
  const solar = stats.filter((id) => !imp.includes(id) && !exp.includes(id));
  // The PV system's forecast (its entry provides the energy platform's solar forecast), so
  // that the solar graph shows today against the forecast.
  const registry = await callWS(page, { type: "config/entity_registry/list" });
  const forecastEntries = [...new Set(registry
    .filter((e) => e.platform === "pv_monitor" && e.translation_key === "forecast_energy_today")
    .map((e) => e.config_entry_id))];
  await callWS(page, {
    type: "energy/save_prefs",
    energy_sources: [
      ...(imp.length ? [{
        type: "grid",
        flow_from: imp.map((id) => ({ stat_energy_from: id, stat_cost: null, entity_energy_price: null, number_energy_price: null })),
        flow_to: exp.map((id) => ({ stat_energy_to: id, stat_compensation: null, entity_energy_price: null, number_energy_price: null })),
        cost_adjustment_day: 0,
      }] : []),
      ...solar.map((id) => ({
        type: "solar", stat_energy_from: id,
        config_entry_solar_forecast: forecastEntries.length ? forecastEntries : null,
      })),
    ],
  });
}

async function main() {
  mkdirSync(OUT, { recursive: true });
  const tokens = await login();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const report = { created: null, passes: [] };
  try {
    const homeZone = (await api(tokens, "GET", "/api/config")).time_zone;
    TIME_ZONE ??= homeZone;
    report.timeZones = { home: homeZone, browser: TIME_ZONE };
    console.log(`ok   home time zone ${homeZone}, browser time zone ${TIME_ZONE}`);
    let { context, page } = await openPage(browser, tokens, VIEWPORTS.desktop);
    report.created = await createDashboard(tokens, (m) => callWS(page, m));
    report.selfCheck = await selfCheck(page);
    if (ADD_ENTRIES) report.added = await addEntries(tokens, page);
    console.log(`ok   self-check caught: ${report.selfCheck.join(" | ")}`);
    let dash = await generated(page);
    if (ENERGY) {
      await setEnergyPrefs(page, dash);
      dash = await generated(page);
    }
    report.views = dash.views.map((v) => ({
      path: v.path, title: v.title,
      cards: cardsOf(v).map((c) => c.type + (c.entity ? `:${c.entity}` : "")),
    }));
    await context.close();
    const runs = [["desktop", "light"], ["phone", "light"], ["desktop", "dark"], ["phone", "dark"]];
    for (const [size, scheme] of runs) {
      ({ context, page } = await openPage(browser, tokens, VIEWPORTS[size], scheme));
      const opened = await page.evaluate(() => document.querySelector("home-assistant").hass.themes?.darkMode);
      const views = scheme === "dark" ? dash.views.slice(0, 1) : dash.views;
      for (const view of views) {
        const label = `${view.path} ${size} ${scheme}`;
        const before = view.path === "overview" ? await recorderToday(page, view) : null;
        const result = await checkView(page, view, label);
        if (before) result.totals = await checkTotals(page, view, label, before);
        const file = join(OUT, `${view.path}-${size}-${scheme}.png`);
        await page.screenshot({ path: file, fullPage: true });
        report.passes.push({ label, darkMode: opened, ...result, screenshot: file });
        console.log(`ok   ${label}: ${result.rendered}/${result.cards} cards, ${result.entities} entities`);
      }
      await context.close();
    }
  } finally {
    await browser.close();
  }
  report.failures = failures;
  writeFileSync(join(OUT, "report.json"), JSON.stringify(report, null, 2));
  console.log(`${failures.length ? "FAILED" : "PASSED"}: ${report.passes.length} view renders, ` +
    `${failures.length} failure(s); report ${join(OUT, "report.json")}`);
  process.exit(failures.length ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  process.exit(2);
});
