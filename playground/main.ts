import { Code, ConnectError } from "@connectrpc/connect";
import { createTokenClient, type TokenClient } from "../src/web/index.js";
import { explainCallFailure } from "./call-failure.js";
import "./main.css";
import { type MintForm, mintKindHints, mintRequestOf } from "./mint-request.js";
import { DEMO_WARNING, renderInspection, updateCountdowns } from "./render-inspection.js";
import { initialServiceUrl, PageRefusal, watchServiceOrigin } from "./service-origin.js";

function byId<T extends HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`the page has no #${id}`);
  return node as T;
}

const serverUrl = byId<HTMLInputElement>("server-url");
const protocol = byId<HTMLSelectElement>("protocol");
const apiKey = byId<HTMLInputElement>("api-key");
const jwt = byId<HTMLInputElement>("jwt");
const kind = byId<HTMLSelectElement>("mint-kind");
const mintedToken = byId<HTMLTextAreaElement>("minted-token");
const tokenInput = byId<HTMLTextAreaElement>("token");
const mintedDemo = byId<HTMLParagraphElement>("minted-demo");
const copyButton = byId<HTMLButtonElement>("copy-token");
const copyStatus = byId<HTMLSpanElement>("copy-status");
const mintForm = byId<HTMLFormElement>("mint-form");
const inspectForm = byId<HTMLFormElement>("inspect-form");
/** Each action's errors appear under it. */
const errorBoxes = new Map<HTMLFormElement, HTMLParagraphElement>([
  [mintForm, byId("mint-error")],
  [inspectForm, byId("inspect-error")],
]);
/** The box of the action that runs or ran last, for a failure the browser reports late. */
let actionErrorBox = errorBoxes.get(mintForm) as HTMLParagraphElement;
const status = byId<HTMLParagraphElement>("status");
const inspection = byId<HTMLElement>("inspection");
const mintHint = byId<HTMLParagraphElement>("mint-hint");

// The service this page came from, unless ?server= names another (which its CORS must allow).
serverUrl.value = initialServiceUrl(location);
const serviceOrigin = watchServiceOrigin(
  {
    serverUrl,
    notice: byId("server-notice"),
    noticeText: byId("server-notice-text"),
    trust: byId<HTMLInputElement>("trust-server"),
    trustOrigin: byId("trust-server-origin"),
  },
  location,
  (message) => showMessage(message),
);

/** The fields of the mint form for the chosen kind; the others are hidden. */
function showKindFields(): void {
  for (const field of document.querySelectorAll<HTMLElement>("#mint-form [data-for]")) {
    field.hidden = !(field.dataset.for ?? "").split(" ").includes(kind.value);
  }
  mintHint.textContent = mintKindHints[kind.value] ?? "";
}

function client(): TokenClient {
  const credentials = { apiKey: apiKey.value, jwt: jwt.value };
  if (credentials.apiKey !== "" && credentials.jwt !== "") {
    throw new PageRefusal(
      "Type an API key or a JWT, not both: the service refuses a call that carries two credentials.",
    );
  }
  serviceOrigin.checkCredentials(credentials);
  try {
    return createTokenClient({
      baseUrl: serverUrl.value,
      protocol: protocol.value === "grpc-web" ? "grpc-web" : "connect",
      ...(credentials.apiKey !== "" && { apiKey: credentials.apiKey }),
      ...(credentials.jwt !== "" && { jwt: credentials.jwt }),
      timeoutMs: 10_000,
    });
  } catch (error) {
    // The client names its options (baseUrl, apiKey, jwt); the page has fields.
    if (!(error instanceof TypeError)) throw error;
    throw new PageRefusal(
      error.message
        .replace(/^baseUrl\b/, "The Service URL")
        .replace(/^apiKey\b/, "The API key")
        .replace(/^jwt\b/, "The JWT"),
    );
  }
}

function mintFields(): MintForm {
  const value = (id: string) => byId<HTMLInputElement | HTMLSelectElement>(id).value;
  return {
    kind: kind.value,
    channel: value("channel"),
    uid: value("uid"),
    role: value("role"),
    agentKind: value("agent-kind"),
    rtmUserId: value("rtm-user-id"),
    expire: value("expire"),
    privilegeExpire: value("privilege-expire"),
    joinChannelExpire: value("join-channel-expire"),
    publishAudioExpire: value("publish-audio-expire"),
    publishVideoExpire: value("publish-video-expire"),
    publishDataStreamExpire: value("publish-data-stream-expire"),
    rtmExpire: value("rtm-expire"),
  };
}

