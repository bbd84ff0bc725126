// Unit tests of the dashboard generator (custom_components/pv_monitor/frontend/generator.js)
// for the four scenarios of issue 18. Run: node --test scripts/browser/dashboard/test/
import { test } from "node:test";
import assert from "node:assert/strict";
import { generateDashboard, DEFAULT_STRINGS } from "../../../../custom_components/pv_monitor/frontend/generator.js";
import { builder, inverter, meter, pvSystem, charger } from "./scenarios.mjs";

/** Every card of a view, headings included, in order. */
export function cardsOf(view) {
  return (view.sections ?? [{ cards: view.cards ?? [] }]).flatMap((s) => s.cards);
}
const entityIds = (card) => [
  ...(card.entity ? [card.entity] : []),
  ...(card.entities ?? []).map((e) => (typeof e === "string" ? e : e.entity)),
];
const idsOf = (view) => cardsOf(view).flatMap(entityIds);
const types = (view) => [...new Set(cardsOf(view).map((c) => c.type))].sort();
const headings = (view) => cardsOf(view).filter((c) => c.type === "heading").map((c) => c.heading);

/** Home Assistant's built-in card types (hui-*-card in hass_frontend 20260128.6). */
const BUILT_IN = new Set([
  "heading", "tile", "gauge", "entities", "statistic", "statistics-graph", "history-graph",
  "markdown", "energy-date-selection", "energy-solar-graph",
]);

function checkCommon(dash, states) {
  const paths = dash.views.map((v) => v.path);
  assert.equal(new Set(paths).size, paths.length, "view paths are unique");
  for (const view of dash.views) {
    for (const card of cardsOf(view)) assert.ok(BUILT_IN.has(card.type), `built-in card: ${card.type}`);
    for (const id of idsOf(view)) assert.ok(id in states, `${id} exists`);
    for (const section of view.sections ?? []) {
      assert.equal(section.cards[0].type, "heading");
      assert.ok(section.cards.length > 1, `no empty section in ${view.path}`);
    }
  }
}

test("one inverter only: overview and the inverter's view, no performance", () => {
  const b = builder().entry("E1", "Growatt datalogger");
  inverter(b, "E1", "INV1", "MIN 3000TL-X ABC123");
  const input = b.done();
  const dash = generateDashboard(input);
  checkCommon(dash, input.states);
  assert.deepEqual(dash.views.map((v) => v.path), ["overview", "inverter-min-3000tl-x-abc123"]);
  const [overview, inv] = dash.views;
  assert.deepEqual(headings(overview), [DEFAULT_STRINGS.now, DEFAULT_STRINGS.today_vs_forecast,
    DEFAULT_STRINGS.day_totals, DEFAULT_STRINGS.alerts]);
  // Solar energy today from the inverter's lifetime counter; no grid or PV-system totals.
  const stats = cardsOf(overview).filter((c) => c.type === "statistic");
  assert.deepEqual(stats.map((c) => [c.entity, c.name, c.stat_type]),
    [["sensor.INV1_energy_total", "Solar energy", "change"]]);
  assert.deepEqual(stats[0].period, { calendar: { period: "day" } });
  assert.ok(!idsOf(overview).some((id) => id.includes("grid_cost")));
  assert.ok(idsOf(inv).includes("sensor.INV1_pv2_power"));
  assert.ok(!idsOf(inv).includes("sensor.INV1_reactive_power"), "disabled entity left out");
  assert.deepEqual(headings(inv), ["Now", "Strings", "AC side", "Temperatures", "Status and faults", "Energy"]);
  // The view is the device's: its name is not repeated in front of every entity.
  const stringRows = inv.sections[1].cards[1].entities;
  assert.deepEqual(stringRows[0], { entity: "sensor.INV1_pv1_power", name: "pv1_power" });
  assert.equal(inv.sections[0].cards[1].name, "pv_power");
});

