// PV Monitor dashboard generator: a pure function of what Home Assistant reports.
//
// generateDashboard({entries, devices, entities, states, energyPrefs, issues, strings})
//   entries     config_entries/get {domain: "pv_monitor"} -> [{entry_id, title, state, ...}]
//   devices     config/device_registry/list -> [{id, name, name_by_user, config_entries,
//               via_device_id, model, ...}]
//   entities    config/entity_registry/list -> [{entity_id, device_id, config_entry_id,
//               platform, translation_key, unique_id, disabled_by, hidden_by,
//               entity_category, ...}]
//   states      hass.states: {entity_id: {state, attributes: {state_class, device_class,
//               unit_of_measurement, ...}}}
//   energyPrefs energy/get_prefs (or null): energy cards only when it has a solar source
//   issues      repairs/list_issues -> [{domain, issue_id, ignored, ...}]
//   strings     view and heading titles from the integration's translations
//               (frontend/get_translations, category "selector", key dashboard), merged
//               over DEFAULT_STRINGS
// -> a Lovelace dashboard config {title, views: [...]} that uses only Home Assistant's
//    built-in cards (heading, tile, gauge, entities, statistic, statistics-graph,
//    history-graph, markdown, energy-date-selection, energy-solar-graph). No DOM, no network:
//    Node's test runner covers it (scripts/browser/dashboard/test/).
//
// Entities are recognised by their translation key (and, for entities another part of the
// integration may add later, by unique-id suffix or device class), so the dashboard uses
// whatever exists and leaves out what does not: a view exists only for what is there.

export const DOMAIN = "pv_monitor";
/** The repair issue that offers this dashboard is no problem to report on it. */
const OFFER_ISSUE = "dashboard_offer";

/** English titles; the integration's translations (en, nl, de) override them. */
export const DEFAULT_STRINGS = Object.freeze({
  title: "PV Monitor",
  overview: "Overview",
  performance: "Performance",
  now: "Now",
  today_vs_forecast: "Today vs forecast",
  day_totals: "Today's totals",
  alerts: "Anomalies and repairs",
  no_alerts: "No anomalies or repair issues.",
  repair_issues: "Open repair issues of PV Monitor: {count}. See Settings > Repairs.",
  daily_kpis: "Performance per day (30 days)",
  forecast_error: "Forecast error",
  strings: "Strings",
  strings_note: "Daily energy per string; divide by each string's kWp to compare orientations.",
  ac_side: "AC side",
  temperatures: "Temperatures",
  faults: "Status and faults",
  battery: "Battery",
  energy: "Energy",
  phases: "Per phase",
  tariffs: "Tariffs",
  peak_demand: "Peak demand",
  sub_meters: "Gas, water and heat",
  charging: "Charging",
  settings: "Settings",
  history: "History",
  consumed_from_grid: "Consumed from grid",
  returned_to_grid: "Returned to grid",
  solar_energy: "Solar energy",
  direct_consumption: "Direct consumption",
  cost: "Cost",
  profit: "Profit",
  nothing: "No PV Monitor devices yet: add an integration entry first.",
});

// --- recognising entities ---------------------------------------------------------------

/** House load: added by the PV system kind (translation key or unique-id suffix), or a
 * hybrid inverter's own load power. */
const HOUSE_LOAD_KEYS = ["house_load", "house_load_power", "house_power"];
const HOUSE_LOAD_SUFFIXES = ["_house_load", "_house_load_power"];
const INVERTER_LOAD_KEY = "load_power";

const INVERTER_KEYS = new Set([
  "pv_power", "ac_power", "energy_total", "output_power", "growatt_cloud_current_power",
]);
const METER_PREFIX = "dsmr_";
const EV_PREFIX = "ev_";
const PV_SYSTEM_KEYS = new Set([
  "forecast_energy_today", "expected_power", "performance_ratio_today", "specific_yield_today",
]);
const KPI_KEYS = [
  "performance_ratio_today", "temperature_corrected_pr_today", "specific_yield_today",
  "capacity_factor_today",
];

/** The key an entity is known by: its translation key, else its unique id's last part. */
export function entityKey(entity) {
  if (entity.translation_key) return entity.translation_key;
  const uid = String(entity.unique_id ?? "");
  const cut = uid.lastIndexOf("_");
  return cut >= 0 ? uid.slice(cut + 1) : uid;
}

function isShown(entity, states) {
  return (
    entity.platform === DOMAIN &&
    !entity.disabled_by &&
    !entity.hidden_by &&
    entity.entity_id in states
  );
}

