// CLIENT TRACKING / CACHING / TRACKINGINFO / GETREDIR state (option checks and replies like
// Redis 7.0; invalidation messages are not generated yet) and CLIENT NO-EVICT's flag.
import type { Client } from "../server/client.ts";
import { resetHooks } from "./connection.ts";
import { E_SYNTAX, parseInteger } from "./util.ts";

/** Per-client state this module owns (kept off the shared Client class). */
export interface ClientExtra {
  noEvict: boolean;
  tracking: boolean;
  bcast: boolean;
  optin: boolean;
  optout: boolean;
  noloop: boolean;
  caching: boolean;
  redirect: number;
  prefixes: string[];
}

/** Tracking/no-evict state per client, kept off the shared Client class. */
export const extras = new WeakMap<Client, ClientExtra>();

/** State of a client's CLIENT TRACKING / NO-EVICT settings. */
export function clientExtra(c: Client): ClientExtra {
  let e = extras.get(c);
  if (!e) {
    e = {
      noEvict: false,
      tracking: false,
      bcast: false,
      optin: false,
      optout: false,
      noloop: false,
      caching: false,
      redirect: 0,
      prefixes: [],
    };
    extras.set(c, e);
  }
  return e;
}

/** Turns tracking off (CLIENT TRACKING OFF, RESET). */
export function disableTracking(c: Client): void {
  const e = extras.get(c);
  if (!e) return;
  Object.assign(e, {
    tracking: false,
    bcast: false,
    optin: false,
    optout: false,
    noloop: false,
    caching: false,
    redirect: 0,
    prefixes: [],
  });
}
resetHooks.push(disableTracking);

/** Number of clients with tracking on (INFO clients tracking_clients). */
export function trackingClients(clients: Iterable<Client>): number {
  let n = 0;
  for (const c of clients) if (extras.get(c)?.tracking) n++;
  return n;
}

/** CLIENT TRACKING ON|OFF [REDIRECT id] [BCAST] [PREFIX p]... [OPTIN] [OPTOUT] [NOLOOP]. */
export function clientTracking(c: Client, argv: string[]): void {
  let redirect = 0;
  let bcast = false, optin = false, optout = false, noloop = false;
  const prefixes: string[] = [];
  for (let j = 3; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    const opt = argv[j].toLowerCase();
    if (opt === "redirect" && more) {
      j++;
      if (redirect !== 0) return c.error("ERR A client can only redirect to a single other client");
      const id = parseInteger(argv[j]);
      if (id === null) return c.error("ERR value is not an integer or out of range");
      if (!c.server.clients.has(id)) {
        return c.error("ERR The client ID you want redirect to does not exist");
      }
      redirect = id;
    } else if (opt === "bcast") bcast = true;
    else if (opt === "optin") optin = true;
    else if (opt === "optout") optout = true;
    else if (opt === "noloop") noloop = true;
    else if (opt === "prefix" && more) prefixes.push(argv[++j]);
    else return c.error(E_SYNTAX);
  }
  const e = clientExtra(c);
  const mode = argv[2].toLowerCase();
  if (mode === "on") {
    if (!bcast && prefixes.length) {
      return c.error("ERR PREFIX option requires BCAST mode to be enabled");
    }
    if (e.tracking && e.bcast !== bcast) {
      return c.error(
        "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.",
      );
    }
    if (bcast && (optin || optout)) {
      return c.error("ERR OPTIN and OPTOUT are not compatible with BCAST");
    }
    if (optin && optout) return c.error("ERR You can't specify both OPTIN mode and OPTOUT mode");
    if ((optin && e.optout) || (optout && e.optin)) {
      return c.error(
        "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.",
      );
    }
    e.tracking = true;
    e.bcast = bcast;
    e.optin ||= optin;
    e.optout ||= optout;
    e.noloop ||= noloop;
    e.redirect = redirect;
    for (const p of prefixes) if (!e.prefixes.includes(p)) e.prefixes.push(p);
    if (bcast && e.prefixes.length === 0) e.prefixes.push("");
  } else if (mode === "off") {
    disableTracking(c);
  } else return c.error(E_SYNTAX);
  c.out.status("OK");
}

/** CLIENT CACHING YES|NO. */
export function clientCaching(c: Client, argv: string[]): void {
  const e = clientExtra(c);
  if (!e.tracking) {
    return c.error(
      "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled",
    );
  }
  const opt = argv[2].toLowerCase();
  if (opt === "yes") {
    if (!e.optin) {
      return c.error(
        "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.",
      );
    }
  } else if (opt === "no") {
    if (!e.optout) {
      return c.error(
        "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.",
      );
    }
  } else return c.error(E_SYNTAX);
  e.caching = true;
  c.out.status("OK");
}

/** CLIENT TRACKINGINFO. */
export function trackingInfo(c: Client): void {
  const e = clientExtra(c);
  const flags = [e.tracking ? "on" : "off"];
  if (e.bcast) flags.push("bcast");
  if (e.optin) {
    flags.push("optin");
    if (e.caching) flags.push("caching-yes");
  }
  if (e.optout) {
    flags.push("optout");
    if (e.caching) flags.push("caching-no");
  }
  if (e.noloop) flags.push("noloop");
  c.out.map(3);
  c.out.bulk("flags");
  c.out.set(flags.length);
  for (const f of flags) c.out.bulk(f);
  c.out.bulk("redirect");
  c.out.int(e.tracking ? e.redirect : -1);
  c.out.bulk("prefixes");
  c.out.bulkArray(e.tracking ? e.prefixes : []);
}
