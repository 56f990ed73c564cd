/**
 * Where the page sends its calls, and what it sends there. The Service URL may be filled in by
 * a link (`?server=`), so a person may not have chosen it: the API key and JWT they type go to
 * the page's own origin, and to another origin only once they have ticked the box that names it.
 */

/** A call the page refused to make itself, with a message for the person (no code prefix). */
export class PageRefusal extends Error {}

export interface ServiceOriginElements {
  serverUrl: HTMLInputElement;
  /** Shown while the Service URL is on another origin than the page. */
  notice: HTMLElement;
  noticeText: HTMLElement;
  trust: HTMLInputElement;
  /** Names the origin in the confirmation's label. */
  trustOrigin: HTMLElement;
}

export interface ServiceOrigin {
  /**
   * Throws a {@link PageRefusal} when credentials are typed and the Service URL is on another
   * origin the person has not confirmed.
   */
  checkCredentials(credentials: { apiKey: string; jwt: string }): void;
  /** A message for a call the browser blocked (the page's CSP), or `undefined`. */
  explainFailure(error: unknown): string | undefined;
}

/** `?server=` when it is an http(s) URL, else the page's own origin. */
export function initialServiceUrl(page: Location): string {
  const requested = new URLSearchParams(page.search).get("server");
  return requested !== null && originOf(requested) !== undefined ? requested : page.origin;
}

function originOf(url: string): string | undefined {
  if (!URL.canParse(url)) return undefined;
  const parsed = new URL(url);
  return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.origin : undefined;
}

/**
 * Keeps the notice and the confirmation in step with the Service URL. `onBlocked` gets the
 * message for a call the browser blocked, which it reports after the call has failed.
 */
export function watchServiceOrigin(
  elements: ServiceOriginElements,
  page: Location,
  onBlocked: (message: string) => void,
): ServiceOrigin {
  const { serverUrl, notice, noticeText, trust, trustOrigin } = elements;
  let trusted: string | undefined;
  const blocked = new Set<string>();

  const update = () => {
    const target = originOf(serverUrl.value);
    if (target !== trusted) {
      trusted = undefined;
      trust.checked = false;
    }
    notice.hidden = target === undefined || target === page.origin;
    if (notice.hidden || target === undefined) return;
    noticeText.textContent = `The Service URL is on ${target}, not on ${page.origin} where this page came from. Tokens are requested from ${target}; your API key and JWT are sent there only if you confirm.`;
    trustOrigin.textContent = target;
  };
  serverUrl.addEventListener("input", update);
  trust.addEventListener("change", () => {
    trusted = trust.checked ? originOf(serverUrl.value) : undefined;
  });
  // The page's Content-Security-Policy lets it call only its own origin and the listed services.
  const blockedMessage = (target: string) =>
    `This page may not call ${target}: the service that serves it lists the other services it may call in PLAYGROUND_SERVICE_ORIGINS.`;
  document.addEventListener("securitypolicyviolation", (event) => {
    const origin =
      event.effectiveDirective === "connect-src" ? originOf(event.blockedURI) : undefined;
    if (origin === undefined) return;
    blocked.add(origin);
    if (origin === originOf(serverUrl.value)) onBlocked(blockedMessage(origin));
  });
  update();

  return {
    checkCredentials({ apiKey, jwt }) {
      if (apiKey === "" && jwt === "") return;
      const target = originOf(serverUrl.value);
      if (target === undefined || target === page.origin || target === trusted) return;
      throw new PageRefusal(
        `Not sent: your API key or JWT would go to ${target}, which is not where this page came from. Tick "Send my API key and JWT to ${target}" if you trust it, or clear both fields.`,
      );
    },
    explainFailure(error) {
      const target = originOf(serverUrl.value);
      if (error instanceof PageRefusal) return error.message;
      return target !== undefined && blocked.has(target) ? blockedMessage(target) : undefined;
    },
  };
}
