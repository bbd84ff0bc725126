// PV Monitor dashboard strategy: `strategy: {type: custom:pv-monitor}` in a dashboard's
// configuration. Home Assistant's frontend looks up the custom element
// `ll-strategy-dashboard-pv-monitor` and calls its static `generate(config, hass)`; this
// fetches what exists over the websocket and hands it to the pure generator.
import { DOMAIN, generateDashboard } from "./generator.js";

const TRANSLATION_PREFIX = `component.${DOMAIN}.selector.dashboard.options.`;

async function loadStrings(hass) {
  try {
    const { resources } = await hass.callWS({
      type: "frontend/get_translations",
      language: hass.language,
      category: "selector",
      integration: [DOMAIN],
    });
    const strings = {};
    for (const [key, value] of Object.entries(resources ?? {})) {
      if (key.startsWith(TRANSLATION_PREFIX)) strings[key.slice(TRANSLATION_PREFIX.length)] = value;
    }
    return strings;
  } catch (err) {
    return {};
  }
}

async function optional(promise, fallback) {
  try {
    return await promise;
  } catch (err) {
    return fallback;
  }
}

export async function fetchInputs(hass) {
  const [entries, devices, entities, energyPrefs, issues, strings] = await Promise.all([
    hass.callWS({ type: "config_entries/get", domain: DOMAIN }),
    hass.callWS({ type: "config/device_registry/list" }),
    hass.callWS({ type: "config/entity_registry/list" }),
    optional(hass.callWS({ type: "energy/get_prefs" }), null),
    optional(hass.callWS({ type: "repairs/list_issues" }).then((r) => r.issues), []),
    loadStrings(hass),
  ]);
  return { entries, devices, entities, states: hass.states, energyPrefs, issues, strings };
}

class PvMonitorDashboardStrategy extends HTMLElement {
  static async generate(config, hass) {
    const dashboard = generateDashboard(await fetchInputs(hass));
    if (config?.title) dashboard.title = config.title;
    return dashboard;
  }
}

if (!customElements.get("ll-strategy-dashboard-pv-monitor")) {
  customElements.define("ll-strategy-dashboard-pv-monitor", PvMonitorDashboardStrategy);
}
