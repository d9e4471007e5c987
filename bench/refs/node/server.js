// The node-soap reference server: the contract's operations on node's `soap`
// package, as its users write them (soap.listen with the committed WSDL), in a
// cluster of worker processes sharing one port.
// Usage: node server.js WSDL PORT WORKERS; the primary prints "listening on PORT".
"use strict";
const cluster = require("cluster");
const crypto = require("crypto");
const fs = require("fs");
const http = require("http");
const soap = require("soap");

const [wsdlPath, port, workers] = process.argv.slice(2);

function operations() {
  const greet = ({ name }) => ({ GreetResult: `Hello, ${name}!` });
  const time = (args) => {
    // an empty <GetTime/> arrives as null, not as an object
    const timezone = args && args.timezone;
    const now = new Date();
    return { GetTimeResult: { utc: now, local: now, timezone: timezone || "UTC" } };
  };
  const echo = ({ person }) => ({ EchoPersonResult: person });
  const upload = ({ content }) => {
    const bytes = Buffer.from(content, "base64");
    return {
      UploadImageResult: {
        image_id: "0",
        sha256: crypto.createHash("sha256").update(bytes).digest("hex"),
        size_bytes: bytes.length,
        format: "png",
        width: 0,
        height: 0,
        received_at: new Date(),
      },
    };
  };
  const ops = { Greet: greet, GetTime: time, EchoPerson: echo, UploadImage: upload };
  return { SoapService: { SoapServiceSoap11: ops, SoapServiceSoap12: ops } };
}

if (cluster.isPrimary) {
  // Port 0 would give each worker its own port: pick a free one here first.
  const probe = http.createServer();
  probe.listen(Number(port), "127.0.0.1", () => {
    const chosen = probe.address().port;
    probe.close(() => {
      let ready = 0;
      for (let i = 0; i < Number(workers); i++) {
        cluster.fork({ BENCH_PORT: String(chosen) }).on("message", () => {
          if (++ready === Number(workers)) console.log(`listening on ${chosen}`);
        });
      }
    });
  });
} else {
  const wsdl = fs.readFileSync(wsdlPath, "utf8");
  const server = http.createServer((req, res) => {
    res.statusCode = 404;
    res.end();
  });
  server.keepAliveTimeout = 60000;
  server.listen(Number(process.env.BENCH_PORT), "127.0.0.1", () => {
    const services = operations();
    soap.listen(server, { path: "/soap", services, xml: wsdl });
    soap.listen(server, { path: "/soap12", services, xml: wsdl, forceSoap12Headers: true });
    process.send("ready");
  });
}