test("inverter + meter + PV system + EV: every view, totals, KPIs from statistics", () => {
  const b = builder().entry("E1", "Growatt").entry("E2", "Meter").entry("E3", "PV").entry("E4", "EV");
  inverter(b, "E1", "INV1", "Roof inverter", { battery: true });
  meter(b, "E2", "MTR", "Smart meter");
  pvSystem(b, "E3", "PVS", "My PV system");
  charger(b, "E4", "EVC", "Wallbox");
  const input = b.done();
  input.issues = [{ domain: "pv_monitor", issue_id: "x", ignored: false }, { domain: "hue", issue_id: "y", ignored: false }];
  const dash = generateDashboard(input);
  checkCommon(dash, input.states);
  assert.deepEqual(dash.views.map((v) => v.path),
    ["overview", "performance", "inverter-roof-inverter", "meter-smart-meter", "ev-wallbox"]);
  const overview = dash.views[0];
  const now = overview.sections[0].cards.slice(1);
  assert.deepEqual(now.map((c) => [c.type, c.entity]), [
    ["tile", "sensor.INV1_pv_power"], ["tile", "sensor.MTR_net_power"],
    ["tile", "sensor.PVS_house_load"], ["gauge", "sensor.INV1_battery_soc"],
    ["tile", "sensor.EVC_ev_controller_state"], ["tile", "select.EVC_ev_mode"],
  ]);
  const totals = cardsOf(overview).filter((c) => c.type === "statistic").map((c) => [c.name, c.entity]);
  assert.deepEqual(totals, [
    ["Consumed from grid", "sensor.MTR_energy_import_total"],
    ["Returned to grid", "sensor.MTR_energy_export_total"],
    ["Solar energy", "sensor.INV1_energy_total"],
  ]);
  const daily = cardsOf(overview).find((c) => c.type === "entities").entities;
  assert.deepEqual(daily.map((r) => r.name), ["Direct consumption", "Cost", "Profit"]);
  assert.ok(idsOf(overview).includes("binary_sensor.PVS_underperformance"));
  assert.match(cardsOf(overview).find((c) => c.type === "markdown").content, /: 1\./);
  const perf = dash.views[1];
  const graphs = cardsOf(perf).filter((c) => c.type === "statistics-graph");
  assert.ok(graphs.every((g) => g.period === "day" && g.days_to_show === 30));
  assert.deepEqual(graphs.map((g) => g.entities[0]), [
    "sensor.PVS_performance_ratio_today", "sensor.PVS_specific_yield_today",
    "sensor.PVS_capacity_factor_today", "sensor.PVS_forecast_accuracy", "sensor.INV1_pv1_energy_total",
  ]);
  const meterView = dash.views[3];
  assert.ok(idsOf(meterView).includes("sensor.MTR_gas"), "gas meter (child device) on the meter's view");
  assert.deepEqual(headings(meterView), ["Now", "Per phase", "Tariffs", "Energy", "Gas, water and heat"]);
  assert.deepEqual(headings(dash.views[4]), ["Charging", "History", "Settings"]);
  assert.ok(idsOf(dash.views[4]).includes("switch.EVC_ev_surplus_charging"));
});

test("KPI sensors without a state class: history instead of statistics", () => {
  const b = builder().entry("E1", "Growatt").entry("E3", "PV");
  inverter(b, "E1", "INV1", "Inverter");
  pvSystem(b, "E3", "PVS", "PV", { kpiStateClass: false, houseLoad: false });
  const input = b.done();
  const dash = generateDashboard(input);
  checkCommon(dash, input.states);
  const perf = dash.views.find((v) => v.path === "performance");
  const kpi = perf.sections[0].cards.slice(1);
  assert.deepEqual(kpi.map((c) => c.type), ["history-graph", "history-graph", "history-graph", "tile"]);
  assert.equal(kpi[0].hours_to_show, 720);
  assert.equal(kpi[0].title, "PV performance_ratio_today", "an empty graph still says what it is");
  // No house-load sensor and no hybrid inverter: the tile is simply not there.
  assert.ok(!idsOf(dash.views[0]).some((id) => id.includes("house_load") || id.includes("load_power")));
});

