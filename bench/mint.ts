// Minting micro-benchmark: µs per token for agora-token's RtcTokenBuilder and for this service's
// mint path (validation + encoder), same requests, same process. Usage: npm run bench:mint
import { cpus } from "node:os";
import agoraToken from "agora-token";
import { createTokenMinter } from "../src/token/token-minter.js";

const { RtcRole, RtcTokenBuilder } = agoraToken;

const credentials = {
  appId: "970CA35de60c44645bbae8a215061b33",
  appCertificate: "5CFd2fd1755d40ecb72977518be15d3b",
};
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 50_000);
const ROUNDS = 5;

function microsecondsPerCall(run: (i: number) => string): number {
  for (let i = 0; i < 2_000; i++) run(i); // warm up
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < ITERATIONS; i++) run(i);
    const elapsed = Number(process.hrtime.bigint() - start) / 1_000 / ITERATIONS;
    best = Math.min(best, elapsed);
  }
  return best;
}

const minter = createTokenMinter({ credentials });
const agora = microsecondsPerCall((i) =>
  RtcTokenBuilder.buildTokenWithUserAccount(
    credentials.appId,
    credentials.appCertificate,
    "bench-channel",
    `user-${i % 1000}`,
    RtcRole.PUBLISHER,
    3600,
    3600,
  ),
);
const ours = microsecondsPerCall((i) => {
  const result = minter.mint({
    kind: "rtc",
    channel: "bench-channel",
    uid: `user-${i % 1000}`,
    role: "publisher",
    expireSeconds: 3600,
  });
  if (result.kind !== "ok") throw new Error("invalid");
  return result.token;
});

console.log(
  `machine: ${cpus()[0]?.model ?? "unknown"} (${cpus().length} cores), Node ${process.version}`,
);
console.log(`iterations: ${ITERATIONS} x ${ROUNDS} rounds (best round), RTC publisher token`);
console.log(`agora-token RtcTokenBuilder   ${agora.toFixed(2)} µs/token`);
console.log(`this service (validate+mint)  ${ours.toFixed(2)} µs/token`);
console.log(`speed-up                      ${(agora / ours).toFixed(2)}x`);
