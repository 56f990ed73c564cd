// Minting micro-benchmark: µs per RTC publisher token with agora-token's RtcTokenBuilder and with
// this service's mint path (validation + encoder), the same requests in the same process, in
// interleaved rounds (medians). Then each benchmarked request is minted once more by both with
// agora-token's issue time and salt, and the tokens must be the same bytes.
// Usage: npm run bench:mint  (BENCH_ROUNDS=5 BENCH_ITERATIONS=50000 to change)
import { cpus } from "node:os";
import agoraToken from "agora-token";
import { parseAccessToken2 } from "../src/token/parse-access-token2.js";
import { createTokenMinter } from "../src/token/token-minter.js";

const { RtcRole, RtcTokenBuilder } = agoraToken;

const credentials = {
  appId: "970CA35de60c44645bbae8a215061b33",
  appCertificate: "5CFd2fd1755d40ecb72977518be15d3b",
};
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 50_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
/** Minting at least this many times faster than agora-token's builder is the goal. */
const GOAL = 2;
/** Distinct accounts: uids of 6 to 8 characters, as a real app's vary. */
const ACCOUNTS = Array.from({ length: 1000 }, (_, i) => `user-${i}`);

const agora = (i: number) =>
  RtcTokenBuilder.buildTokenWithUserAccount(
    credentials.appId,
    credentials.appCertificate,
    "bench-channel",
    ACCOUNTS[i % ACCOUNTS.length] ?? "",
    RtcRole.PUBLISHER,
    3600,
    3600,
  );

function oursWith(minter: ReturnType<typeof createTokenMinter>) {
  return (i: number) => {
    const result = minter.mint({
      kind: "rtc",
      channel: "bench-channel",
      uid: ACCOUNTS[i % ACCOUNTS.length] ?? "",
      role: "publisher",
      expireSeconds: 3600,
    });
    if (result.kind !== "ok") throw new Error(`invalid: ${result.violation.rule}`);
    return result.token;
  };
}
const ours = oursWith(createTokenMinter({ credentials }));

function microsecondsPerToken(run: (i: number) => string): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < ITERATIONS; i++) run(i);
  return Number(process.hrtime.bigint() - start) / 1_000 / ITERATIONS;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};

for (let i = 0; i < 5_000; i++) {
  agora(i);
  ours(i);
}
const agoraRounds: number[] = [];
const ourRounds: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  // Alternate which goes first, so that neither always runs on a warmer or quieter machine.
  if (round % 2 === 0) {
    agoraRounds.push(microsecondsPerToken(agora));
    ourRounds.push(microsecondsPerToken(ours));
  } else {
    ourRounds.push(microsecondsPerToken(ours));
    agoraRounds.push(microsecondsPerToken(agora));
  }
}

// Byte identity on the benchmarked requests: agora-token's token, then ours with its issue time
// and salt, in the same order of accounts (so the reused zlib engine sees the same sequence).
let issuedAt = 0;
let salt = 1;
const replay = oursWith(
  createTokenMinter({ credentials, clock: () => issuedAt * 1000, salt: () => salt }),
);
let identical = 0;
for (let i = 0; i < ACCOUNTS.length * 2; i++) {
  const expected = agora(i);
  const parsed = parseAccessToken2(expected);
  if (parsed.kind !== "ok") throw new Error(`agora-token made an unreadable token: ${expected}`);
  ({ issuedAt, salt } = parsed.token);
  const token = replay(i);
  if (token !== expected) {
    console.error(`token ${i} differs from agora-token's:\n  ${token}\n  ${expected}`);
    process.exit(1);
  }
  identical++;
}

const agoraMedian = median(agoraRounds);
const ourMedian = median(ourRounds);
const speedUp = agoraMedian / ourMedian;
const list = (values: number[]) => values.map((value) => value.toFixed(1)).join(", ");
console.log(
  `machine: ${cpus()[0]?.model ?? "unknown"} (${cpus().length} cores), Node ${process.version}`,
);
console.log(
  `${ROUNDS} interleaved rounds of ${ITERATIONS} RTC publisher tokens each (median), ${ACCOUNTS.length} accounts`,
);
console.log("");
console.log("| minting | µs per token (median) | rounds |");
console.log("|---|---:|---|");
console.log(`| agora-token RtcTokenBuilder | ${agoraMedian.toFixed(2)} | ${list(agoraRounds)} |`);
console.log(`| this service (validate + mint) | ${ourMedian.toFixed(2)} | ${list(ourRounds)} |`);
console.log("");
console.log(
  `speed-up ${speedUp.toFixed(2)}× (goal ≥ ${GOAL}×: ${speedUp >= GOAL ? "met" : `not met, ${(GOAL / speedUp).toFixed(2)}× short`})`,
);
console.log(`byte-identical to agora-token: ${identical} of ${identical} tokens`);