/** One device with its shown entities by key: {device, byKey: Map<key, entity_id[]>}. */
function indexDevices(devices, entities, states) {
  const index = new Map();
  for (const device of devices) index.set(device.id, { device, byKey: new Map(), ids: [] });
  for (const entity of entities) {
    if (!isShown(entity, states) || !index.has(entity.device_id)) continue;
    const slot = index.get(entity.device_id);
    const key = entityKey(entity);
    if (!slot.byKey.has(key)) slot.byKey.set(key, []);
    slot.byKey.get(key).push(entity.entity_id);
    slot.ids.push({ entity, key });
  }
  for (const slot of index.values()) {
    for (const list of slot.byKey.values()) list.sort();
  }
  return index;
}

function hasAny(slot, predicate) {
  return [...slot.byKey.keys()].some(predicate);
}

/** Sort devices into roles by the entities they carry. */
export function classifyDevices(devices, entities, states) {
  const roles = { inverters: [], meters: [], subMeters: [], chargers: [], pvSystems: [] };
  const index = indexDevices(devices, entities, states);
  for (const slot of index.values()) {
    if (slot.ids.length === 0) continue;
    if (hasAny(slot, (k) => PV_SYSTEM_KEYS.has(k))) roles.pvSystems.push(slot);
    else if (hasAny(slot, (k) => k.startsWith(EV_PREFIX))) roles.chargers.push(slot);
    else if (hasAny(slot, (k) => ["dsmr_gas", "dsmr_water", "dsmr_heat"].includes(k)))
      roles.subMeters.push(slot);
    else if (hasAny(slot, (k) => k.startsWith(METER_PREFIX))) roles.meters.push(slot);
    else if (hasAny(slot, (k) => INVERTER_KEYS.has(k))) roles.inverters.push(slot);
  }
  const byName = (a, b) => deviceName(a.device).localeCompare(deviceName(b.device));
  for (const list of Object.values(roles)) list.sort(byName);
  return roles;
}

export function deviceName(device) {
  return device.name_by_user || device.name || device.model || device.id;
}

function first(slot, ...keys) {
  for (const key of keys) {
    const ids = slot?.byKey.get(key);
    if (ids?.length) return ids[0];
  }
  return undefined;
}

function all(slot, ...keys) {
  return keys.flatMap((key) => slot?.byKey.get(key) ?? []);
}

function findHouseLoad(entities, states) {
  const shown = entities.filter((e) => isShown(e, states))
    .sort((a, b) => a.entity_id.localeCompare(b.entity_id));
  for (const key of HOUSE_LOAD_KEYS) {
    const hit = shown.find((e) => e.translation_key === key);
    if (hit) return hit.entity_id;
  }
  const bySuffix = shown.find((e) =>
    HOUSE_LOAD_SUFFIXES.some((s) => String(e.unique_id ?? "").endsWith(s)),
  );
  return bySuffix?.entity_id ?? shown.find((e) => e.translation_key === INVERTER_LOAD_KEY)?.entity_id;
}

function hasStatistics(entityId, states) {
  return Boolean(states[entityId]?.attributes?.state_class);
}

// --- cards ------------------------------------------------------------------------------

const heading = (text) => ({ type: "heading", heading: text });
const tile = (entity) => ({ type: "tile", entity });
const entitiesCard = (entities, title) => ({
  type: "entities",
  ...(title ? { title } : {}),
  entities,
});
const history = (entities, title, hours = 24) => ({
  type: "history-graph",
  ...(title ? { title } : {}),
  hours_to_show: hours,
  entities,
});
const dailyStats = (entities, title, statTypes, chartType = "line") => ({
  type: "statistics-graph",
  ...(title ? { title } : {}),
  entities,
  period: "day",
  days_to_show: 30,
  stat_types: statTypes,
  chart_type: chartType,
});

/** Today's change of a counter from the recorder's statistics (follows the energy date
 * picker when the energy cards are on the page). */
function dayTotal(entity, name, followPicker) {
  return {
    type: "statistic",
    entity,
    name,
    stat_type: "change",
    period: followPicker ? "energy_date_selection" : { calendar: { period: "day" } },
  };
}

const section = (title, cards) => ({ type: "grid", cards: [heading(title), ...cards] });
// No view icons: the tab bar then shows every view's title (HA shows icons only otherwise).
const view = (title, path, sections) => ({
  title,
  path,
  type: "sections",
  max_columns: 4,
  sections: sections.filter((s) => s.cards.length > 1),
});

function slug(text) {
  return String(text).toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
}

