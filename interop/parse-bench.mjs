// parse-bench.mjs measures the official @microsoft/signalr (10.0.11)
// JsonHubProtocol.parseMessages on the buffer sigr's BenchmarkDecode uses:
// 100 copies of a 130-byte chat invocation, each ended by 0x1E; then the
// official @microsoft/signalr-protocol-msgpack (10.0.11)
// MessagePackHubProtocol.parseMessages on the buffer of
// BenchmarkDecodeMessagePack: the same invocation as that protocol writes
// it, 100 length-prefixed copies. It prints `official msgs/s <rate>`, or
// with the argument msgpack `official-msgpack msgs/s <rate>`, the best of
// several timed rounds after a warm-up, so that the JIT has settled as it
// would in a long-lived client. Each protocol runs in a process of its
// own: one call site seeing both parsers would slow both down.
//
// Run: node interop/parse-bench.mjs [msgpack]   (or bash
// interop/bench-parse.sh for both parsers side by side)
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

const { MessagePackHubProtocol } = require("@microsoft/signalr-protocol-msgpack");

const logger = NullLogger.instance;
const roundMs = Number(process.env.ROUND_MS || 1000);
const rounds = Number(process.env.ROUNDS || 5);

// best returns the best rate of parse(input) over the rounds, in messages
// per second, after checking that every record parses to the invocation.
function best(protocol, input) {
  const run = (iterations) => {
    let n = 0;
    for (let i = 0; i < iterations; i++) {
      n += protocol.parseMessages(input, logger).length;
    }
    return n;
  };
  const first = protocol.parseMessages(input, logger);
  if (first.length !== copies || first[0].target !== "newMessage" || first[0].arguments[0].sender !== "alice") {
    console.error("parse-bench: unexpected parse result");
    process.exit(1);
  }
  run(2000); // warm-up
  let top = 0;
  for (let r = 0; r < rounds; r++) {
    let messages = 0;
    const start = process.hrtime.bigint();
    let elapsedNs = 0n;
    while (elapsedNs < BigInt(roundMs) * 1000000n) {
      messages += run(100);
      elapsedNs = process.hrtime.bigint() - start;
    }
    const rate = messages / (Number(elapsedNs) / 1e9);
    if (rate > top) top = rate;
  }
  return top;
}

if (process.argv[2] !== "msgpack") {
  const rate = best(new JsonHubProtocol(), buffer);
  console.log(
    `official msgs/s ${Math.round(rate)} (@microsoft/signalr ${VERSION}, node ${process.version}, ${buffer.length}-char buffer of ${copies} records)`,
  );
  process.exit(0);
}

const mp = new MessagePackHubProtocol();
const one = new Uint8Array(
  mp.writeMessage({
    type: 1,
    headers: {},
    target: "newMessage",
    arguments: [{ sender: "alice", text: "hello world, this is a chat message", ts: 1732800000000 }],
    streamIds: [],
  }),
);
const mpBuffer = new Uint8Array(one.length * copies);
for (let i = 0; i < copies; i++) mpBuffer.set(one, i * one.length);
const mpRate = best(mp, mpBuffer.buffer);
console.log(
  `official-msgpack msgs/s ${Math.round(mpRate)} (@microsoft/signalr-protocol-msgpack ${VERSION}, ${mpBuffer.length}-byte buffer of ${copies} records)`,
);