test("two inverters with strings of different orientation: one view each, strings compared", () => {
  const b = builder().entry("E1", "Growatt").entry("E3", "PV");
  inverter(b, "E1", "EAST", "Inverter east", { strings: 1 });
  inverter(b, "E1", "WEST", "Inverter west", { strings: 2 });
  pvSystem(b, "E3", "PVS", "PV");
  const input = b.done();
  const dash = generateDashboard(input);
  checkCommon(dash, input.states);
  assert.deepEqual(dash.views.map((v) => v.path),
    ["overview", "performance", "inverter-inverter-east", "inverter-inverter-west"]);
  const strings = dash.views[1].sections.find((s) => s.cards[0].heading === "Strings").cards;
  assert.deepEqual(strings[1].entities,
    ["sensor.EAST_pv1_energy_total", "sensor.WEST_pv1_energy_total", "sensor.WEST_pv2_energy_total"]);
  assert.equal(strings[1].chart_type, "bar");
  // Both inverters' solar energy is a separate total (named by the entity itself).
  const solar = cardsOf(dash.views[0]).filter((c) => c.type === "statistic");
  assert.deepEqual(solar.map((c) => [c.entity, c.name]),
    [["sensor.EAST_energy_total", undefined], ["sensor.WEST_energy_total", undefined]]);
  assert.ok(!idsOf(dash.views[2]).includes("sensor.WEST_pv_power"), "views do not mix inverters");
});

test("no PV system: no performance view, no forecast, grid totals from the meter", () => {
  const b = builder().entry("E1", "Growatt").entry("E2", "Meter");
  inverter(b, "E1", "INV1", "Inverter");
  meter(b, "E2", "MTR", "Smart meter");
  const input = b.done();
  const dash = generateDashboard(input);
  checkCommon(dash, input.states);
  assert.deepEqual(dash.views.map((v) => v.path), ["overview", "inverter-inverter", "meter-smart-meter"]);
  const overview = dash.views[0];
  assert.ok(!types(overview).includes("entities"), "no cost/profit without a PV system");
  const history = cardsOf(overview).find((c) => c.type === "history-graph");
  assert.deepEqual(history.entities, ["sensor.INV1_pv_power"]);
  const alerts = overview.sections.at(-1).cards;
  assert.deepEqual(alerts.map((c) => c.type), ["heading", "markdown"]);
  assert.equal(alerts[1].content, DEFAULT_STRINGS.no_alerts);
});

test("energy preferences with a solar source: energy cards and totals follow the date picker", () => {
  const b = builder().entry("E1", "Growatt").entry("E2", "Meter");
  inverter(b, "E1", "INV1", "Inverter");
  meter(b, "E2", "MTR", "Meter");
  const input = { ...b.done(), energyPrefs: { energy_sources: [{ type: "solar", stat_energy_from: "sensor.INV1_energy_total" }] } };
  const overview = generateDashboard(input).views[0];
  assert.deepEqual(overview.sections[1].cards.slice(1).map((c) => c.type), ["energy-date-selection", "energy-solar-graph"]);
  assert.ok(cardsOf(overview).filter((c) => c.type === "statistic").every((c) => c.period === "energy_date_selection"));
});

test("translated titles, foreign devices ignored, nothing to show", () => {
  const b = builder().entry("E1", "Growatt");
  inverter(b, "E1", "INV1", "Inverter");
  const input = b.done();
  input.devices.push({ id: "OTHER", name: "Hue bridge", config_entries: ["HUE"] });
  const dash = generateDashboard({ ...input, strings: { overview: "Overzicht", now: "Nu", title: "PV" } });
  assert.equal(dash.title, "PV");
  assert.equal(dash.views[0].title, "Overzicht");
  assert.equal(dash.views[0].sections[0].cards[0].heading, "Nu");
  assert.equal(dash.views.length, 2);
  const empty = generateDashboard({ entries: [{ entry_id: "E1" }], devices: [], entities: [], states: {} });
  assert.deepEqual(empty.views[0].cards, [{ type: "markdown", content: DEFAULT_STRINGS.nothing }]);
});

test("strings without energy counters: their power today is compared instead", () => {
  const b = builder().entry("E1", "Growatt").entry("E3", "PV");
  inverter(b, "E1", "INV1", "Inverter", { strings: 2, stringEnergy: false });
  pvSystem(b, "E3", "PVS", "PV");
  const input = b.done();
  const dash = generateDashboard(input);
  checkCommon(dash, input.states);
  const strings = dash.views[1].sections.find((s) => s.cards[0].heading === "Strings").cards;
  assert.deepEqual(strings.slice(1).map((c) => [c.type, c.entities]),
    [["history-graph", ["sensor.INV1_pv1_power", "sensor.INV1_pv2_power"]]]);
});
