// The baseline: a minimal node:http server that mints with agora-token and nothing else (no
// validation, logging, metrics or auth). The benchmark drives it with the same load as ours.
import { createServer } from "node:http";
import agoraToken from "agora-token";

const { RtcRole, RtcTokenBuilder } = agoraToken;
const appId = process.env.APP_ID ?? "970CA35de60c44645bbae8a215061b33";
const appCertificate = process.env.APP_CERTIFICATE ?? "5CFd2fd1755d40ecb72977518be15d3b";

const server = createServer((req, res) => {
  if (req.method !== "POST" || req.url !== "/getToken") {
    res.writeHead(404).end();
    return;
  }
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    const body = JSON.parse(Buffer.concat(chunks).toString());
    const role = body.role === "publisher" ? RtcRole.PUBLISHER : RtcRole.SUBSCRIBER;
    const expire = body.expire || 3600;
    const token = RtcTokenBuilder.buildTokenWithUserAccount(
      appId,
      appCertificate,
      body.channel,
      String(body.uid),
      role,
      expire,
      expire,
    );
    const json = JSON.stringify({ token });
    res.writeHead(200, {
      "Content-Type": "application/json",
      "Content-Length": Buffer.byteLength(json),
    });
    res.end(json);
  });
});
server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  console.log(JSON.stringify({ port: server.address().port }));
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