// --- overview ---------------------------------------------------------------------------

function nowSection(ctx) {
  const { roles, houseLoad, s } = ctx;
  const cards = [];
  for (const inv of roles.inverters) {
    const power = first(inv, "pv_power", "ac_power", "output_power", "growatt_cloud_current_power");
    if (power) cards.push(tile(power));
  }
  for (const meter of roles.meters) {
    const net = first(meter, "dsmr_net_power");
    if (net) cards.push(tile(net));
  }
  if (houseLoad) cards.push(tile(houseLoad));
  for (const inv of roles.inverters) {
    const soc = first(inv, "battery_soc");
    if (soc) cards.push({ type: "gauge", entity: soc, min: 0, max: 100, needle: false });
  }
  for (const ev of roles.chargers) {
    cards.push(...all(ev, "ev_controller_state", "ev_mode").map(tile));
  }
  return section(s.now, cards);
}

function forecastSection(ctx) {
  const { roles, s, energyCards } = ctx;
  const cards = [];
  if (energyCards) {
    cards.push({ type: "energy-date-selection" }, { type: "energy-solar-graph" });
    return section(s.today_vs_forecast, cards);
  }
  const lines = [
    ...roles.inverters.map((inv) => first(inv, "pv_power", "ac_power", "growatt_cloud_current_power")),
    ...roles.pvSystems.flatMap((pv) => all(pv, "expected_power", "forecast_power_now")),
  ].filter(Boolean);
  if (lines.length) cards.push(history(lines, undefined, 24));
  for (const pv of roles.pvSystems) {
    cards.push(...all(pv, "forecast_energy_today", "forecast_energy_today_remaining").map(tile));
  }
  return section(s.today_vs_forecast, cards);
}

/** The counters whose change today is one of the day's totals. */
export function dayTotalSources(roles) {
  const fromMeters = (way) =>
    roles.meters.flatMap((m) => {
      const total = first(m, `dsmr_energy_${way}_total`);
      return total ? [total] : all(m, `dsmr_energy_${way}_tariff`);
    });
  const fromInverters = (key) => roles.inverters.flatMap((inv) => all(inv, key));
  const imported = fromMeters("import");
  const exported = fromMeters("export");
  return {
    consumed_from_grid: imported.length ? imported : fromInverters("grid_import_energy_total"),
    returned_to_grid: exported.length ? exported : fromInverters("grid_export_energy_total"),
    solar_energy: roles.inverters.flatMap((inv) => {
      const id = first(inv, "energy_total", "pv_energy_total");
      return id ? [id] : [];
    }),
  };
}

function totalsSection(ctx) {
  const { roles, s, energyCards } = ctx;
  const cards = [];
  const sources = dayTotalSources(roles);
  for (const [label, ids] of Object.entries(sources)) {
    for (const id of ids) {
      cards.push(dayTotal(id, ids.length > 1 ? undefined : s[label], energyCards));
    }
  }
  const daily = [];
  for (const pv of roles.pvSystems) {
    const rows = [
      ["direct_consumption_today", s.direct_consumption],
      ["grid_cost_today", s.cost],
      ["savings_today", s.profit],
    ];
    for (const [key, name] of rows) {
      const id = first(pv, key);
      if (id) daily.push({ entity: id, name });
    }
  }
  if (daily.length) cards.push(entitiesCard(daily));
  return section(s.day_totals, cards);
}

function alertsSection(ctx) {
  const { roles, s, issues } = ctx;
  const problems = roles.pvSystems.flatMap((pv) => all(pv, "underperformance", "no_production"));
  const cards = problems.map(tile);
  const open = (issues ?? []).filter(
    (i) => i.domain === DOMAIN && !i.ignored && i.issue_id !== OFFER_ISSUE,
  );
  const text = open.length
    ? s.repair_issues.replace("{count}", String(open.length))
    : problems.length ? "" : s.no_alerts;
  if (text) cards.push({ type: "markdown", content: text });
  return section(s.alerts, cards);
}

function overviewView(ctx) {
  return view(ctx.s.overview, "overview", [
    nowSection(ctx),
    forecastSection(ctx),
    totalsSection(ctx),
    alertsSection(ctx),
  ]);
}

// --- performance ------------------------------------------------------------------------

/** A 30-day daily graph from long-term statistics where the sensor has a state class,
 * else its recorded history. */
