// Browser test of the demo (run it with scripts/browser/run): starts `scripts/develop --reset`
// on free ports, logs in, runs the "Set up the Energy dashboard" repair, then checks the Energy
// configuration and dashboard against the demo's own truth (scripts/demo_data/truth.py, the
// function the replays follow) and that no PV indicator shows an implausible value.
// Screenshots go to scripts/browser/output/.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ROOT, callWS, launchBrowser, login, startDevelop } from "./lib.mjs";

const OUT = path.join(ROOT, "scripts", "browser", "output");
const TOLERANCE = 0.05; // the dashboard's solar energy within +/- 5 % of the true energy
const failures = [];
const timings = {};

function check(ok, what) {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failures.push(what);
}

function truth(start, end) {
  const out = execFileSync(
    path.join(ROOT, ".venv", "bin", "python"),
    ["-m", "demo_data.truth", path.join(ROOT, "config", "demo"), start.toISOString(), end.toISOString()],
    { cwd: path.join(ROOT, "scripts") },
  );
  return JSON.parse(out.toString());
}

async function shot(page, name) {
  await page.waitForTimeout(1500); // let charts finish their animation
  await page.screenshot({ path: path.join(OUT, `${name}.png`) });
}

async function energySetup(page, url) {
  await page.goto(`${url}/config/repairs`);
  await page.getByText("Set up the Energy dashboard with PV Monitor").click();
  await page.getByText("Add PV Monitor's sensors to the Energy dashboard").first().waitFor();
  await shot(page, "energy-setup");
  await page.getByRole("button", { name: "Submit" }).click();
  await page.waitForFunction(async () => {
    const prefs = await document.querySelector("home-assistant").hass.callWS({ type: "energy/get_prefs" });
    return prefs.energy_sources.some((s) => s.type === "solar");
  });
  await page.keyboard.press("Escape");
}

async function checkPrefs(page) {
  const prefs = await callWS(page, { type: "energy/get_prefs" });
  const entries = await callWS(page, { type: "config_entries/get", domain: "pv_monitor" });
  const registry = await callWS(page, { type: "config/entity_registry/list" });
  const ours = registry.filter((e) => e.platform === "pv_monitor");
  const roof = entries.find((e) => e.title === "Roof");
  const byType = (t) => prefs.energy_sources.filter((s) => s.type === t);
  const solar = byType("solar");
  check(solar.length === 1 && solar[0].stat_energy_from === "sensor.inverter_cuk4cbq05e_lifetime_energy",
    "solar: the inverter's lifetime energy is configured");
  check(solar[0]?.config_entry_solar_forecast?.includes(roof?.entry_id), "solar: with the PV system's forecast");
  const grid = byType("grid")[0];
  check(grid?.flow_from.length === 2 && grid?.flow_to.length === 2, "grid: import and export per tariff");
  check(grid?.power?.[0]?.stat_rate === "sensor.smart_meter_net_grid_power", "grid: the meter's power");
  const hasGas = ours.some((e) => e.entity_id.endsWith("_gas"));
  check(!hasGas || byType("gas").length === 1, "gas: the M-Bus gas meter (present in the demo)");
  const hasBattery = ours.some((e) => e.unique_id.endsWith("battery_charge_energy_total"));
  check(!hasBattery || byType("battery").length >= 1,
    `battery: ${hasBattery ? "the hybrid's battery" : "none in the demo, none configured"}`);
  return { prefs, ours };
}

async function checkForecastSelectable(page, url) {
  await page.goto(`${url}/config/energy`);
  const row = page.locator("ha-energy-solar-settings .row", { hasText: "Inverter CUK4CBQ05E Lifetime energy" });
  await row.waitFor();
  await shot(page, "energy-config");
  await row.locator("ha-icon-button").first().click();
  const option = page.locator("ha-formfield", { hasText: "Roof" }).locator("ha-checkbox");
  await option.waitFor();
  check(await option.isVisible(), "the PV system's forecast (Roof) is offered in the solar source dialog");
  check(await option.evaluate((box) => box.checked), "... and chosen (its check box is ticked)");
  await shot(page, "energy-forecast-choice");
  await page.keyboard.press("Escape");
  // Closing a dialog goes back in the history (the frontend pushed a state for it): let that
  // happen now, not during the next page.goto (it would take the page back here).
  await option.waitFor({ state: "detached" });
  await page.waitForTimeout(1000);
}