async function showError(error: unknown): Promise<void> {
  const connectError = ConnectError.from(error);
  const message =
    serviceOrigin.explainFailure(error) ??
    (await explainCallFailure(error, serverUrl.value, location.origin)) ??
    `${Code[connectError.code]}: ${connectError.rawMessage}`;
  // The page's CSP may have blocked the call (and the probe): the browser reports it late.
  showMessage(serviceOrigin.explainFailure(error) ?? message);
}

function showMessage(message: string, box = actionErrorBox): void {
  box.textContent = message;
  box.hidden = false;
  status.textContent = "";
}

function clearErrors(): void {
  for (const box of errorBoxes.values()) {
    box.hidden = true;
    box.textContent = "";
  }
}

async function inspect(token: string): Promise<void> {
  const response = await client().inspectToken({ token });
  inspection.replaceChildren(renderInspection(response));
  inspection.hidden = false;
  updateCountdowns(inspection, Date.now());
}

/** Runs one action with the buttons disabled; its error is shown under it instead of thrown. */
async function run(form: HTMLFormElement, action: () => Promise<string>): Promise<void> {
  const buttons = document.querySelectorAll<HTMLButtonElement>("form button");
  for (const button of buttons) button.disabled = true;
  copyButton.disabled = true;
  clearErrors();
  actionErrorBox = errorBoxes.get(form) ?? actionErrorBox;
  // Nothing from the previous action stays on screen while this one runs or if it fails.
  inspection.hidden = true;
  inspection.replaceChildren();
  copyStatus.textContent = "";
  status.textContent = "Working…";
  try {
    status.textContent = await action();
  } catch (error) {
    await showError(error);
  } finally {
    for (const button of buttons) button.disabled = false;
    copyButton.disabled = mintedToken.value === "";
  }
}

for (const [form, box] of errorBoxes) {
  // A click on the button starts an action even when the browser's own check of the form then
  // stops it (and Enter in a field clicks it too): the previous error goes at once.
  form.querySelector("button[type=submit]")?.addEventListener("click", () => {
    clearErrors();
    actionErrorBox = box;
  });
  // The browser's check says what is wrong in a bubble that goes away; say it here as well.
  form.addEventListener(
    "invalid",
    (event) => {
      const field = event.target as HTMLInputElement;
      if (!box.hidden) return;
      const label = field.closest("label")?.firstChild?.textContent?.trim() ?? field.id;
      showMessage(`${label}: ${field.validationMessage}`, box);
    },
    true,
  );
}

mintForm.addEventListener("submit", (event) => {
  event.preventDefault();
  mintedToken.value = "";
  mintedDemo.hidden = true;
  void run(mintForm, async () => {
    const response = await client().getToken(mintRequestOf(mintFields()));
    mintedToken.value = response.token;
    tokenInput.value = response.token;
    mintedDemo.textContent = DEMO_WARNING;
    mintedDemo.hidden = !response.demoCredentials;
    await inspect(response.token);
    return `Minted and inspected over ${protocol.selectedOptions[0]?.text ?? protocol.value}.`;
  });
});

inspectForm.addEventListener("submit", (event) => {
  event.preventDefault();
  // Pasted tokens often carry a newline or spaces around them; inside, nothing is changed.
  void run(inspectForm, async () => {
    await inspect(tokenInput.value.trim());
    return `Inspected over ${protocol.selectedOptions[0]?.text ?? protocol.value}.`;
  });
});

copyButton.addEventListener("click", async () => {
  try {
    await navigator.clipboard.writeText(mintedToken.value);
    copyStatus.textContent = "Copied";
  } catch {
    // No clipboard permission (or not a secure context): leave the token selected for Ctrl+C.
    mintedToken.select();
    copyStatus.textContent = "The browser refused the clipboard: the token is selected, copy it";
  }
});

kind.addEventListener("change", showKindFields);
showKindFields();
setInterval(() => updateCountdowns(inspection, Date.now()), 1000);
