// parse-bench.mjs measures the official @microsoft/signalr (10.0.11)
// JsonHubProtocol.parseMessages on the buffer sigr's BenchmarkDecode uses:
// 100 copies of a 130-byte chat invocation, each ended by 0x1E. It prints
// one line, `official msgs/s <rate>`, the best of several timed rounds after
// a warm-up, so that the JIT has settled as it would in a long-lived client.
//
// Run: node interop/parse-bench.mjs   (or bash interop/bench-parse.sh for
// both parsers side by side)
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
// The package has no "exports" map and its dist/esm build is not marked as
// ES modules, so the CommonJS build is the one Node loads directly.
const { JsonHubProtocol } = require("@microsoft/signalr/dist/cjs/JsonHubProtocol.js");
const { NullLogger } = require("@microsoft/signalr/dist/cjs/Loggers.js");
const { VERSION } = require("@microsoft/signalr/dist/cjs/Utils.js");

const record =
  '{"type":1,"target":"newMessage","arguments":[{"sender":"alice","text":"hello world, this is a chat message","ts":1732800000000}]}';
const copies = 100;
const buffer = (record + "\x1e").repeat(copies);

const protocol = new JsonHubProtocol();
const logger = NullLogger.instance;

function run(iterations) {
  let n = 0;
  for (let i = 0; i < iterations; i++) {
    n += protocol.parseMessages(buffer, logger).length;
  }
  return n;
}

// Sanity check: every record parses to the invocation.
const first = protocol.parseMessages(buffer, logger);
if (first.length !== copies || first[0].target !== "newMessage" || first[0].arguments[0].sender !== "alice") {
  console.error("parse-bench: unexpected parse result");
  process.exit(1);
}

const roundMs = Number(process.env.ROUND_MS || 1000);
const rounds = Number(process.env.ROUNDS || 5);
run(2000); // warm-up

let best = 0;
for (let r = 0; r < rounds; r++) {
  let iterations = 0;
  let messages = 0;
  const start = process.hrtime.bigint();
  let elapsedNs = 0n;
  while (elapsedNs < BigInt(roundMs) * 1000000n) {
    messages += run(100);
    iterations += 100;
    elapsedNs = process.hrtime.bigint() - start;
  }
  const rate = messages / (Number(elapsedNs) / 1e9);
  if (rate > best) best = rate;
}

console.log(
  `official msgs/s ${Math.round(best)} (@microsoft/signalr ${VERSION}, node ${process.version}, ${buffer.length}-char buffer of ${copies} records)`,
);