async function dashboardSolar(page) {
  const cell = page.locator("hui-energy-sources-table-card tr", { hasText: "Solar total" });
  await cell.waitFor();
  await page.waitForTimeout(2000);
  const text = await cell.innerText();
  const match = text.replace(",", "").match(/([-0-9.]+)\s*kWh/);
  return match ? Number(match[1]) : NaN;
}

function localMidnight(date) {
  // Europe/Amsterdam midnight of the day of `date` (the demo home's time zone).
  const day = date.toLocaleDateString("en-CA", { timeZone: "Europe/Amsterdam" });
  const offset = new Date(`${day}T12:00:00Z`).toLocaleString("en-US", { timeZone: "Europe/Amsterdam", timeZoneName: "shortOffset" }).match(/GMT([+-]\d+)/);
  const hours = offset ? Number(offset[1]) : 0;
  return new Date(Date.parse(`${day}T00:00:00Z`) - hours * 3600_000);
}

async function checkDashboard(page, url, dev) {
  // develop imports the history once the recorder compiled its first 5-minute statistics.
  const deadline = Date.now() + 480_000;
  while (!/history: imported/.test(dev.output()) && Date.now() < deadline) await page.waitForTimeout(5000);
  check(/history: imported \d+ hourly statistics of 8 sensors/.test(dev.output()), "a week of history imported");
  await page.goto(`${url}/energy`);
  const today = await dashboardSolar(page);
  await shot(page, "energy-dashboard");
  const midnight = localMidnight(new Date());
  const stats = await callWS(page, {
    type: "recorder/statistics_during_period",
    start_time: midnight.toISOString(),
    statistic_ids: ["sensor.inverter_cuk4cbq05e_lifetime_energy"],
    period: "hour",
    types: ["change"],
  });
  const rows = stats["sensor.inverter_cuk4cbq05e_lifetime_energy"] || [];
  const end = rows.length ? new Date(rows[rows.length - 1].end) : midnight;
  const trueToday = truth(midnight, end).pv;
  console.log(`today until ${end.toISOString()}: dashboard ${today} kWh, true ${trueToday.toFixed(2)} kWh`);
  check(Math.abs(today - trueToday) <= TOLERANCE * trueToday + 0.01, "today's solar energy within 5 % of the truth");
  // The whole history: every hour's change is >= 0 (also the first imported one) and they
  // add up to the true energy since the demo's epoch.
  const epoch = new Date(readFileSync(path.join(ROOT, "config", "demo", "epoch"), "utf8").trim());
  const week = await callWS(page, {
    type: "recorder/statistics_during_period",
    start_time: new Date(epoch - 86400_000).toISOString(),
    statistic_ids: ["sensor.inverter_cuk4cbq05e_lifetime_energy"],
    period: "hour",
    types: ["change"],
  });
  const hours = week["sensor.inverter_cuk4cbq05e_lifetime_energy"] || [];
  const weekEnd = hours.length ? new Date(hours[hours.length - 1].end) : epoch;
  const weekTotal = hours.reduce((total, row) => total + row.change, 0);
  const trueWeek = truth(epoch, weekEnd).pv;
  const negative = hours.filter((row) => row.change < -0.001)
    .map((row) => `${new Date(row.start).toISOString()} ${row.change.toFixed(3)}`);
  check(hours.length >= 7 * 24 && negative.length === 0,
    `${hours.length} hours of solar statistics, none negative${negative.length ? ` (negative: ${negative.join(", ")}; demo epoch ${epoch.toISOString()})` : ""}`);
  check(Math.abs(weekTotal - trueWeek) <= TOLERANCE * trueWeek,
    `the week's solar energy ${weekTotal.toFixed(2)} kWh within 5 % of the truth ${trueWeek.toFixed(2)} kWh`);
  // Yesterday, a whole day of the imported history.
  await page.locator("ha-icon-button-prev, ha-icon-button[label='Previous']").first().click().catch(async () => {
    await page.getByRole("button", { name: /previous/i }).first().click();
  });
  const yesterday = await dashboardSolar(page);
  const trueYesterday = truth(new Date(midnight - 86400_000), midnight).pv;
  console.log(`yesterday: dashboard ${yesterday} kWh, true ${trueYesterday.toFixed(2)} kWh`);
  check(Math.abs(yesterday - trueYesterday) <= TOLERANCE * trueYesterday, "yesterday's solar energy within 5 % of the truth");
  return trueToday;
}