function dailyOrHistory(ids, statTypes, states) {
  if (ids.length === 0) return [];
  // Titled, so that an empty graph ("No statistics found" on a new system) still says what.
  const title = ids.length === 1 ? states[ids[0]]?.attributes?.friendly_name : undefined;
  if (ids.every((id) => hasStatistics(id, states))) return [dailyStats(ids, title, statTypes)];
  return [history(ids, title, 24 * 30)];
}

function performanceView(ctx) {
  const { roles, s, states } = ctx;
  const kpi = [];
  const errors = [];
  for (const pv of roles.pvSystems) {
    for (const key of KPI_KEYS) {
      const ids = all(pv, key);
      const stat = key.startsWith("performance_ratio") || key.startsWith("temperature") ? "mean" : "max";
      kpi.push(...dailyOrHistory(ids, [stat], states));
    }
    kpi.push(...all(pv, "performance_ratio_7d").map(tile));
    errors.push(...dailyOrHistory(all(pv, "forecast_accuracy"), ["mean"], states));
  }
  const strings = roles.inverters.flatMap((inv) =>
    [1, 2, 3, 4].flatMap((n) => all(inv, `pv${n}_energy_total`)),
  );
  // Without string energy counters (not every family has them) the strings' power today.
  const stringPowers = roles.inverters.flatMap((inv) =>
    [1, 2, 3, 4].flatMap((n) => all(inv, `pv${n}_power`)),
  );
  const powerGraph = stringPowers.length > 1 ? [history(stringPowers, undefined, 24)] : [];
  const stringCards = strings.length
    ? [dailyStats(strings, undefined, ["change"], "bar"), { type: "markdown", content: s.strings_note }]
    : powerGraph;
  return view(s.performance, "performance", [
    section(s.daily_kpis, kpi),
    section(s.forecast_error, errors),
    section(s.strings, stringCards),
  ]);
}

// --- device views -----------------------------------------------------------------------

function inverterView(inv, s) {
  const strings = [1, 2, 3, 4].flatMap((n) =>
    all(inv, `pv${n}_power`, `pv${n}_voltage`, `pv${n}_current`),
  );
  const stringPowers = [1, 2, 3, 4].flatMap((n) => all(inv, `pv${n}_power`));
  const ac = all(
    inv, "ac_power", "ac_l1_power", "ac_l2_power", "ac_l3_power", "ac_l1_voltage",
    "ac_l2_voltage", "ac_l3_voltage", "ac_rs_voltage", "ac_st_voltage", "ac_tr_voltage",
    "ac_l1_current", "ac_l2_current", "ac_l3_current", "grid_frequency", "reactive_power",
    "output_power", "output_voltage", "output_frequency", "grid_voltage",
  );
  const temps = all(
    inv, "inverter_temperature", "ipm_temperature", "boost_temperature", "dcdc_temperature",
    "battery_temperature",
  );
  const faults = all(inv, "status", "status_code", "fault_code", "warning_code", "operating_hours");
  const battery = all(inv, "battery_soc", "battery_power", "battery_charge_power",
    "battery_discharge_power", "battery_voltage");
  const totals = all(inv, "energy_total", "pv_energy_total").slice(0, 1);
  const name = deviceName(inv.device);
  return view(name, `inverter-${slug(name)}`, [
    section(s.now, all(inv, "pv_power", "ac_power", "energy_today", "growatt_cloud_current_power").map(tile)),
    section(s.strings, [
      ...(strings.length ? [entitiesCard(strings)] : []),
      ...(stringPowers.length ? [history(stringPowers, undefined, 24)] : []),
    ]),
    section(s.ac_side, ac.length ? [entitiesCard(ac)] : []),
    section(s.temperatures, temps.length ? [history(temps, undefined, 24)] : []),
    section(s.battery, battery.length ? [entitiesCard(battery)] : []),
    section(s.faults, faults.length ? [entitiesCard(faults)] : []),
    section(s.energy, totals.length ? [dailyStats(totals, undefined, ["change"], "bar")] : []),
  ]);
}

