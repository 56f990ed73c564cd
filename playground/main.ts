import { Code, ConnectError } from "@connectrpc/connect";
import { createTokenClient, type TokenClient } from "../src/web/index.js";
import "./main.css";
import { type MintForm, mintKindHints, mintRequestOf } from "./mint-request.js";
import { renderInspection, updateCountdowns } from "./render-inspection.js";
import { initialServiceUrl, watchServiceOrigin } from "./service-origin.js";

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
const errorBox = byId<HTMLParagraphElement>("error");
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
  serviceOrigin.checkCredentials({ apiKey: apiKey.value, jwt: jwt.value });
  return createTokenClient({
    baseUrl: serverUrl.value,
    protocol: protocol.value === "grpc-web" ? "grpc-web" : "connect",
    ...(apiKey.value !== "" && { apiKey: apiKey.value }),
    ...(jwt.value !== "" && { jwt: jwt.value }),
    timeoutMs: 10_000,
  });
}

function mintForm(): MintForm {
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

function showError(error: unknown): void {
  const connectError = ConnectError.from(error);
  showMessage(
    serviceOrigin.explainFailure(error) ?? `${Code[connectError.code]}: ${connectError.rawMessage}`,
  );
}

function showMessage(message: string): void {
  errorBox.textContent = message;
  errorBox.hidden = false;
  status.textContent = "";
}

function clearError(): void {
  errorBox.hidden = true;
  errorBox.textContent = "";
}

async function inspect(token: string): Promise<void> {
  const response = await client().inspectToken({ token });
  inspection.replaceChildren(renderInspection(response));
  inspection.hidden = false;
  updateCountdowns(inspection, Date.now());
}

/** Runs one action with the buttons disabled; its error is shown instead of thrown. */
async function run(action: () => Promise<string>): Promise<void> {
  const buttons = document.querySelectorAll("button");
  for (const button of buttons) button.disabled = true;
  clearError();
  // Nothing from the previous action stays on screen while this one runs or if it fails.
  inspection.hidden = true;
  inspection.replaceChildren();
  status.textContent = "Working…";
  try {
    status.textContent = await action();
  } catch (error) {
    showError(error);
  } finally {
    for (const button of buttons) button.disabled = false;
  }
}

byId<HTMLFormElement>("mint-form").addEventListener("submit", (event) => {
  event.preventDefault();
  mintedToken.value = "";
  void run(async () => {
    const { token } = await client().getToken(mintRequestOf(mintForm()));
    mintedToken.value = token;
    tokenInput.value = token;
    await inspect(token);
    return `Minted and inspected over ${protocol.selectedOptions[0]?.text ?? protocol.value}.`;
  });
});

byId<HTMLFormElement>("inspect-form").addEventListener("submit", (event) => {
  event.preventDefault();
  // Pasted tokens often carry a newline or spaces around them; inside, nothing is changed.
  void run(async () => {
    await inspect(tokenInput.value.trim());
    return `Inspected over ${protocol.selectedOptions[0]?.text ?? protocol.value}.`;
  });
});

kind.addEventListener("change", showKindFields);
showKindFields();
setInterval(() => updateCountdowns(inspection, Date.now()), 1000);
