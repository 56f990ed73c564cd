/**
 * Agora's privilege names per AccessToken2 service type, in snake_case, from the constants of
 * agora-token's AccessToken2 (`kPrivilegeJoinChannel` → `join_channel`).
 */
const namesByServiceType: Readonly<Record<number, Readonly<Record<number, string>>>> = {
  1: {
    1: "join_channel",
    2: "publish_audio_stream",
    3: "publish_video_stream",
    4: "publish_data_stream",
  },
  2: { 1: "login" },
  3: { 1: "publish_mix_stream", 2: "publish_raw_stream" },
  4: { 1: "login" },
  5: { 1: "user", 2: "app" },
  6: { 1: "publish", 2: "play" },
  7: { 1: "room_user", 2: "user", 3: "app" },
  8: { 1: "login" },
};

/** The name of privilege `id` of service type `serviceType`, or "" when it has none known. */
export function privilegeName(serviceType: number, id: number): string {
  const names = Object.hasOwn(namesByServiceType, serviceType)
    ? namesByServiceType[serviceType]
    : undefined;
  return names && Object.hasOwn(names, id) ? (names[id] ?? "") : "";
}