async function checkIndicators(page, url, ours, producedToday) {
  // The PV system computes its indicators every 5 minutes (pv_system SAMPLE_INTERVAL); after
  // the history import develop reloads it. Wait for indicators that include today's energy.
  const ready = await page
    .waitForFunction(
      (produced) => {
        const value = Number(document.querySelector("home-assistant").hass.states["sensor.roof_specific_yield_today"]?.state);
        return !Number.isNaN(value) && (!produced || value > 0);
      },
      producedToday,
      { timeout: 400_000, polling: 5_000 },
    )
    .then(() => true)
    .catch(() => false);
  check(ready, "the PV system's indicators include today's energy (within 6 minutes)");
  const states = await page.evaluate(() => document.querySelector("home-assistant").hass.states);
  let checked = 0;
  for (const entry of ours) {
    const state = states[entry.entity_id];
    const unit = state?.attributes.unit_of_measurement;
    const value = Number(state?.state);
    if (!state || Number.isNaN(value) || !["%", "kWh/kWp"].includes(unit)) continue;
    const limit = unit === "kWh/kWp" ? 24 : entry.entity_id.includes("performance_ratio") ? 150 : 100;
    checked += 1;
    check(value >= 0 && value <= limit, `${entry.entity_id} = ${state.state} ${unit} (plausible: 0-${limit})`);
  }
  console.log(`${checked} numeric indicators checked`);
  const device = ours.find((e) => e.entity_id === "sensor.roof_performance_ratio_today")?.device_id;
  if (device) {
    // The frontend can abort a full navigation while it is still routing the previous
    // page (net::ERR_ABORTED), or take the page back to where it was: try again, at most
    // twice, until the device page shows the indicator.
    for (let attempt = 0; ; attempt += 1) {
      try {
        await page.goto(`${url}/config/devices/device/${device}`);
        await page.getByText("Performance ratio today").first().waitFor({ timeout: 30_000 });
        break;
      } catch (err) {
        const retry = String(err).includes("ERR_ABORTED") || err.name === "TimeoutError";
        if (attempt >= 2 || !retry) throw err;
        console.log(`(device page: ${String(err).split("\n")[0]} at ${page.url()}; again)`);
        await page.waitForTimeout(1000);
      }
    }
    await shot(page, "pv-system-device");
  }
}

async function main() {
  mkdirSync(OUT, { recursive: true });
  const t0 = Date.now();
  const dev = await startDevelop();
  timings.develop_ready_s = dev.seconds;
  const browser = await launchBrowser();
  try {
    const { page } = browser;
    await login(page, dev.url);
    await energySetup(page, dev.url);
    const { ours } = await checkPrefs(page);
    const producedToday = await checkDashboard(page, dev.url, dev);
    await checkForecastSelectable(page, dev.url);
    await checkIndicators(page, dev.url, ours, producedToday > 0.1);
  } catch (err) {
    failures.push(String(err));
    console.error(err);
    await browser.page.screenshot({ path: path.join(OUT, "failure.png") }).catch(() => {});
  } finally {
    await browser.close();
    const stopped = Date.now();
    const { code } = await dev.stop();
    timings.develop_stop_s = (Date.now() - stopped) / 1000;
    timings.develop_exit_code = code;
    timings.total_s = (Date.now() - t0) / 1000;
    const stopLines = dev.output().split("\n").filter((l) => /exited with code|error/i.test(l));
    check(code === 130 || code === 0, `scripts/develop stopped cleanly (exit ${code})`);
    check(stopLines.length === 0, `no error printed by scripts/develop${stopLines.length ? `: ${stopLines.join(" / ")}` : ""}`);
  }
  writeFileSync(path.join(OUT, "result.json"), JSON.stringify({ failures, timings }, null, 2));
  console.log(JSON.stringify(timings));
  console.log(failures.length ? `${failures.length} FAILED` : "all checks passed");
  process.exit(failures.length ? 1 : 0);
}

await main();
