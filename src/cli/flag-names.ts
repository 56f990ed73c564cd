/** The command-line flag for each request field, relative to its token kind. */
const flagOfField: Readonly<Record<string, string>> = {
  channel: "--channel",
  uid: "--uid",
  role: "--role",
  expire_seconds: "--expire",
  privilege_expire_seconds: "--privilege-expire",
  "privilege_expiry.join_channel_seconds": "--join-channel-expire",
  "privilege_expiry.publish_audio_seconds": "--publish-audio-expire",
  "privilege_expiry.publish_video_seconds": "--publish-video-expire",
  "privilege_expiry.publish_data_stream_seconds": "--publish-data-stream-expire",
  rtm_user_id: "--rtm-user-id",
  rtm_expire_seconds: "--rtm-expire",
  kind: "--kind",
};

// "rtc.role", "rtc_rtm.uid", "agent.rtc_rtm.expire_seconds": the field a service error starts with.
const FIELD = /^(?:rtc|rtm|chat|rtc_rtm|agent)\.(?:rtc_rtm\.)?([a-z_.]+)(?= )/;
// Field names with an underscore never occur as ordinary words in a message.
const FIELD_IN_TEXT = new RegExp(
  `\\b(${Object.keys(flagOfField)
    .filter((field) => field.includes("_"))
    .map((field) => field.replaceAll(".", "\\."))
    .join("|")})\\b`,
  "g",
);

/**
 * A service error in the words of the command line: `rtc.expire_seconds must be …` becomes
 * `--expire must be …`, and a field named in the rule becomes its flag. Other messages (a refused
 * JWT, a token that does not parse) are left as they are.
 */
export function inFlagTerms(message: string): string {
  const match = FIELD.exec(message);
  const flag = match?.[1] === undefined ? undefined : flagOfField[match[1]];
  if (match === null || flag === undefined) return message;
  const rule = message.slice(match[0].length);
  return flag + rule.replace(FIELD_IN_TEXT, (field) => flagOfField[field] ?? field);
}
