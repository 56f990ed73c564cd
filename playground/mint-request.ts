import { AgentKind, RtcRole, type TokenClient } from "../src/web/index.js";

type MintRequest = Parameters<TokenClient["getToken"]>[0];

/** What the mint form holds, as typed; an empty number field means 0 (the service's default). */
export interface MintForm {
  kind: string;
  channel: string;
  uid: string;
  role: string;
  agentKind: string;
  rtmUserId: string;
  expire: string;
  privilegeExpire: string;
  joinChannelExpire: string;
  publishAudioExpire: string;
  publishVideoExpire: string;
  publishDataStreamExpire: string;
  rtmExpire: string;
}

/** The token kinds the form offers, with a hint on what each one's fields mean. */
export const mintKindHints: Readonly<Record<string, string>> = {
  rtc: 'RTC: uid "0" means any user. Channel and uid use Agora\'s character set, at most 64 and 255 bytes. Leave the privilege lifetimes empty for privileges that last as long as the token.',
  rtm: 'RTM: the channel is an optional stream channel ("*" for all); leave it empty for none.',
  chat: "Chat: leave the user empty for an app token.",
  rtc_rtm:
    'RTC + RTM: one token for both. An empty RTM user logs in as the uid (so uid "0" needs one).',
  agent:
    "AI agent: the token an agent joins with, for its own uid (agent_rtc_uid). Conversational AI or speech to text.",
};

const seconds = (value: string) => Number(value || "0");

/** The `GetToken` request the form asks for. */
export function mintRequestOf(form: MintForm): MintRequest {
  const expireSeconds = seconds(form.expire);
  switch (form.kind) {
    case "rtm":
      return {
        request: { case: "rtm", value: { uid: form.uid, channel: form.channel, expireSeconds } },
      };
    case "chat":
      return { request: { case: "chat", value: { uid: form.uid, expireSeconds } } };
    case "rtc_rtm":
      return { request: { case: "rtcRtm", value: rtcRtmOf(form) } };
    case "agent": {
      const kind =
        form.agentKind === "stt" ? AgentKind.SPEECH_TO_TEXT : AgentKind.CONVERSATIONAL_AI;
      return { request: { case: "agent", value: { kind, rtcRtm: rtcRtmOf(form) } } };
    }
    default:
      return { request: { case: "rtc", value: rtcOf(form) } };
  }
}

/** The RTC fields; any per-privilege lifetime typed sends them all (the empty ones as 0). */
function rtcOf(form: MintForm) {
  const each = [
    form.joinChannelExpire,
    form.publishAudioExpire,
    form.publishVideoExpire,
    form.publishDataStreamExpire,
  ];
  return {
    channel: form.channel,
    uid: form.uid,
    role: form.role === "subscriber" ? RtcRole.SUBSCRIBER : RtcRole.PUBLISHER,
    expireSeconds: seconds(form.expire),
    privilegeExpireSeconds: seconds(form.privilegeExpire),
    ...(each.some((value) => value !== "") && {
      privilegeExpiry: {
        joinChannelSeconds: seconds(form.joinChannelExpire),
        publishAudioSeconds: seconds(form.publishAudioExpire),
        publishVideoSeconds: seconds(form.publishVideoExpire),
        publishDataStreamSeconds: seconds(form.publishDataStreamExpire),
      },
    }),
  };
}

function rtcRtmOf(form: MintForm) {
  return { ...rtcOf(form), rtmUserId: form.rtmUserId, rtmExpireSeconds: seconds(form.rtmExpire) };
}