function meterView(meter, subMeters, s) {
  const now = all(meter, "dsmr_net_power", "dsmr_power_import", "dsmr_power_export");
  const phases = all(
    meter, "dsmr_power_import_phase", "dsmr_power_export_phase", "dsmr_voltage_phase",
    "dsmr_current_phase",
  );
  const tariffs = all(meter, "dsmr_active_tariff", "dsmr_energy_import_tariff",
    "dsmr_energy_export_tariff", "dsmr_energy_import_total", "dsmr_energy_export_total");
  const peaks = all(meter, "dsmr_average_demand", "dsmr_peak_demand_month");
  const subs = subMeters
    .filter((sub) => sub.device.via_device_id === meter.device.id)
    .flatMap((sub) => all(sub, "dsmr_gas", "dsmr_water", "dsmr_heat"));
  const counters = all(meter, "dsmr_energy_import_total", "dsmr_energy_export_total");
  const name = deviceName(meter.device);
  return view(name, `meter-${slug(name)}`, [
    section(s.now, [...now.map(tile), ...(now.length ? [history(now.slice(0, 1))] : [])]),
    section(s.phases, phases.length ? [entitiesCard(phases)] : []),
    section(s.tariffs, tariffs.length ? [entitiesCard(tariffs)] : []),
    section(s.energy, counters.length ? [dailyStats(counters, undefined, ["change"], "bar")] : []),
    section(s.peak_demand, peaks.map(tile)),
    section(s.sub_meters, [
      ...subs.map(tile),
      ...(subs.length ? [dailyStats(subs, undefined, ["change"], "bar")] : []),
    ]),
  ]);
}

function chargerView(ev, s) {
  const name = deviceName(ev.device);
  const settings = all(ev, "ev_start_threshold", "ev_stop_threshold", "ev_start_delay",
    "ev_stop_delay", "ev_min_current", "ev_max_current", "ev_battery_priority_soc");
  const graph = all(ev, "ev_available_surplus", "ev_target_current");
  return view(name, `ev-${slug(name)}`, [
    section(s.charging, all(ev, "ev_surplus_charging", "ev_mode", "ev_controller_state",
      "ev_available_surplus", "ev_target_current", "ev_solar_energy_today").map(tile)),
    section(s.history, graph.length ? [history(graph)] : []),
    section(s.settings, settings.length ? [entitiesCard(settings)] : []),
  ]);
}

/** On a device's own view, "Inverter ABC PV1 power" says "PV1 power" (phone width): tiles
 * and entities rows get the friendly name without the device's name in front. */
function shortenNames(view, slot, states) {
  const prefix = `${deviceName(slot.device)} `;
  const short = (id) => {
    const name = states[id]?.attributes?.friendly_name;
    return typeof name === "string" && name.startsWith(prefix) && name.length > prefix.length
      ? name.slice(prefix.length) : undefined;
  };
  for (const card of view.sections.flatMap((s) => s.cards)) {
    if (card.type === "tile" && short(card.entity)) card.name = short(card.entity);
    if (card.type === "entities") {
      card.entities = card.entities.map((row) =>
        typeof row === "string" && short(row) ? { entity: row, name: short(row) } : row);
    }
  }
  return view;
}

// --- the dashboard ----------------------------------------------------------------------

/** Energy cards need the Energy dashboard's preferences to name a solar source. */
export function energyHasSolar(energyPrefs) {
  return Boolean(energyPrefs?.energy_sources?.some((src) => src.type === "solar"));
}

export function generateDashboard({
  entries = [], devices = [], entities = [], states = {}, energyPrefs = null, issues = [],
  strings = {},
} = {}) {
  const s = { ...DEFAULT_STRINGS, ...strings };
  const entryIds = new Set(entries.map((e) => e.entry_id));
  const ours = devices.filter((d) => (d.config_entries ?? []).some((id) => entryIds.has(id)));
  const roles = classifyDevices(ours, entities, states);
  const ctx = {
    roles, s, states, issues,
    houseLoad: findHouseLoad(entities, states),
    energyCards: energyHasSolar(energyPrefs),
  };
  const views = [];
  const deviceCount = roles.inverters.length + roles.meters.length + roles.chargers.length +
    roles.pvSystems.length;
  if (deviceCount === 0) {
    return { title: s.title, views: [{ title: s.overview, path: "overview", cards: [
      { type: "markdown", content: s.nothing },
    ] }] };
  }
  views.push(overviewView(ctx));
  if (roles.pvSystems.length) views.push(performanceView(ctx));
  views.push(...roles.inverters.map((inv) => shortenNames(inverterView(inv, s), inv, states)));
  views.push(...roles.meters.map((m) => shortenNames(meterView(m, roles.subMeters, s), m, states)));
  views.push(...roles.chargers.map((ev) => shortenNames(chargerView(ev, s), ev, states)));
  dedupePaths(views);
  return { title: s.title, views: views.filter((v) => v.sections?.length || v.cards) };
}

function dedupePaths(views) {
  const seen = new Map();
  for (const v of views) {
    const n = seen.get(v.path) ?? 0;
    seen.set(v.path, n + 1);
    if (n) v.path = `${v.path}-${n + 1}`;
  }
}
