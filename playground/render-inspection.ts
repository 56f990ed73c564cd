import type { Timestamp } from "@bufbuild/protobuf/wkt";
import {
  DEMO_CREDENTIALS_WARNING,
  formatDuration,
  formatTime,
  serviceName,
  signatureVerdict,
} from "../src/cli/format-inspection.js";
import { type InspectTokenResponse, ServiceKind } from "../src/web/index.js";

/** What the page says next to every token the public demo credentials signed. */
export const DEMO_WARNING =
  "Signed with the public demo credentials: Agora refuses this token. The service needs your project's APP_ID and APP_CERTIFICATE for tokens that join.";

/** Seconds since the Unix epoch of a Timestamp. */
const secondsOf = (at: Timestamp | undefined) => Number(at?.seconds ?? 0n);

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  text = "",
  className = "",
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  // textContent only: everything in a token is attacker-controlled text.
  node.textContent = text;
  if (className) node.className = className;
  return node;
}

function row(table: HTMLTableElement, label: string, ...cells: (string | Node)[]): void {
  const tr = table.insertRow();
  tr.append(element("th", label));
  for (const cell of cells) {
    const td = element("td");
    td.append(cell);
    tr.append(td);
  }
}

/** A span whose text counts down to `at`; {@link updateCountdowns} refreshes it. */
function countdown(at: Timestamp | undefined): HTMLSpanElement {
  const span = element("span", "", "countdown");
  span.dataset.expiresAt = String(secondsOf(at));
  return span;
}

/** Rewrites every countdown on the page against `nowMs`. */
export function updateCountdowns(root: ParentNode, nowMs: number): void {
  for (const span of root.querySelectorAll<HTMLElement>(".countdown")) {
    const left = Number(span.dataset.expiresAt) - nowMs / 1000;
    span.textContent =
      left > 0 ? `in ${formatDuration(left)}` : `expired ${formatDuration(left)} ago`;
    span.className = `countdown ${left > 0 ? "good" : "bad"}`;
  }
}

/** When the token's first privilege expires, if it has any. */
function firstPrivilegeExpiry(inspection: InspectTokenResponse): Timestamp | undefined {
  let first: Timestamp | undefined;
  for (const service of inspection.services) {
    for (const privilege of service.privileges) {
      if (first === undefined || secondsOf(privilege.expiresAt) < secondsOf(first)) {
        first = privilege.expiresAt;
      }
    }
  }
  return first;
}

/** The inspection as two tables: the token, then every service's privileges. */
export function renderInspection(inspection: InspectTokenResponse): DocumentFragment {
  const fragment = document.createDocumentFragment();
  fragment.append(element("h2", "Inspection"));

  // Nothing green for a token Agora refuses, however well it verifies here.
  if (inspection.demoCredentials) {
    const warning = element("p", DEMO_WARNING, "demo-warning");
    warning.id = "inspection-demo";
    fragment.append(warning);
  }
  const token = element("table");
  token.id = "token-table";
  row(
    token,
    "App ID",
    element("span", inspection.appId, "mono"),
    inspection.demoCredentials
      ? element("span", "the public demo App ID", "bad")
      : inspection.appIdMatches
        ? element("span", "this service's App ID", "good")
        : element("span", "not this service's App ID", "bad"),
  );
  row(
    token,
    "Signature",
    inspection.demoCredentials
      ? element("span", DEMO_CREDENTIALS_WARNING, "bad")
      : inspection.signatureValid
        ? element("span", signatureVerdict(inspection), "good")
        : element("span", "not valid for this service's certificate", "bad"),
    "",
  );
  row(token, "Issued at", formatTime(inspection.issuedAt), "");
  row(token, "Expires at", formatTime(inspection.expiresAt), countdown(inspection.expiresAt));
  row(token, "Lifetime", formatDuration(inspection.expireSeconds), "");
  // The SDK warns (onTokenPrivilegeWillExpire) 30 s before the first privilege expires.
  const first = firstPrivilegeExpiry(inspection);
  if (first !== undefined && secondsOf(first) < secondsOf(inspection.expiresAt)) {
    row(token, "First privilege expires", formatTime(first), countdown(first));
  }
  fragment.append(token);

  const services = element("table");
  services.id = "services-table";
  const head = services.createTHead().insertRow();
  const titles = ["Service", "Channel", "User", "Privilege", "Lifetime", "Expires at", "Countdown"];
  for (const title of titles) head.append(element("th", title));
  const body = services.createTBody();
  for (const service of inspection.services) {
    const user =
      service.kind === ServiceKind.RTC
        ? service.uid === ""
          ? "0 (any user)"
          : service.uid
        : service.userId || service.uid || (service.kind === ServiceKind.CHAT ? "(app token)" : "");
    const privileges = service.privileges.length > 0 ? service.privileges : [undefined];
    for (const privilege of privileges) {
      const tr = body.insertRow();
      tr.append(
        element("td", serviceName(service.kind)),
        element("td", service.channel, "mono"),
        element("td", user, "mono"),
        element("td", privilege ? `${privilege.name || "unknown"} (${privilege.id})` : "none"),
        element("td", privilege ? formatDuration(privilege.expireSeconds) : ""),
        element("td", privilege ? formatTime(privilege.expiresAt) : ""),
      );
      const cell = element("td");
      if (privilege) cell.append(countdown(privilege.expiresAt));
      tr.append(cell);
      // A narrow screen shows each row as a card, each cell under its column's title.
      for (const [at, td] of [...tr.cells].entries()) td.dataset.label = titles[at] ?? "";
    }
  }
  fragment.append(services);
  if (inspection.servicesIncomplete) {
    fragment.append(
      element("p", "More services follow one of an unknown type and cannot be read.", "bad"),
    );
  }
  return fragment;
}
