// Registry shapes of the four scenarios of issue 18, as Home Assistant's websocket API
// returns them (config_entries/get, config/device_registry/list,
// config/entity_registry/list: homeassistant/helpers/entity_registry.py as_partial_dict).
// Translation keys and unique-id patterns are those the integration's kinds use
// (growatt_local/entity.py "{serial}_{key}", dsmr/sensor.py "{equipment id}_{key}",
// pv_system/entity.py and ev_charging/entity.py "{entry_id}_{key}").

export function builder() {
  const entries = [];
  const devices = [];
  const entities = [];
  const states = {};
  const api = {
    entry(id, title) {
      entries.push({ entry_id: id, domain: "pv_monitor", title, state: "loaded" });
      return api;
    },
    device(id, entry, name, extra = {}) {
      devices.push({ id, name, name_by_user: null, config_entries: [entry], via_device_id: null, ...extra });
      return api;
    },
    entity(device, entry, domain, objectId, key, { uid, state = "1", attributes = {}, ...extra } = {}) {
      const entity_id = `${domain}.${objectId}`;
      entities.push({
        entity_id, device_id: device, config_entry_id: entry, platform: "pv_monitor",
        translation_key: key, unique_id: uid ?? `${device}_${key}`, disabled_by: null,
        hidden_by: null, entity_category: null, ...extra,
      });
      const device_name = devices.find((d) => d.id === device)?.name;
      const friendly_name = `${device_name} ${key ?? objectId}`;
      states[entity_id] = { entity_id, state, attributes: { friendly_name, ...attributes } };
      return api;
    },
    done: () => ({ entries, devices, entities, states }),
  };
  return api;
}

const MEAS = { state_class: "measurement" };
const TOTAL = { state_class: "total_increasing", device_class: "energy", unit_of_measurement: "kWh" };

export function inverter(b, entry, dev, name, { strings = 2, battery = false, stringEnergy = true } = {}) {
  b.device(dev, entry, name, { model: "MIN 3000TL-X" });
  const s = (key, attrs = MEAS, opts = {}) =>
    b.entity(dev, entry, "sensor", `${dev}_${key}`, key, { attributes: attrs, ...opts });
  s("status", {});
  s("pv_power"); s("ac_power"); s("grid_frequency"); s("ac_l1_voltage"); s("inverter_temperature");
  s("fault_code", {}, { entity_category: "diagnostic" });
  s("energy_today", TOTAL); s("energy_total", TOTAL); s("pv_energy_total", TOTAL);
  for (let n = 1; n <= strings; n++) {
    s(`pv${n}_voltage`); s(`pv${n}_current`); s(`pv${n}_power`);
    if (stringEnergy) s(`pv${n}_energy_total`, TOTAL);
  }
  if (battery) { s("battery_soc"); s("battery_power"); s("load_power"); }
  // A disabled entity never reaches the dashboard.
  s("reactive_power", MEAS, { disabled_by: "integration" });
}

export function meter(b, entry, dev, name) {
  b.device(dev, entry, name, { model: "DSMR 5" });
  const s = (key, uidKey, attrs = MEAS) =>
    b.entity(dev, entry, "sensor", `${dev}_${uidKey}`, key, { uid: `EQ_${uidKey}`, attributes: attrs });
  s("dsmr_net_power", "net_power"); s("dsmr_power_import", "power_import"); s("dsmr_power_export", "power_export");
  for (const l of ["l1", "l2", "l3"]) { s("dsmr_voltage_phase", `voltage_${l}`); s("dsmr_power_import_phase", `power_import_${l}`); }
  s("dsmr_energy_import_tariff", "energy_import_t1", TOTAL); s("dsmr_energy_import_tariff", "energy_import_t2", TOTAL);
  s("dsmr_energy_import_total", "energy_import_total", TOTAL); s("dsmr_energy_export_total", "energy_export_total", TOTAL);
  s("dsmr_active_tariff", "active_tariff", {});
  b.device(`${dev}_gas`, entry, "Gas meter", { via_device_id: dev });
  b.entity(`${dev}_gas`, entry, "sensor", `${dev}_gas`, "dsmr_gas", { uid: "EQ_gas", attributes: TOTAL });
}

export function pvSystem(b, entry, dev, name, { kpiStateClass = true, houseLoad = true } = {}) {
  b.device(dev, entry, name, { model: "PV system" });
  const kpi = kpiStateClass ? MEAS : {};
  const s = (key, attrs = {}) => b.entity(dev, entry, "sensor", `${dev}_${key}`, key, { uid: `${entry}_${key}`, attributes: attrs });
  s("forecast_energy_today"); s("forecast_energy_today_remaining"); s("expected_power", MEAS);
  s("forecast_power_now"); s("performance_ratio_today", kpi); s("performance_ratio_7d", kpi);
  s("specific_yield_today", kpi); s("capacity_factor_today", kpi); s("forecast_accuracy", MEAS);
  s("direct_consumption_today"); s("grid_cost_today"); s("savings_today");
  if (houseLoad) b.entity(dev, entry, "sensor", `${dev}_house_load`, null, { uid: `${entry}_house_load`, attributes: MEAS });
  b.entity(dev, entry, "binary_sensor", `${dev}_underperformance`, "underperformance", { uid: `${entry}_underperformance`, state: "off" });
  b.entity(dev, entry, "binary_sensor", `${dev}_no_production`, "no_production", { uid: `${entry}_no_production`, state: "off" });
}

export function charger(b, entry, dev, name) {
  b.device(dev, entry, name, { model: "EV surplus charging" });
  const e = (domain, key) => b.entity(dev, entry, domain, `${dev}_${key}`, key, { uid: `${entry}_${key}` });
  e("switch", "ev_surplus_charging"); e("select", "ev_mode"); e("sensor", "ev_available_surplus");
  e("sensor", "ev_target_current"); e("sensor", "ev_controller_state"); e("sensor", "ev_solar_energy_today");
  e("number", "ev_min_current"); e("number", "ev_max_current");
}
